"""Background jobs of ``dashapp worker``, coordinated through the database.

Two kinds of work:

* queues drained in batches: rollup refresh claims pending (series, hour) rows (see
  :func:`db.tsdb.rollups.refresh`); every batch is one transaction, so several workers
  share the queue and a dead worker's claimed hours come back when its transaction
  aborts;
* periodic jobs (:class:`PeriodicJob`: compaction, retention, session pruning as they
  arrive): a worker claims a due job by moving its ``next_run_at`` forward in the very
  transaction that runs it. On PostgreSQL the claim skips a job another worker is
  running (``FOR UPDATE SKIP LOCKED``); SQLite has one writer at a time anyway. A
  *batched* job (compaction) commits its claim first, then works in short transactions
  until it reports nothing left, so a backlog never holds SQLite's one write lock for
  long (:mod:`db.pacing`).

Nothing here runs inside a web request; readers never wait for it (queries fall back
to raw points for hours still pending).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dashapp.core.timerange import floor_time
from db import pacing, sessions, storage_jobs, tsdb
from db.engine import database, dialect_insert
from db.models import WorkerJobRow
from db.types import utcnow

EPOCH_START = datetime(1970, 1, 1)


@dataclass(frozen=True)
class PeriodicJob:
    """A job run at most once per ``every`` across all workers; ``run`` returns a count
    of what it did and must do its work in the session it is given (one transaction).

    ``batched``: ``run`` does one slice of the work and returns 0 once nothing is left;
    it is called again, each time in a new transaction, for up to :data:`PASS_SECONDS`.
    """

    name: str
    every: timedelta
    run: Callable[[Session], int]
    batched: bool = False


PASS_SECONDS = 30.0
"""How long a batched job works in one pass before the worker turns to its other work
(the job stays due and goes on in the next pass)."""

PERIODIC_JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob("compaction", timedelta(minutes=1), storage_jobs.compact_job, batched=True),
    PeriodicJob("partitions", timedelta(hours=1), storage_jobs.partitions_job),
    PeriodicJob("retention", timedelta(hours=1), storage_jobs.retention_job),
    PeriodicJob("prune-sessions", timedelta(hours=1), sessions.prune_expired),
)
"""Jobs every worker offers to run."""


SETTLE = timedelta(minutes=1)
"""How long after an hour ends the worker waits before rolling it up."""


def refresh_rollups(
    batch: int = 2000, max_batches: int | None = None, now: datetime | None = None
) -> int:
    """Refresh pending rollups of closed hours, ``batch`` series-hours per transaction,
    until none are left (or ``max_batches`` ran); returns the series-hours refreshed.

    The hour being written (and the one that ended less than :data:`SETTLE` ago) is left
    pending: agents dirty it again every few seconds, so rolling it up would redo an
    hour of points per pass and hold the queue rows their writes wait for. Readers get
    it from raw points meanwhile, which for one hour is cheap.

    On SQLite batches are smaller (:data:`SQLITE_ROLLUP_BATCH`) and each commit is
    followed by a pause for waiting writers (:mod:`db.pacing`).
    """
    before = floor_time((now or utcnow()) - SETTLE, tsdb.HOUR)
    if pacing.one_writer(database.engine):
        batch = min(batch, SQLITE_ROLLUP_BATCH)
    done = 0
    batches = 0
    while max_batches is None or batches < max_batches:
        with database.transaction() as session:
            count = tsdb.refresh_rollups(session, limit=batch, before=before)
        if not count:
            break
        done += count
        batches += 1
        pacing.pause(database.engine)
    return done


SQLITE_ROLLUP_BATCH = 100
"""Series-hours per rollup transaction on SQLite: a fraction of a second of work."""


def claim_due(session: Session, job: PeriodicJob, now: datetime | None = None) -> bool:
    """Claim ``job`` if it is due: its next run moves ``every`` ahead in this transaction.

    False when it is not due or another worker holds it right now. The claim is undone
    if the transaction rolls back (the job failed, or its worker died).
    """
    now = now or utcnow()
    insert = dialect_insert(session, WorkerJobRow.__table__).on_conflict_do_nothing(
        index_elements=["name"]
    )
    session.execute(insert, [{"name": job.name, "next_run_at": EPOCH_START, "runs": 0}])
    due = (
        select(WorkerJobRow.name)
        .where(WorkerJobRow.name == job.name, WorkerJobRow.next_run_at <= now)
        .with_for_update(skip_locked=True)
    )
    claimed = session.execute(
        update(WorkerJobRow)
        .where(WorkerJobRow.name.in_(due))
        .values(next_run_at=now + job.every, last_run_at=now, runs=WorkerJobRow.runs + 1)
        .returning(WorkerJobRow.name)
    ).first()
    return claimed is not None


def run_due_jobs(jobs: Sequence[PeriodicJob] = PERIODIC_JOBS) -> dict[str, int]:
    """Run every job of ``jobs`` that is due and not held by another worker, each in its
    own transaction (a batched job in several); returns what each job that ran reported."""
    results = {}
    for job in jobs:
        if job.batched:
            result = _run_batched(job)
            if result is None:
                continue
        else:
            with database.transaction() as session:
                if not claim_due(session, job):
                    continue
                result = job.run(session)
                _record(session, job, result)
        results[job.name] = result
    return results


def _run_batched(job: PeriodicJob) -> int | None:
    """Claim ``job`` (committed at once), then run its slices, one transaction each, with
    a pause for waiting writers after each on SQLite; None when it was not due.

    A worker dying meanwhile keeps the slices it committed (each leaves the data whole);
    the job runs again when next due. Past :data:`PASS_SECONDS` with work left, it is
    made due again at once, for the next pass.
    """
    with database.transaction() as session:
        if not claim_due(session, job):
            return None
    total, started = 0, time.monotonic()
    while True:
        with database.transaction() as session:
            done = job.run(session)
        total += done
        if not done:
            break
        pacing.pause(database.engine)
        if time.monotonic() - started > PASS_SECONDS:
            with database.transaction() as session:
                session.execute(
                    update(WorkerJobRow).where(WorkerJobRow.name == job.name)
                    .values(next_run_at=utcnow())
                )  # fmt: skip
            break
    with database.transaction() as session:
        _record(session, job, total)
    return total


def _record(session: Session, job: PeriodicJob, result: int) -> None:
    session.execute(
        update(WorkerJobRow).where(WorkerJobRow.name == job.name).values(last_result=result)
    )
