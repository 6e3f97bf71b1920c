"""Retention drops exactly the chunks and rollups past their policy; daily partitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from dashapp.core.retention import parse_duration, parse_policy, parse_retention
from dashapp.core.timerange import TimeRange
from dashapp.extensions import database
from dashapp.settings import ConfigError, load_settings
from db import storage_jobs
from db.tsdb import compaction, metrics, retention, rollup_chunks, rollups
from db.tsdb.models import ChunkRow, RollupChunkRow, RollupRow
from tests.conftest import make_app

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)
ALL = TimeRange(datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))


def test_policies_parse_with_overrides_by_longest_prefix() -> None:
    rules = parse_retention(
        "raw:30d,1m:180d,1h:5y", "debug.=raw:7d,1m:30d; debug.keep.=raw:forever"
    )
    assert rules.default.describe() == {"raw": "30d", "1m": "180d", "1h": "5y"}
    assert rules.policy_for("cpu").describe() == {"raw": "30d", "1m": "180d", "1h": "5y"}
    assert rules.policy_for("debug.x").describe() == {"raw": "7d", "1m": "30d", "1h": "5y"}
    assert rules.policy_for("debug.keep.x").describe() == {
        "raw": "forever",
        "1m": "180d",
        "1h": "5y",
    }
    assert parse_policy("raw:36h").describe() == {"raw": "36h", "1m": "forever", "1h": "forever"}
    assert parse_duration("90s") == timedelta(seconds=90) and parse_duration("forever") is None


@pytest.mark.parametrize(
    ("default", "rules"),
    [("raw:30", ""), ("hot:30d", ""), ("raw:0d", ""), ("", "debug.raw:7d"), ("", "=raw:7d")],
)
def test_invalid_policies_are_refused_at_startup(default: str, rules: str) -> None:
    with pytest.raises(ConfigError, match="RETENTION"):
        load_settings({"RETENTION": default or "raw:30d", "RETENTION_RULES": rules})


@pytest.fixture
def context(app: Flask):  # type: ignore[no-untyped-def]
    with app.app_context():
        yield


def store_days(names: list[str], days_ago: list[int]) -> dict[str, int]:
    """One point an hour for each name on each of those days, compacted and rolled up."""
    keys = {name: metrics.series_key(name, "h", {}) for name in names}
    with database.transaction() as session:
        ids = metrics.resolve_series(session, list(keys.values()))
        metrics.write_points(session, [
            (ids[key], NOW.replace(hour=0) - DAY * ago + timedelta(hours=h), float(h))
            for key in keys.values() for ago in days_ago for h in range(24)
        ])  # fmt: skip
        rollups.refresh(session)
    with database.transaction() as session:
        compaction.compact(session, now=NOW, limit=10_000)
    return {name: ids[key] for name, key in keys.items()}


def chunk_days(sid: int) -> list[int]:
    with database.transaction() as session:
        starts = session.scalars(select(ChunkRow.window_start).where(ChunkRow.series_id == sid))
        return sorted((NOW.replace(hour=0) - start).days for start in starts)


def hourly_days(sid: int) -> list[int]:
    """The days (ago, before NOW's) that a read of the hourly rollups still returns."""
    with database.transaction() as session:
        source = rollup_chunks.rollup_source(session, 3600, [(sid, ALL.start, ALL.end)])
        times = session.scalars(select(source.c.ts)).all()
    return sorted({(NOW.replace(hour=0) - ts.replace(hour=0)).days for ts in times})


@pytest.mark.usefixtures("context")
def test_retention_drops_exactly_the_chunks_and_rollups_past_their_policy() -> None:
    ids = store_days(["cpu", "debug.x", "debug.keep.y"], [40, 31, 30, 29, 8, 6, 1])
    policy = parse_retention(
        "raw:30d,1m:10d,1h:35d", "debug.=raw:7d,1m:2d,1h:564h;debug.keep.=raw:forever,1h:565h"
    )
    with database.transaction() as session:
        dropped = retention.apply(session, policy, now=NOW)
    # A day goes once all of it is past: 30 days ago ended 29.5 days before NOW.
    assert chunk_days(ids["cpu"]) == [1, 6, 8, 29, 30]
    assert chunk_days(ids["debug.x"]) == [1, 6]
    assert chunk_days(ids["debug.keep.y"]) == [1, 6, 8, 29, 30, 31, 40]
    with database.transaction() as session:
        kept = session.execute(
            select(RollupChunkRow.series_id, RollupChunkRow.level, RollupChunkRow.window_start)
        ).all()
        assert session.execute(select(RollupRow.series_id)).first() is None  # all compacted
    days: dict[tuple[int, int], list[int]] = {}
    for sid, level, start in kept:
        days.setdefault((sid, level), []).append((NOW.replace(hour=0) - start).days)
    assert sorted(days[(ids["cpu"], 60)]) == [1, 6, 8]
    assert sorted(days[(ids["debug.x"], 60)]) == [1]
    # Hourly rollups live in 30-day windows (2026-01-07 to 02-06, 02-06 to 03-08: 53 and
    # 23 days before NOW's day), dropped only once a whole window is past the policy.
    # 35 days: the older window ended 23.5 days before NOW, so day 40 outlives its policy.
    assert sorted(days[(ids["cpu"], 3600)]) == [23, 53]
    assert hourly_days(ids["cpu"]) == [1, 6, 8, 29, 30, 31, 40]
    # 564 hours (23.5 days): the older window ended exactly at the horizon, so it goes.
    assert sorted(days[(ids["debug.x"], 3600)]) == [23]
    assert hourly_days(ids["debug.x"]) == [1, 6, 8]
    # 565 hours: it ends an hour after the horizon, so it stays, all of it.
    assert sorted(days[(ids["debug.keep.y"], 3600)]) == [23, 53]
    assert hourly_days(ids["debug.keep.y"]) == [1, 6, 8, 29, 30, 31, 40]
    assert dropped > 0
    with database.transaction() as session:
        assert retention.apply(session, policy, now=NOW) == 0  # nothing left to drop


@pytest.mark.usefixtures("context")
def test_a_late_rollup_row_stays_and_goes_with_its_window() -> None:
    """A late point refreshes an hour of a window kept past its policy: the refreshed
    hourly row stays with the window (a read shows the new value, not the chunk's older
    one); the 1-minute row of a day past its policy goes with that day."""
    ids = store_days(["cpu"], [40, 1])
    hour = NOW.replace(hour=0) - DAY * 40 + timedelta(hours=5)
    with database.transaction() as session:
        metrics.write_points(session, [(ids["cpu"], hour + timedelta(minutes=30), 1000.0)])
        rollups.refresh(session)
    with database.transaction() as session:
        retention.apply(session, parse_retention("raw:forever,1m:10d,1h:35d"), now=NOW)

    def highest(level: int) -> list[float]:
        with database.transaction() as session:
            source = rollup_chunks.rollup_source(session, level, [(ids["cpu"], ALL.start, ALL.end)])
            found = select(source.c.max).where(source.c.ts >= hour, source.c.ts < hour + DAY / 24)
            return list(session.scalars(found))

    assert highest(3600) == [1000.0]
    assert highest(60) == []


def test_the_catalog_says_how_far_back_each_series_reaches(database_url: str) -> None:
    app = make_app(database_url, RETENTION_RULES="debug.=raw:7d,1m:2d")
    with app.app_context():
        ids = store_days(["cpu", "debug.x"], [3, 1])
        with database.transaction() as session:  # a hot point, newer than the chunks
            metrics.write_points(session, [(ids["cpu"], NOW, 5.0)])
    items = app.test_client().get("/api/v1/metrics").get_json()["items"]
    by_name = {item["name"]: item for item in items}
    assert by_name["cpu"]["retention"] == {"raw": "30d", "1m": "180d", "1h": "5y"}
    assert by_name["debug.x"]["retention"] == {"raw": "7d", "1m": "2d", "1h": "5y"}
    oldest = (NOW.replace(hour=0) - 3 * DAY).isoformat().replace("+00:00", "Z")
    assert by_name["cpu"]["oldest_timestamp"] == oldest
    assert by_name["cpu"]["last_value"] == 5.0
    assert by_name["debug.x"]["last_timestamp"].startswith("2026-02-28T23:00")
    one = app.test_client().get(f"/api/v1/metrics/{ids['debug.x']}").get_json()
    assert one["oldest_timestamp"] == oldest and one["retention"]["raw"] == "7d"


def test_worker_jobs_follow_the_apps_settings(database_url: str) -> None:
    app = make_app(
        database_url, RETENTION="raw:900d,1m:900d,1h:900d", RETENTION_RULES="debug.=raw:30d"
    )
    with app.app_context():
        ids = store_days(["cpu", "debug.x"], [2, 1])
        with database.transaction() as session:  # a late point into a compacted day
            metrics.write_points(session, [(ids["cpu"], NOW - DAY, 7.0)])
        with database.transaction() as session:
            assert storage_jobs.compact_job(session) == 1
        with database.transaction() as session:
            assert storage_jobs.retention_job(session) == 2  # debug.x's two days, long past
            assert storage_jobs.partitions_job(session) >= 0
        assert chunk_days(ids["cpu"]) == [1, 2] and chunk_days(ids["debug.x"]) == []
