"""The storage jobs of ``dashapp worker``, each ``(session) -> int`` in one transaction.

They read the app's settings (``COMPACT_AFTER``, ``RETENTION``, ``RETENTION_RULES``)
from the current app, so the worker can list them as periodic jobs as they are::

    PeriodicJob("compaction", timedelta(minutes=1), storage_jobs.compact_job)
    PeriodicJob("partitions", timedelta(hours=1), storage_jobs.partitions_job)
    PeriodicJob("retention", timedelta(hours=1), storage_jobs.retention_job)
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from db import blockcache, pacing, tsdb

COMPACT_PER_RUN = 5_000
"""Series-days per transaction (at most ``tsdb.POINTS_PER_TRANSACTION`` points, and on
SQLite about ``pacing.SLICE_SECONDS`` of work): a fleet of 20,000 series closes 20,000 a
day, four transactions' worth."""


def _settings() -> Any:
    return current_app.extensions["dashapp.settings"]


def compact_job(session: Session) -> int:
    """One slice of compaction of closed days (points and rollups): a batched job, called
    until it returns 0; returns the points and rollup rows moved."""
    return tsdb.compact(
        session,
        delay=_settings().compaction_delay,
        limit=COMPACT_PER_RUN,
        deadline=pacing.slice_deadline(session),
    )


def partitions_job(session: Session) -> int:
    """Create daily partitions a week ahead, drop drained ones; returns how many changed."""
    created, dropped = tsdb.maintain_partitions(session, delay=_settings().compaction_delay)
    return created + dropped


def retention_job(session: Session) -> int:
    """Drop chunks and rollups past their policy; returns how many rows went. Once the
    transaction commits, cached answers of the metrics that lost data are invalidated
    (else blocks cached for a day could still show it)."""
    touched: set[int] = set()
    dropped = tsdb.apply_retention(session, _settings().retention_policy, touched=touched)
    names = tsdb.metric_names(session, touched)
    if names:
        event.listen(session, "after_commit", lambda _: blockcache.mark_dropped(names), once=True)
    return dropped
