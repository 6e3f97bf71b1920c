"""The worker shares SQLite's one write lock: while it compacts a backlog, a writer (the
demo feeder, an agent's ingest) waits about a second at most, never the whole backlog.

On a fresh ``make run`` the worker's first pass compacts the seeded week (over a
million points): in one transaction that held the lock for 12-37 s, past SQLite's busy
timeout, and the feeder died. Each writer here is one short transaction, as an ingest.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from dashapp.extensions import database
from db import jobs, pacing
from db.tsdb import metrics
from db.tsdb.models import ChunkRow, PointRow
from tests.conftest import bearer, empty_tables, make_app

DAY0 = datetime(2026, 3, 1, tzinfo=UTC)
SERIES, DAYS, STEP = 24, 2, timedelta(seconds=10)
COMPACTION = next(job for job in jobs.PERIODIC_JOBS if job.name == "compaction")


@pytest.fixture
def sqlite_app(sqlite_database: str) -> Iterator[Flask]:
    empty_tables(sqlite_database)
    application = make_app(sqlite_database)
    with application.app_context():
        yield application


def _backlog() -> int:
    """``DAYS`` closed days of ``SERIES`` series at 10 s, as the demo seeds them."""
    keys = [metrics.series_key("cpu.usage", f"host-{n}", {}) for n in range(SERIES)]
    steps = int(timedelta(days=DAYS) / STEP)
    with database.transaction() as session:
        ids = list(metrics.resolve_series(session, keys).values())
    for sid in ids:
        with database.transaction() as session:
            metrics.write_points(
                session, [(sid, DAY0 + i * STEP, float(i % 97)) for i in range(steps)]
            )
    return len(ids) * steps


def _count(model: type) -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_writer_waits_a_slice_not_the_whole_compaction(sqlite_app: Flask) -> None:
    total = _backlog()
    live = metrics.series_key("demo.live", "feeder", {})
    waits: list[float] = []
    finished = threading.Event()
    ran: dict[str, float] = {}

    def compact() -> None:
        with sqlite_app.app_context():
            started = time.monotonic()
            ran["moved"] = jobs.run_due_jobs([COMPACTION])["compaction"]
            ran["seconds"] = time.monotonic() - started
        finished.set()

    worker = threading.Thread(target=compact)
    worker.start()
    stamp = datetime.now(UTC)
    while not finished.is_set():  # the feeder: one small write after another
        began = time.monotonic()
        with database.transaction() as session:
            sid = metrics.resolve_series(session, [live])[live]
            metrics.write_points(session, [(sid, stamp, 1.0)])
        waits.append(time.monotonic() - began)
        stamp += timedelta(seconds=1)
        time.sleep(0.05)
    worker.join()
    assert ran["moved"] >= total and _count(PointRow) == len(waits)  # the backlog left hot rows
    assert _count(ChunkRow) == SERIES * DAYS
    # One transaction made the writer wait the whole compaction; a slice is about a second
    # (one more statement at most). The bound leaves room for a busy machine.
    longest = max(waits)
    assert longest < max(3 * pacing.SLICE_SECONDS, ran["seconds"] / 4), (longest, ran)
    assert len(waits) > 3


def test_an_ingest_outlasting_the_busy_timeout_is_retried_not_refused(
    sqlite_database: str,
) -> None:
    """Another writer holds the lock past the busy timeout: the request retries with
    backoff and stores its point, where it used to answer 503 and drop it."""
    empty_tables(sqlite_database)
    application = make_app(sqlite_database, SQLITE_BUSY_TIMEOUT=0.3)
    headers = bearer(application, "ingest")
    holder = sqlite3.connect(
        sqlite_database.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False
    )
    holder.execute("BEGIN IMMEDIATE")  # the write lock, as a long worker transaction holds it
    release = threading.Timer(1.0, lambda: holder.execute("COMMIT"))
    release.start()
    try:
        response = application.test_client().post(
            "/api/v1/metrics", json={"name": "cpu", "source": "a", "value": 1.0}, headers=headers
        )
    finally:
        release.join()
        holder.close()
    assert response.status_code == 201, response.get_data(as_text=True)
    with application.app_context():
        assert _count(PointRow) == 1


def test_busy_errors_are_told_from_others() -> None:
    assert pacing.is_busy(sqlite3.OperationalError("database is locked"))
    assert not pacing.is_busy(sqlite3.OperationalError("no such table: series"))
