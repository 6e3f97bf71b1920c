"""Rollups answer long-range queries exactly as raw points would."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange
from dashapp.extensions import database
from db.tsdb import metrics, rollups
from db.tsdb import query as engine

T0 = datetime(2026, 2, 1, tzinfo=UTC)
HOURS = 3


@pytest.fixture(autouse=True)
def context(app: Flask):  # type: ignore[no-untyped-def]
    with app.app_context():
        yield


@pytest.fixture
def stored() -> list[int]:
    """Three hosts, 10 s resolution for three hours: noisy gauges and a counter with a reset."""
    rng = random.Random(3)
    keys = [metrics.series_key("cpu", f"h{i}", {"dc": "a" if i < 2 else "b"}) for i in range(3)]
    keys.append(metrics.series_key("requests", "h0", {}))
    with database.transaction() as session:
        ids = metrics.resolve_series(session, keys)
        steps = HOURS * 360
        rows = [
            (ids[key], T0 + timedelta(seconds=10 * i), rng.uniform(0, 100))
            for key in keys[:3]
            for i in range(steps)
        ]
        total = 0.0
        for i in range(steps):
            total = 0.0 if i == steps // 2 else total + rng.uniform(0, 50)  # one reset
            rows.append((ids[keys[3]], T0 + timedelta(seconds=10 * i), total))
        metrics.write_points(session, rows)
    return list(ids.values())


def answer(query: Query, step_points: int) -> engine.QueryResult:
    window = TimeRange(T0, T0 + timedelta(hours=HOURS))
    with database.transaction() as session:
        return engine.query(session, query, window, step_points, prefer_m4=True)


def refresh_all() -> int:
    with database.transaction() as session:
        return rollups.refresh(session)


CASES = [
    Query(metric="cpu", agg="avg", group_by=["source"]),
    Query(metric="cpu", agg="min"),
    Query(metric="cpu", agg="max", group_by=["dc"]),
    Query(metric="cpu", agg="sum"),
    Query(metric="cpu", agg="count", group_by=["dc"]),
    Query(metric="cpu", agg="last", group_by=["source"], mode="buckets"),
    Query(metric="cpu", agg="avg", group_by=["source"], mode="m4"),
    Query(metric="requests", agg="rate"),
    Query(metric="requests", agg="rate", interval="1h"),
]


@pytest.mark.parametrize("query", CASES, ids=lambda q: f"{q.agg}-{q.mode}-{q.interval}")
@pytest.mark.parametrize("points", [18, 36])  # 10- and 5-minute buckets: 1 m rollups
def test_rollups_match_raw_points(stored: list[int], query: Query, points: int) -> None:
    raw = answer(query, points)
    assert raw.source == "points"  # the written hours are still pending
    assert refresh_all() == 4 * HOURS
    rolled = answer(query, points)
    assert rolled.source.startswith("rollups")
    assert [s.name for s in rolled.series] == [s.name for s in raw.series]
    for fast, slow in zip(rolled.series, raw.series, strict=True):
        assert fast.timestamps == slow.timestamps
        assert fast.values == pytest.approx(slow.values, rel=1e-9)


def test_hour_level_serves_day_buckets(stored: list[int]) -> None:
    refresh_all()
    result = answer(Query(metric="cpu", agg="max", interval="1h"), HOURS)
    assert result.source == "rollups (3600 s)"
    assert len(result.series[0].values) == HOURS


def test_percentiles_always_read_points(stored: list[int]) -> None:
    refresh_all()
    assert answer(Query(metric="cpu", agg="p90"), 18).source == "points"


def test_new_points_make_their_hour_pending_until_refreshed(stored: list[int]) -> None:
    refresh_all()
    late = T0 + timedelta(hours=2, seconds=5)
    with database.transaction() as session:
        sid = metrics.resolve_series(session, [metrics.series_key("cpu", "h0", {"dc": "a"})])
        metrics.write_points(session, [(*sid.values(), late, 1000.0)])
    stale = answer(Query(metric="cpu", agg="max", group_by=["source"]), 18)
    assert stale.source == "points" and max(stale.series[0].values) == 1000.0
    assert refresh_all() == 1
    fresh = answer(Query(metric="cpu", agg="max", group_by=["source"]), 18)
    assert fresh.source.startswith("rollups") and max(fresh.series[0].values) == 1000.0


def test_refresh_limit_leaves_the_rest_pending(stored: list[int]) -> None:
    with database.transaction() as session:
        assert rollups.refresh(session, "cpu", limit=5) == 5
    with database.transaction() as session:
        assert rollups.refresh(session, "cpu") == 3 * HOURS - 5
        assert rollups.refresh(session) == HOURS  # the counter's hours


def test_touched_hours_for_the_rollup_queue() -> None:
    t = datetime(2026, 1, 1, 10, 59, 59, tzinfo=UTC)
    ten, eleven = datetime(2026, 1, 1, 10, tzinfo=UTC), datetime(2026, 1, 1, 11, tzinfo=UTC)
    assert rollups.touched_hours((1, 2, 1), (t, t, t - timedelta(minutes=5))) == {
        (1, ten), (2, ten),
    }  # fmt: skip
    later = t + timedelta(seconds=1)
    assert rollups.touched_hours((1, 2, 1), (t, later, later)) == {
        (1, ten), (2, eleven), (1, eleven),
    }  # fmt: skip


@pytest.mark.parametrize("hours", [3, 1])
def test_summaries_from_rollups_match_raw_points(stored: list[int], hours: int) -> None:
    window = TimeRange(T0, T0 + timedelta(hours=hours))
    spec = Query(metric="cpu", group_by=["dc"])
    with database.transaction() as session:
        raw = engine.summarize(session, spec, window)
        assert refresh_all() == 4 * HOURS
        rolled = engine.summarize(session, spec, window)
    assert raw.source == "points"
    assert rolled.source == ("rollups (60 s)" if hours >= 2 else "points")
    for fast, slow in zip(rolled.summaries, raw.summaries, strict=True):
        assert (fast.name, fast.count, fast.min, fast.max, fast.last, fast.last_ts) == (
            slow.name, slow.count, slow.min, slow.max, slow.last, slow.last_ts,
        )  # fmt: skip
        assert fast.sum == pytest.approx(slow.sum, rel=1e-9)
