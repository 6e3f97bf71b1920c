"""The metrics repository and query engine, on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange
from dashapp.extensions import database
from db.tsdb import metrics
from db.tsdb import query as engine

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def context(app: Flask):  # type: ignore[no-untyped-def]
    with app.app_context():
        yield


def store(points: dict[tuple[str, str, tuple], list[tuple[datetime, float]]]) -> dict:
    """Write {(name, source, labels-items): [(ts, value)]} and return the series ids."""
    keys = {k: metrics.series_key(k[0], k[1], dict(k[2])) for k in points}
    with database.transaction() as session:
        ids = metrics.resolve_series(session, list(keys.values()))
        rows = [(ids[keys[k]], ts, v) for k, values in points.items() for ts, v in values]
        metrics.write_points(session, rows)
    return {k: ids[keys[k]] for k in points}


def run(query: Query, start: datetime, end: datetime, max_points: int = 1000, **kw):  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        return engine.query(session, query, TimeRange(start, end), max_points, **kw)


def every(seconds: int, count: int, value=lambda i: float(i)):  # type: ignore[no-untyped-def]
    return [(T0 + timedelta(seconds=seconds * i), value(i)) for i in range(count)]


def test_resolve_series_is_idempotent_and_label_order_free() -> None:
    with database.transaction() as session:
        a = metrics.resolve_series(session, [metrics.series_key("cpu", "h1", {"b": "2", "a": "1"})])
    with database.transaction() as session:
        b = metrics.resolve_series(session, [metrics.series_key("cpu", "h1", {"a": "1", "b": "2"})])
        listed = metrics.list_series(session)
    assert list(a.values()) == list(b.values())
    assert [(s.name, s.source, s.labels) for s in listed] == [("cpu", "h1", {"a": "1", "b": "2"})]


def test_same_timestamp_twice_keeps_the_last_value() -> None:
    key = ("cpu", "h1", ())
    store({key: [(T0, 1.0), (T0, 2.0)]})
    store({key: [(T0, 3.0)]})
    with database.transaction() as session:
        assert metrics.count_points(session) == 1
    result = run(Query(metric="cpu", agg="max"), T0, T0 + timedelta(minutes=1))
    assert result.series[0].values == [3.0]


def test_timestamps_round_trip_with_microseconds() -> None:
    stamp = T0 + timedelta(microseconds=123456)
    ids = store({("m", "s", ()): [(stamp, 1.5)]})
    with database.transaction() as session:
        last = metrics.last_points(session, list(ids.values()))
    assert last[ids["m", "s", ()]] == metrics.LastPoint(stamp, 1.5)


@pytest.mark.parametrize(
    ("agg", "expected"),
    [
        ("avg", [2.5, 7.5]),
        ("min", [0.0, 6.0]),
        ("max", [5.0, 9.0]),
        ("sum", [15.0, 30.0]),
        ("count", [6.0, 4.0]),
        ("last", [5.0, 9.0]),
    ],
)
def test_bucket_aggregations(agg: str, expected: list[float]) -> None:
    # Values 0..9 every 10 s: the first minute holds 0-5, the second 6-9.
    store({("m", "s", ()): every(10, 10)})
    result = run(Query(metric="m", agg=agg, interval="1m"), T0, T0 + timedelta(seconds=100))
    assert result.series[0].values == pytest.approx(expected)
    assert result.series[0].timestamps == [T0, T0 + timedelta(minutes=1)]
    assert result.step == timedelta(minutes=1)


def test_percentiles_match_postgresql_semantics() -> None:
    store({("m", "s", ()): every(1, 11)})  # 0..10
    p50 = run(Query(metric="m", agg="p50", interval="1m"), T0, T0 + timedelta(minutes=1))
    p90 = run(Query(metric="m", agg="p90", interval="1m"), T0, T0 + timedelta(minutes=1))
    assert p50.series[0].values == pytest.approx([5.0])
    assert p90.series[0].values == pytest.approx([9.0])


def test_group_by_source_and_label_and_combining() -> None:
    store(
        {
            ("cpu", "web-1", (("region", "eu"),)): every(10, 6, lambda i: 10.0),
            ("cpu", "web-2", (("region", "eu"),)): every(10, 6, lambda i: 30.0),
            ("cpu", "db-1", (("region", "us"),)): every(10, 6, lambda i: 50.0),
        }
    )
    end = T0 + timedelta(minutes=1)
    combined = run(Query(metric="cpu", agg="avg", interval="1m"), T0, end)
    assert [(s.name, s.values) for s in combined.series] == [("cpu", [30.0])]
    by_source = run(Query(metric="cpu", group_by=["source"], interval="1m"), T0, end)
    assert [(s.name, s.values) for s in by_source.series] == [
        ("db-1", [50.0]), ("web-1", [10.0]), ("web-2", [30.0]),
    ]  # fmt: skip
    by_region = run(Query(metric="cpu", group_by=["region"], agg="max", interval="1m"), T0, end)
    assert [(s.labels, s.values) for s in by_region.series] == [
        ({"region": "eu"}, [30.0]), ({"region": "us"}, [50.0]),
    ]  # fmt: skip
    filtered = run(Query(metric="cpu", source="web-*", labels={"region": "eu"}), T0, end)
    assert filtered.total_series == 1 and filtered.series[0].values[0] == pytest.approx(20.0)


def test_series_limit_reports_hidden_series() -> None:
    store({("cpu", f"h{i}", ()): every(10, 3) for i in range(5)})
    result = run(
        Query(metric="cpu", group_by=["source"]), T0, T0 + timedelta(minutes=1), series_limit=2
    )
    assert [s.name for s in result.series] == ["h0", "h1"]
    assert (result.total_series, result.hidden) == (5, 3)


def test_variables_filter_sources() -> None:
    store({("cpu", f"h{i}", ()): every(10, 3) for i in range(3)})
    query = Query(metric="cpu", source="$host", group_by=["source"])
    end = T0 + timedelta(minutes=1)
    chosen = run(query, T0, end, variables={"host": ["h1", "h2"]})
    assert [s.name for s in chosen.series] == ["h1", "h2"]
    everything = run(query, T0, end, variables={"host": []})
    assert len(everything.series) == 3


def test_rate_counts_a_reset_as_growth_from_zero() -> None:
    # 5/s for a minute, then a reset to 0 at t=60 s and 5/s again: the increase
    # across the reset is unknown, so it counts as the new value (0), never negative.
    values = [(T0 + timedelta(seconds=10 * i), 50.0 * i) for i in range(6)]
    values += [(T0 + timedelta(seconds=60 + 10 * i), 50.0 * i) for i in range(6)]
    store({("requests", "h", ()): values})
    result = run(Query(metric="requests", agg="rate", interval="1m"), T0, T0 + timedelta(minutes=2))
    assert result.series[0].values == pytest.approx([5.0, 250 / 60])


def test_rate_is_steady_across_a_reset() -> None:
    values = [(T0 + timedelta(seconds=10 * i), 50.0 * i) for i in range(6)]  # 0..250
    values += [(T0 + timedelta(seconds=60 + 10 * i), 50.0 * (i + 1)) for i in range(6)]  # reset
    store({("requests", "h", ()): values})
    result = run(Query(metric="requests", agg="rate", interval="1m"), T0, T0 + timedelta(minutes=2))
    assert result.series[0].values == pytest.approx([5.0, 5.0])


def test_m4_keeps_first_last_min_max_of_every_column() -> None:
    rng = random.Random(7)
    raw = [(T0 + timedelta(seconds=i), rng.uniform(0, 100)) for i in range(3600)]
    raw[1234] = (raw[1234][0], 500.0)  # a spike that plain averaging would hide
    store({("lat", "h", ()): raw})
    end = T0 + timedelta(hours=1)
    result = run(Query(metric="lat", mode="m4"), T0, end, max_points=60)
    assert result.mode == "m4"
    step = result.step
    assert step == timedelta(minutes=1)
    got = list(zip(result.series[0].timestamps, result.series[0].values, strict=True))
    assert len(got) <= 4 * 60
    for column in range(60):
        lo, hi = T0 + column * step, T0 + (column + 1) * step
        expected = [p for p in raw if lo <= p[0] < hi]
        drawn = [p for p in got if lo <= p[0] < hi]
        assert drawn[0] == expected[0] and drawn[-1] == expected[-1]
        assert min(v for _, v in drawn) == min(v for _, v in expected)
        assert max(v for _, v in drawn) == max(v for _, v in expected)
    assert max(result.series[0].values) == 500.0


def test_m4_of_a_flat_line_costs_at_most_four_points_per_column() -> None:
    store({("flat", "h", ()): every(1, 600, lambda i: 0.0)})
    result = run(Query(metric="flat", mode="m4"), T0, T0 + timedelta(minutes=10), max_points=10)
    assert 10 <= len(result.series[0].values) <= 40


def test_auto_mode_uses_m4_for_single_series_lines_only() -> None:
    store({("cpu", f"h{i}", ()): every(1, 120) for i in range(2)})
    end = T0 + timedelta(minutes=2)
    per_host = run(Query(metric="cpu", group_by=["source"]), T0, end, 10, prefer_m4=True)
    combined = run(Query(metric="cpu"), T0, end, 10, prefer_m4=True)
    assert per_host.mode == "m4" and combined.mode == "buckets"


def test_empty_ranges_and_unknown_metrics_return_no_series() -> None:
    store({("cpu", "h", ()): every(10, 3)})
    assert run(Query(metric="nope"), T0, T0 + timedelta(hours=1)).series == []
    later = T0 + timedelta(days=1)
    assert run(Query(metric="cpu"), later, later + timedelta(hours=1)).series == []


def test_summaries_are_exact_whatever_the_width() -> None:
    # Six hours of 10 s points at 1.0 with one spike of 100: bucket averages hide it.
    points = [(T0 + timedelta(seconds=10 * i), 1.0) for i in range(2160)]
    points[1000] = (points[1000][0], 100.0)
    store({("lat", "web-1", ()): points, ("lat", "web-2", ()): every(10, 6, lambda i: 5.0)})
    window = TimeRange(T0, T0 + timedelta(hours=6))
    with database.transaction() as session:
        summary = engine.summarize(session, Query(metric="lat", group_by=["source"]), window)
        buckets = engine.query(session, Query(metric="lat", group_by=["source"]), window, 50)
    web1, web2 = summary.summaries
    assert (web1.name, web1.count, web1.min, web1.max, web1.last) == (
        "web-1",
        2160,
        1.0,
        100.0,
        1.0,
    )
    assert web1.avg == pytest.approx((2159 + 100) / 2160) and web1.sum == pytest.approx(2259)
    assert (web2.count, web2.max, web2.last_ts) == (6, 5.0, T0 + timedelta(seconds=50))
    assert max(buckets.series[0].values) < 10  # what reducing the buckets would have said
