"""``dashapp worker``: background jobs run once across several workers, a dead worker's
work is retaken, and readers get right numbers before, during and after a refresh."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from dashapp import worker
from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange
from dashapp.extensions import database
from db import jobs
from db.tsdb import metrics, rollups
from db.tsdb import query as engine
from db.tsdb.models import RollupPendingRow, RollupRow
from tests.conftest import empty_tables, make_app

T0 = datetime(2026, 3, 2, tzinfo=UTC)
HOURS = 12


def store(series: int = 4, hours: int = HOURS) -> list[int]:
    """``series`` series with a point every minute for ``hours`` hours (exact values)."""
    keys = [metrics.series_key("load", f"h{i}", {}) for i in range(series)]
    with database.transaction() as session:
        ids = metrics.resolve_series(session, keys)
        rows = [
            (sid, T0 + timedelta(minutes=m), float((m * 7 + n) % 50))
            for n, sid in enumerate(ids.values())
            for m in range(hours * 60)
        ]
        metrics.write_points(session, rows)
    return list(ids.values())


def pending() -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(RollupPendingRow)) or 0


def answer() -> engine.QueryResult:
    window = TimeRange(T0, T0 + timedelta(hours=HOURS))
    with database.transaction() as session:
        return engine.query(session, Query(metric="load", agg="avg", group_by=["source"]),
                            window, HOURS)  # fmt: skip


@pytest.fixture
def pg_app(postgresql_database: str) -> Iterator[Flask]:
    empty_tables(postgresql_database)
    application = make_app(postgresql_database)
    with application.app_context():
        yield application
    application.extensions["dashapp.db"].engine.dispose()


def test_one_pass_refreshes_every_pending_hour(app: Flask) -> None:
    with app.app_context():
        store()
        assert pending() == 4 * HOURS
        raw = answer()
        assert raw.source == "points"
        report = worker.run_pass(batch=5)
        assert report.rollup_hours == 4 * HOURS and pending() == 0
        rolled = answer()
        assert rolled.source == "rollups (3600 s)"
        assert rolled.series == raw.series
        assert worker.run_pass().idle


def test_the_cli_runs_one_pass(app: Flask) -> None:
    with app.app_context():
        store(series=1, hours=2)
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "refreshed 2 series-hours" in result.output
    with app.app_context():
        assert pending() == 0


def test_two_workers_refresh_each_hour_once(pg_app: Flask) -> None:
    store(series=8, hours=24)
    expected = answer()
    done: list[int] = []

    def work() -> None:
        with pg_app.app_context():
            done.append(jobs.refresh_rollups(batch=7))

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(done) == 8 * 24 and pending() == 0
    with database.transaction() as session:
        rows = session.scalar(
            select(func.count()).select_from(RollupRow).where(RollupRow.level == 3600)
        )
    assert rows == 8 * 24
    assert answer().series == expected.series


def test_a_killed_workers_hours_are_retaken(pg_app: Flask) -> None:
    store(series=2, hours=3)
    expected = answer()
    dying = Session(database.engine)
    dying.begin()
    assert rollups.refresh(dying, limit=4) == 4  # claimed, rebuilding, not committed
    backend = dying.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar()
    # Another worker meanwhile takes only what nobody holds, without waiting.
    assert jobs.refresh_rollups(batch=100) == 2
    # The first worker dies: its transaction aborts and its hours are pending again.
    with database.transaction() as session:
        session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    dying.invalidate()
    dying.close()
    deadline = time.monotonic() + 10
    while pending() != 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert jobs.refresh_rollups(batch=100) == 4
    assert pending() == 0 and answer().series == expected.series


def test_reads_during_a_refresh_are_right(pg_app: Flask) -> None:
    store(series=3, hours=4)
    expected = answer()
    refresher = Session(database.engine)
    refresher.begin()
    assert rollups.refresh(refresher) == 12  # rollups written, queue emptied: uncommitted
    during = answer()
    assert during.source == "points" and during.series == expected.series
    refresher.commit()
    refresher.close()
    after = answer()
    assert after.source == "rollups (3600 s)" and after.series == expected.series


def test_a_periodic_job_runs_once_across_workers_and_is_retaken_after_a_failure(
    pg_app: Flask,
) -> None:
    runs: list[str] = []
    started = threading.Event()
    fail = {"next": False}

    def slow(session: Session) -> int:
        started.set()
        if fail["next"]:
            fail["next"] = False
            raise RuntimeError("worker died mid-job")
        time.sleep(0.5)
        runs.append("ran")
        return 7

    job = jobs.PeriodicJob("test-slow", timedelta(hours=1), slow)
    results: list[dict[str, int]] = []

    def work() -> None:
        with pg_app.app_context():
            results.append(jobs.run_due_jobs([job]))

    first = threading.Thread(target=work)
    first.start()
    assert started.wait(10)
    work()  # the second worker finds the job held and moves on at once
    first.join(timeout=10)
    assert runs == ["ran"] and sorted(map(len, results)) == [0, 1]
    assert jobs.run_due_jobs([job]) == {}  # not due again for an hour

    other = jobs.PeriodicJob("test-failing", timedelta(hours=1), slow)
    fail["next"] = True
    with pytest.raises(RuntimeError):
        jobs.run_due_jobs([other])
    assert jobs.run_due_jobs([other]) == {"test-failing": 7}  # the claim was rolled back


def test_the_hour_being_written_waits_until_it_has_closed(app: Flask) -> None:
    now = datetime.now(UTC)
    key = metrics.series_key("live", "h", {})
    with app.app_context():
        with database.transaction() as session:
            sid = metrics.resolve_series(session, [key])[key]
            metrics.write_points(session, [(sid, now - timedelta(hours=2), 1.0), (sid, now, 2.0)])
        assert jobs.refresh_rollups() == 1 and pending() == 1  # the current hour stays queued
        assert jobs.refresh_rollups(now=now + timedelta(hours=1, minutes=2)) == 1
        assert pending() == 0
