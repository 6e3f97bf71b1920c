"""Daily partitions of metric_points on PostgreSQL (SQLite keeps one table)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from dashapp.extensions import database
from db.tsdb import compaction, metrics, partitions
from tests.conftest import empty_tables, make_app

DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def context(postgresql_database: str) -> Iterator[None]:
    empty_tables(postgresql_database)
    with make_app(postgresql_database).app_context():
        yield


def partition_of(sid: int, ts: datetime) -> str:
    with database.transaction() as session:
        return session.execute(
            text(
                "SELECT tableoid::regclass::text FROM metric_points "
                "WHERE series_id = :s AND ts = :t"
            ),
            {"s": sid, "t": ts},
        ).scalar_one()


def test_copy_ingest_lands_in_daily_partitions_that_compaction_drains_and_maintenance_drops() -> (
    None
):
    day = datetime(2026, 5, 1, tzinfo=UTC)
    with database.transaction() as session:
        assert partitions.is_partitioned(session)
        assert partitions.ensure(session, day, day + 2 * DAY) == 2
        assert partitions.ensure(session, day, day + 2 * DAY) == 0
        sid = metrics.resolve_series(session, [metrics.series_key("cpu", "h", {})])
        (sid,) = sid.values()
        metrics.write_points(
            session, [(sid, day + timedelta(minutes=m), 1.0) for m in range(0, 2880, 5)]
        )
        metrics.write_points(session, [(sid, day, 2.0)])  # a retry: the upsert path
    assert partition_of(sid, day) == "metric_points_p20260501"
    assert partition_of(sid, day + DAY) == "metric_points_p20260502"
    with database.transaction() as session:  # nothing drained yet: nothing dropped
        assert partitions.drop_drained(session, day + 3 * DAY) == 0
        compaction.compact(session, now=day + DAY + timedelta(hours=2), limit=100)
    with database.transaction() as session:
        assert partitions.drop_drained(session, day + 3 * DAY) == 1  # the 1st, drained
        assert set(partitions.partitions(session)) >= {day + DAY}
        assert day not in partitions.partitions(session)
        metrics.write_points(session, [(sid, day + timedelta(seconds=1), 3.0)])  # late
    assert partition_of(sid, day + timedelta(seconds=1)) == "metric_points_default"
