"""The block cache answers exactly what one uncached query answers, before and after late,
duplicate and out-of-order writes, across block boundaries, for every aggregation and
panel kind; and a write recomputes only the blocks it touches."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from flask import Flask

from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange, aligned_range
from dashapp.extensions import database
from db.cached import panel_histogram, panel_query, panel_summary
from db.tsdb import histogram as histograms
from db.tsdb import metrics, rollups
from db.tsdb import query as engine
from tests.conftest import bearer

T0 = datetime(2026, 3, 2, 0, 0, 7, tzinfo=UTC)
SOURCES = ("a", "b", "c")
AGGREGATIONS = ("avg", "min", "max", "sum", "count", "last", "rate", "p50", "p90")
# (window, max points): three days in hour and day blocks; an unaligned five hours at
# one-minute buckets; twelve days at two-hour buckets (day blocks only); a short range.
WINDOWS = [
    (TimeRange(T0 + timedelta(hours=3, minutes=17), T0 + timedelta(days=3)), 150),
    (TimeRange(T0 + timedelta(hours=20, minutes=41), T0 + timedelta(hours=25, minutes=3)), 300),
    (TimeRange(T0 - timedelta(days=9), T0 + timedelta(days=3)), 144),
    (TimeRange(T0 + timedelta(hours=23, minutes=58), T0 + timedelta(days=1, minutes=2)), 50),
]  # fmt: skip


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


def seed(rng: random.Random) -> None:
    """Three counters-like series over three days at irregular times; integer values keep
    sums exact whatever order they are added in. Rollups for the first day only."""
    keys = [metrics.series_key("m", source, {}) for source in SOURCES]
    rows = []
    with database.transaction() as session:
        ids = metrics.resolve_series(session, keys)
        for n, key in enumerate(keys):
            total = 0.0
            at = T0
            while at < T0 + timedelta(days=3):
                total = 0.0 if rng.random() < 0.002 else total + rng.randrange(0, 40)
                rows.append((ids[key], at, total + n))
                at += timedelta(seconds=rng.choice((10, 10, 20, 45, 300, 900)))
        metrics.write_points(session, rows)
    with database.transaction() as session:
        rollups.refresh(session, limit=3 * 24)


def ingest(app: Flask, points: list[tuple[str, datetime, float]]) -> None:
    body = [
        {"name": "m", "source": source, "value": value, "timestamp": ts.isoformat()}
        for source, ts, value in points
    ]
    response = app.test_client().post("/api/v1/metrics", json=body, headers=bearer(app, "ingest"))
    assert response.status_code == 201, response.get_json()


def uncached(spec: Query, window: TimeRange, points: int, prefer_m4: bool) -> engine.QueryResult:
    with database.transaction() as session:
        return engine.query(session, spec, window, points, prefer_m4=prefer_m4)


def check_all(agg: str) -> dict[Any, engine.QueryResult]:
    """Every window, grouped and not, M4 and buckets: cached equals uncached."""
    answers = {}
    for index, (window, points) in enumerate(WINDOWS):
        for group_by in ([], ["source"]):
            for prefer_m4 in (False, True):
                spec = Query(metric="m", agg=agg, group_by=group_by)
                cached = panel_query(spec, window, points, prefer_m4=prefer_m4)
                expected = uncached(spec, window, points, prefer_m4)
                label = (agg, index, tuple(group_by), prefer_m4)
                assert cached.series == expected.series, label
                assert (cached.start, cached.end, cached.step, cached.mode) == (
                    expected.start, expected.end, expected.step, expected.mode,
                ), label  # fmt: skip
                assert cached.series, label
                answers[label] = cached
    return answers


@pytest.mark.parametrize("agg", AGGREGATIONS)
def test_cached_equals_uncached_through_late_duplicate_and_out_of_order_writes(
    ctx: Flask, agg: str
) -> None:
    rng = random.Random(AGGREGATIONS.index(agg))
    seed(rng)
    check_all(agg)
    again = check_all(agg)
    assert all(result.cached for result in again.values())
    # Late points into old hours, out of order, on a block edge and across a day edge;
    # a duplicate of an existing timestamp (last write wins); a new series in a group.
    ingest(ctx, [
        ("b", T0 + timedelta(days=1, hours=5, minutes=30, seconds=1), 5000.0),
        ("a", T0 + timedelta(hours=23, minutes=59, seconds=59), 7.0),
        ("a", T0 + timedelta(days=1), 3.0),
        ("c", T0 + timedelta(hours=2), 123.0),
        ("c", T0 + timedelta(hours=2), 124.0),
        ("a", T0, 999.0),
    ])  # fmt: skip
    ingest(ctx, [("b", T0 + timedelta(days=1, hours=5, minutes=30, seconds=1), 5001.0)])
    check_all(agg)
    with database.transaction() as session:  # the worker catches up: rollups from now on
        rollups.refresh(session)
    check_all(agg)


def test_a_late_write_recomputes_only_the_blocks_it_touches(ctx: Flask) -> None:
    seed(random.Random(9))
    window, points = WINDOWS[0]
    spec = Query(metric="m", agg="max", group_by=["source"])
    first = panel_query(spec, window, points)
    assert not first.cached and {b.kind for b in first.blocks} == {"block"}
    late = T0 + timedelta(days=1, hours=5, minutes=30)
    ingest(ctx, [("b", late, 5000.0)])
    after = panel_query(spec, window, points)
    recomputed = [b for b in after.blocks if not b.cached]
    assert [(b.start, b.end) for b in recomputed] == [
        (T0.replace(second=0) + timedelta(days=1), T0.replace(second=0) + timedelta(days=2))
    ]
    assert 5000.0 in after.series[1].values and 5000.0 not in first.series[1].values
    assert after.series == uncached(spec, window, points, False).series


def test_summaries_and_histograms_equal_uncached_after_late_writes(ctx: Flask) -> None:
    seed(random.Random(4))
    spec = Query(metric="m", agg="avg", group_by=["source"])

    def check() -> None:
        for window, points in WINDOWS:
            cached = panel_summary(spec, window)
            with database.transaction() as session:
                expected = engine.summarize(session, spec, window)
            assert cached.summaries == expected.summaries
            assert (cached.start, cached.end) == (expected.start, expected.end)
            heat = panel_histogram(spec, window, points, 12)
            step = engine.bucket_step(spec, window.span, points)
            with database.transaction() as session:
                plain = histograms.histogram(
                    session, spec, aligned_range(window, step), points, 12, step=step
                )
            assert (heat.times, heat.edges, heat.counts) == (plain.times, plain.edges, plain.counts)

    check()
    check()
    ingest(ctx, [("a", T0 + timedelta(hours=22, minutes=1), 10_000.0),
                 ("c", T0 + timedelta(days=1, hours=1), -5.0)])  # fmt: skip
    check()


def test_recent_writes_recompute_only_the_minute_they_write_into(ctx: Flask) -> None:
    now = datetime.now(UTC)
    start = now - timedelta(hours=3)
    ingest(ctx, [("a", start + timedelta(minutes=i), float(i % 17)) for i in range(175)])
    window = TimeRange(start, now)
    spec = Query(metric="m", agg="avg")
    first = panel_query(spec, window, 180)
    assert first.blocks[-1].kind == "tail" and any(b.kind == "block" for b in first.blocks)
    assert panel_query(spec, window, 180).cached  # no write: the tail is cached too
    ingest(ctx, [("a", now - timedelta(seconds=30), 40.0)])
    after = panel_query(spec, window, 180)
    recomputed = [b for b in after.blocks if not b.cached]
    assert [b.kind for b in recomputed] == ["tail"]  # the one minute written into
    assert recomputed[0].end - recomputed[0].start <= timedelta(minutes=1)
    assert after.series == uncached(spec, window, 180, False).series
    assert after.series[0].values[-1] == 40.0


def test_writes_to_series_a_panel_does_not_show_leave_its_recent_blocks_cached(
    ctx: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from db import blocks

    now = datetime.now(UTC)
    start = now - timedelta(hours=1)
    ingest(ctx, [(s, start + timedelta(minutes=i), float(i)) for i in range(55) for s in "ab"])
    window, spec = TimeRange(start, now), Query(metric="m", source="a", agg="max")
    assert not panel_query(spec, window, 120).cached
    ingest(ctx, [("b", now - timedelta(seconds=30), 500.0)])  # the fleet's other hosts
    assert panel_query(spec, window, 120).cached
    whole = Query(metric="m", agg="max")  # a panel showing both series does recompute
    panel_query(whole, window, 120)
    ingest(ctx, [("b", now - timedelta(seconds=29), 501.0)])
    assert not panel_query(whole, window, 120).cached
    ingest(ctx, [("a", now - timedelta(seconds=28), 40.0)])  # a series it shows: recomputed
    after = panel_query(spec, window, 120)
    assert not after.cached and after.series[0].values[-1] == 40.0
    assert after.series == uncached(spec, window, 120, False).series
    # A write wider than the series counters allow changes the metric's wide counter.
    monkeypatch.setattr(blocks, "MAX_WRITTEN_SERIES", 0)
    ingest(ctx, [("b", now - timedelta(seconds=27), 502.0)])
    assert not panel_query(spec, window, 120).cached


def test_a_series_added_before_the_catalog_counter_expired_is_shown(ctx: Flask) -> None:
    """The series list kept in the process is keyed by the catalog counter; a counter that
    expired (or was never written) must not bring back a list kept before a new series."""
    from db import blocks
    from db.blockcache import CATALOG
    from db.cache import cache

    now = datetime.now(UTC)
    window, spec = TimeRange(now - timedelta(hours=1), now), Query(metric="m", group_by=["source"])
    cache.delete(blocks.tail_key(CATALOG))  # never written
    ingest(ctx, [("a", now - timedelta(minutes=5), 1.0)])
    cache.delete(blocks.tail_key(CATALOG))
    assert [s.name for s in panel_query(spec, window, 60).series] == ["a"]
    ingest(ctx, [("b", now - timedelta(minutes=4), 2.0)])  # a new series changes the counter
    cache.delete(blocks.tail_key(CATALOG))  # which then expires before anyone reads
    assert sorted(s.name for s in panel_query(spec, window, 60).series) == ["a", "b"]


def test_a_heatmap_recomputes_only_the_minute_written_while_its_bins_hold(ctx: Flask) -> None:
    now = datetime.now(UTC)
    start = now - timedelta(hours=3)
    ingest(ctx, [("a", start + timedelta(minutes=i), float(i % 17)) for i in range(175)])
    window, spec = TimeRange(start, now), Query(metric="m")

    def check() -> Any:
        cached = panel_histogram(spec, window, 180, 8)
        step = engine.bucket_step(spec, window.span, 180)
        with database.transaction() as session:
            plain = histograms.histogram(
                session, spec, aligned_range(window, step), 180, 8, step=step
            )
        shape = (cached.times, cached.edges, cached.counts)
        assert shape == (plain.times, plain.edges, plain.counts)
        return cached

    check()
    assert check().cached
    ingest(ctx, [("a", now - timedelta(seconds=30), 5.0)])  # inside the range's extremes
    after = check()
    recomputed = [b for b in after.blocks if not b.cached]
    assert len(recomputed) == 1 and recomputed[0].end - recomputed[0].start <= timedelta(minutes=1)
    ingest(ctx, [("a", now - timedelta(seconds=20), 500.0)])  # a new highest value: new bins
    assert check().edges[-1] == 500.0


def test_ranges_split_into_days_and_hours_then_minutes_near_now() -> None:
    from db import blocks

    now = datetime(2026, 5, 1, 12, 34, 56, tzinfo=UTC)
    horizon = now - timedelta(minutes=5)
    window = TimeRange(
        datetime(2026, 4, 1, 9, 40, tzinfo=UTC), datetime(2026, 5, 1, 12, 35, tzinfo=UTC)
    )
    pieces = blocks.plan(window, timedelta(minutes=5), horizon, whole_blocks=True)
    lengths = [p.end - p.start for p in pieces]
    assert lengths[:3] == [timedelta(minutes=10)] * 2 + [timedelta(hours=1)]
    assert lengths.count(timedelta(days=1)) == 29
    assert [(p.start.minute, p.fresh) for p in pieces[-3:]] == [(10, False), (20, True), (30, True)]
    assert all(a.end == b.start for a, b in pairwise(pieces))
    # Buckets of up to a minute: the recent part is cut into minutes, so a write into the
    # current minute leaves the other fourteen cached.
    fine = blocks.plan(window, timedelta(seconds=30), horizon, whole_blocks=True)
    recent = [p for p in fine if p.level == timedelta(minutes=1)]
    assert (recent[0].start, recent[-1].end) == (
        datetime(2026, 5, 1, 12, 20, tzinfo=UTC), datetime(2026, 5, 1, 12, 35, tzinfo=UTC),
    )  # fmt: skip
    assert len(recent) == 15 and [p.fresh for p in recent].index(True) == 9
    written, tables = blocks.written_counters({("m", 7, datetime(2026, 4, 3, 7, 15, tzinfo=UTC))})
    assert sorted(int(k.split(":")[2]) for k in written if k.startswith("genb:")) == [
        60, 600, 3600, 86400,
    ]  # fmt: skip
    assert tables == {
        f"gens:60:{int(datetime(2026, 4, 3, 7, 15, tzinfo=UTC).timestamp())}": {"7"},
        f"gens:600:{int(datetime(2026, 4, 3, 7, 10, tzinfo=UTC).timestamp())}": {"7"},
    }
    # A step no block length holds (days): one piece.
    assert len(blocks.plan(window, timedelta(days=2), now, whole_blocks=True)) == 1
    # Totals over an exact recent range: minute blocks, the first and last cut at its edges.
    exact = TimeRange(now - timedelta(minutes=3), now)
    cut = blocks.plan(exact, None, horizon, whole_blocks=False)
    assert [(p.start, p.end) for p in cut] == [
        (exact.start, datetime(2026, 5, 1, 12, 32, tzinfo=UTC)),
        (datetime(2026, 5, 1, 12, 32, tzinfo=UTC), datetime(2026, 5, 1, 12, 33, tzinfo=UTC)),
        (datetime(2026, 5, 1, 12, 33, tzinfo=UTC), datetime(2026, 5, 1, 12, 34, tzinfo=UTC)),
        (datetime(2026, 5, 1, 12, 34, tzinfo=UTC), exact.end),
    ]


def test_a_tail_grace_shares_the_tail_until_it_ends(database_url: str) -> None:
    from tests.conftest import make_app

    app = make_app(database_url, CACHE_TAIL_GRACE=10**9)  # one grace period for this test
    now = datetime.now(UTC)
    with app.app_context():
        ingest(app, [("a", now - timedelta(minutes=2), 1.0)])
        window = TimeRange(now - timedelta(hours=1), now)
        first = panel_query(Query(metric="m", agg="max"), window, 60)
        ingest(app, [("a", now - timedelta(minutes=1), 9.0)])
        shared = panel_query(Query(metric="m", agg="max"), window, 60)
    assert shared.cached and shared.series == first.series  # 9.0 not seen yet: by design


def test_past_the_grace_a_quiet_tail_stays_cached_and_a_written_one_is_recomputed(
    database_url: str,
) -> None:
    import time

    from tests.conftest import make_app

    app = make_app(database_url, CACHE_TAIL_GRACE=0.05)
    now = datetime.now(UTC)
    window, spec = TimeRange(now - timedelta(hours=1), now), Query(metric="m", agg="max")
    with app.app_context():
        ingest(app, [("a", now - timedelta(minutes=2), 1.0)])
        panel_query(spec, window, 60)
        time.sleep(0.1)
        assert panel_query(spec, window, 60).cached  # nothing written: no recomputation
        ingest(app, [("a", now - timedelta(minutes=1), 9.0)])
        time.sleep(0.1)
        fresh = panel_query(spec, window, 60)
    assert not fresh.cached and max(fresh.series[0].values) == 9.0


def test_a_tick_gets_a_slightly_stale_tail_at_once_and_the_next_one_the_refreshed_tail(
    database_url: str,
) -> None:
    """Past the grace but within LIVE_STALE_LIMIT, an auto-refresh tick is served the
    newest minute's latest answer without waiting, and it is recomputed behind it."""
    import time

    from tests.conftest import make_app

    app = make_app(database_url, LIVE_STALE_LIMIT=60)
    now = datetime.now(UTC)
    window, spec = TimeRange(now - timedelta(hours=1), now), Query(metric="m", agg="max")

    def tick() -> Any:
        return panel_query(spec, window, 60, tail_grace=0.05)

    with app.app_context():
        ingest(app, [("a", now - timedelta(minutes=2), 1.0)])
        tick()
        ingest(app, [("a", now - timedelta(minutes=1), 9.0)])
        time.sleep(0.1)
        served = tick()
        assert served.cached and max(served.series[0].values) == 1.0  # not waited for
        deadline = time.monotonic() + 10
        while max(tick().series[0].values) != 9.0:
            assert time.monotonic() < deadline, "the background refresh never landed"
            time.sleep(0.05)
        assert max(panel_query(spec, window, 60).series[0].values) == 9.0  # a load: newest
        refresher = app.extensions["dashapp.refresher"]
        while refresher.running:  # let the last refresh return its connection
            time.sleep(0.02)


def test_instances_sharing_a_cache_refresh_a_stale_tail_once(
    database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two instances (or processes) that serve the same slightly stale newest minute on
    their ticks recompute it once between them, not once each."""
    import threading
    import time
    import uuid

    from db import blockcache
    from tests.conftest import make_app

    shared = {"REDIS_URL": redis_url, "CACHE_KEY_PREFIX": f"dashapp-test-{uuid.uuid4().hex[:8]}:"}
    first, second = (make_app(database_url, LIVE_STALE_LIMIT=60, **shared) for _ in range(2))
    now = datetime.now(UTC)
    window, spec = TimeRange(now - timedelta(hours=1), now), Query(metric="m", agg="max")
    refreshes: list[str] = []
    compute_and_store, both_served = blockcache._compute_and_store, threading.Event()

    def counted(*args: Any) -> Any:
        if threading.current_thread().name.startswith("dashapp-refresh"):
            refreshes.append(threading.current_thread().name)
            both_served.wait(10)  # a refresh that lands before the second tick proves nothing
        return compute_and_store(*args)

    monkeypatch.setattr(blockcache, "_compute_and_store", counted)

    def tick(app: Flask) -> float:
        with app.app_context():
            return max(panel_query(spec, window, 60, tail_grace=0.5).series[0].values)

    ingest(first, [("a", now - timedelta(minutes=2), 1.0)])
    tick(first)
    ingest(first, [("a", now - timedelta(minutes=1), 9.0)])
    time.sleep(0.6)
    assert (tick(first), tick(second)) == (1.0, 1.0)  # both served the same stale answer
    both_served.set()
    deadline = time.monotonic() + 10
    while tick(second) != 9.0 or any(
        app.extensions["dashapp.refresher"].running for app in (first, second)
    ):
        assert time.monotonic() < deadline, "the background refresh never landed"
        time.sleep(0.05)
    assert len(refreshes) == 1


def test_a_listening_worker_refreshes_a_stale_tail_instead_of_the_web_process(
    database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With Redis, a tick's slightly stale newest minute is recomputed by `dashapp
    worker` (off the interpreter lock of the process answering viewers), not by a
    thread of the web process."""
    import threading
    import time
    import uuid

    import redis

    from dashapp import worker
    from db import blockcache
    from tests.conftest import make_app

    prefix = f"dashapp-test-{uuid.uuid4().hex[:8]}:"
    web, background = (
        make_app(database_url, REDIS_URL=redis_url, CACHE_KEY_PREFIX=prefix, LIVE_STALE_LIMIT=60)
        for _ in range(2)
    )
    now = datetime.now(UTC)
    window, spec = TimeRange(now - timedelta(hours=1), now), Query(metric="m", agg="max")
    computed_in: list[str] = []
    compute_and_store = blockcache._compute_and_store

    def spied(*args: Any) -> Any:
        computed_in.append(threading.current_thread().name)
        return compute_and_store(*args)

    monkeypatch.setattr(blockcache, "_compute_and_store", spied)

    def tick() -> float:
        with web.app_context():
            return max(panel_query(spec, window, 60, tail_grace=0.5).series[0].values)

    stop = threading.Event()
    with background.app_context():
        threads = worker.start_refreshes(stop)
    try:
        listening = redis.Redis.from_url(redis_url)
        deadline = time.monotonic() + 10
        while not listening.exists(prefix + "refresh-workers"):
            assert time.monotonic() < deadline, "the worker never said it listens"
            time.sleep(0.02)
        ingest(web, [("a", now - timedelta(minutes=2), 1.0)])
        tick()
        ingest(web, [("a", now - timedelta(minutes=1), 9.0)])
        time.sleep(0.6)
        computed_in.clear()
        assert tick() == 1.0  # served at once
        while tick() != 9.0:
            assert time.monotonic() < deadline + 10, "the worker never refreshed the tail"
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
    assert computed_in and all(name.startswith("dashapp-worker-refresh") for name in computed_in)


def test_past_the_stale_limit_a_tick_recomputes_the_tail_itself(database_url: str) -> None:
    import time

    from tests.conftest import make_app

    app = make_app(database_url, LIVE_STALE_LIMIT=0.1)
    now = datetime.now(UTC)
    window, spec = TimeRange(now - timedelta(hours=1), now), Query(metric="m", agg="max")
    with app.app_context():
        ingest(app, [("a", now - timedelta(minutes=2), 1.0)])
        panel_query(spec, window, 60, tail_grace=0.05)
        ingest(app, [("a", now - timedelta(minutes=1), 9.0)])
        time.sleep(0.2)
        fresh = panel_query(spec, window, 60, tail_grace=0.05)
    assert not fresh.cached and max(fresh.series[0].values) == 9.0
    assert "dashapp.refresher" not in app.extensions  # nothing left to the background


def test_an_old_block_recomputed_beside_the_tail_is_cached_again(ctx: Flask) -> None:
    now = datetime.now(UTC)
    start = now - timedelta(hours=3)
    ingest(ctx, [("a", start + timedelta(minutes=i), float(i)) for i in range(175)])
    window, spec = TimeRange(start, now), Query(metric="m", agg="max")
    panel_query(spec, window, 120)
    late, recent = start + timedelta(minutes=5, seconds=1), now - timedelta(seconds=20)
    ingest(ctx, [("a", late, 500.0), ("a", recent, 1.0)])  # an old block, and the tail
    assert {b.kind for b in panel_query(spec, window, 120).blocks if not b.cached} == {
        "block",
        "tail",
    }
    ingest(ctx, [("a", now - timedelta(seconds=10), 2.0)])  # the tail again
    again = panel_query(spec, window, 120)
    assert {b.kind for b in again.blocks if not b.cached} == {"tail"}
    assert again.series == uncached(spec, window, 120, False).series


@pytest.mark.parametrize("kind", ["stat", "gauge"])
def test_a_single_number_panel_reads_one_series(ctx: Flask, kind: str) -> None:
    from dashapp.core.spec import GaugePanel, StatPanel
    from db.panels import load_panel

    now = datetime.now(UTC)
    ingest(ctx, [(s, now - timedelta(minutes=m), float(m)) for s in SOURCES for m in (5, 3)])
    kinds = {"stat": StatPanel, "gauge": GaugePanel}
    panel = kinds[kind].model_validate(
        {"id": "p", "title": "P", "queries": [{"metric": "m", "group_by": ["source"]}]}
    )
    data = load_panel(panel, TimeRange(now - timedelta(hours=1), now))
    assert len(data.results[0].series) == 1 and len(data.reductions) == 1


def test_missing_blocks_of_closed_days_are_computed_apart_from_today() -> None:
    """Closed days are compacted: computed without today's hot rows, they are answered in
    process (db/tsdb/cold_statements.py) instead of joining a query that must read rows."""
    from db import blocks
    from db.blockcache import runs

    now = datetime(2026, 5, 1, 12, 34, 56, tzinfo=UTC)
    window = TimeRange(now - timedelta(days=3), now)
    pieces = blocks.plan(window, timedelta(hours=1), now - timedelta(minutes=5), whole_blocks=True)
    today = datetime(2026, 5, 1, tzinfo=UTC)
    found = runs(pieces, list(range(len(pieces))), today)
    assert [(pieces[run[0]].start, pieces[run[-1]].end) for run in found] == [
        (datetime(2026, 4, 28, 12, tzinfo=UTC), today),
        (today, datetime(2026, 5, 1, 12, tzinfo=UTC)),
        (datetime(2026, 5, 1, 12, tzinfo=UTC), datetime(2026, 5, 1, 13, tzinfo=UTC)),
    ]


def test_a_refresh_job_runs_each_kind_of_read_again_and_drops_old_ones(ctx: Flask) -> None:
    """What a web process queues for the worker (a panel's query, summary or heatmap,
    with its range and variables) decodes into the same read; a job older than the
    stale limit is dropped, as ticks compute those answers themselves by then."""
    from db import cached

    now = datetime.now(UTC)
    ingest(ctx, [("a", now - timedelta(minutes=2), 1.0)])
    window, spec = TimeRange(now - timedelta(hours=1), now), Query(metric="m", agg="max")
    jobs = [
        cached.refresh_job("query", spec, window, max_points=60, variables={"host": ("a",)}),
        cached.refresh_job("summary", spec, window, variables={}, series_limit=5),
        cached.refresh_job("histogram", spec, window, max_points=60, bins=10, variables=None),
    ]
    assert all(cached.rerun(job(), max_age=60) for job in jobs)
    assert panel_query(spec, window, 60).cached  # what the job computed was stored
    assert not cached.rerun(jobs[0](), max_age=-1)
