"""Rollups under concurrency, on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import delete
from sqlalchemy.orm import Session

from dashapp.extensions import database
from db.tsdb import metrics, rollups
from db.tsdb.models import RollupPendingRow, RollupRow
from tests.conftest import empty_tables, make_app

T0 = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture
def app(postgresql_database: str) -> Iterator[Flask]:
    empty_tables(postgresql_database)
    application = make_app(postgresql_database)
    with application.app_context():
        yield application
    application.extensions["dashapp.db"].engine.dispose()


def test_a_write_racing_a_refresh_is_never_lost(app: Flask) -> None:
    """An ingest adds a point to an hour already queued; a refresh starts before the ingest
    commits. The ingest's queue entry locks the hour, so the refresh skips it without
    waiting (``SKIP LOCKED``); the hour stays queued and the next refresh rolls up the new
    point too. (PostgreSQL only: SQLite runs one writer at a time.)"""
    key = metrics.series_key("race", "h", {})
    with database.transaction() as session:
        sid = metrics.resolve_series(session, [key])[key]
        metrics.write_points(session, [(sid, T0, 1.0)])  # (sid, T0's hour) is now queued
    writer = Session(database.engine)
    writer.begin()
    metrics.write_points(writer, [(sid, T0 + timedelta(minutes=5), 100.0)])  # not committed
    refreshed: list[int] = []

    def refresh() -> None:
        with app.app_context(), database.transaction() as session:
            refreshed.append(rollups.refresh(session))

    refresher = threading.Thread(target=refresh)
    refresher.start()
    refresher.join(timeout=10)
    alive = refresher.is_alive()
    writer.commit()
    writer.close()
    refresher.join(timeout=10)
    assert not alive and refreshed == [0]  # skipped the locked hour, did not wait
    with database.transaction() as session:
        assert rollups.refresh(session) == 1
    with database.transaction() as session:
        row = session.get(RollupRow, (sid, 3600, T0))
        assert rollups.refresh(session) == 0
    assert (row.count, row.sum) == (2, 101.0)


def test_a_write_into_an_hour_being_refreshed_queues_it_again(app: Flask) -> None:
    """A refresh has claimed (deleted, not yet committed) a queued hour when an ingest
    writes into it: the ingest waits for the refresh to commit and queues the hour again,
    so its point is rolled up by the next refresh."""
    key = metrics.series_key("race", "h", {})
    with database.transaction() as session:
        sid = metrics.resolve_series(session, [key])[key]
        metrics.write_points(session, [(sid, T0, 1.0)])
    claimer = Session(database.engine)
    claimer.begin()
    claimer.execute(delete(RollupPendingRow).where(RollupPendingRow.series_id == sid))
    done = threading.Event()

    def ingest() -> None:
        with app.app_context(), database.transaction() as session:
            metrics.write_points(session, [(sid, T0 + timedelta(minutes=7), 50.0)])
        done.set()

    writer = threading.Thread(target=ingest)
    writer.start()
    assert not done.wait(timeout=1)  # waits for the refresh holding the hour
    claimer.commit()
    claimer.close()
    writer.join(timeout=10)
    assert done.is_set()
    with database.transaction() as session:
        assert rollups.refresh(session) == 1
    with database.transaction() as session:
        row = session.get(RollupRow, (sid, 3600, T0))
    assert (row.count, row.sum) == (2, 51.0)
