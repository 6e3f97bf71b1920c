"""Hot rows and compacted chunks answer every query the same, and compaction loses nothing."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange
from dashapp.extensions import database
from db.tsdb import chunks, compaction, metrics, partitions, rollups
from db.tsdb import histogram as heat
from db.tsdb import query as engine
from db.tsdb.models import ChunkRow, PointRow, RollupChunkRow, RollupRow

# Six hours across a midnight that also starts a 30-day window (EPOCH + 683 * 30 days):
# two chunk windows of points and of each rollup level.
T0 = datetime(2026, 2, 5, 21, tzinfo=UTC)
HOURS = 6
WINDOW = TimeRange(T0, T0 + timedelta(hours=HOURS))
ALL_TIME = TimeRange(datetime(2020, 1, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC))
MIDNIGHT = datetime(2026, 2, 6, tzinfo=UTC)
HOURLY_WINDOWS = {MIDNIGHT - timedelta(days=30), MIDNIGHT}


@pytest.fixture(autouse=True)
def context(app: Flask):  # type: ignore[no-untyped-def]
    with app.app_context():
        yield


@pytest.fixture
def stored() -> dict[str, int]:
    """Three noisy hosts every 10 s (one with irregular times), a counter with a reset,
    and a series of edge values (±0, subnormals, 1e300) that only the tiers read."""
    rng = random.Random(13)
    names = [("cpu", f"h{i}", {"dc": "a" if i < 2 else "b"}) for i in range(3)]
    names.append(("requests", "h0", {}))
    names.append(("edge", "h0", {}))
    keys = [metrics.series_key(*name) for name in names]
    steps = HOURS * 360
    with database.transaction() as session:
        ids = metrics.resolve_series(session, keys)
        rows = []
        for n, key in enumerate(keys[:3]):
            for i in range(steps):
                jitter = timedelta(microseconds=rng.randrange(1_000_000)) if n == 2 else timedelta()
                value = rng.choice([rng.uniform(0, 100), 0.0, 42.0])
                rows.append((ids[key], T0 + timedelta(seconds=10 * i) + jitter, value))
        total = 0.0
        for i in range(steps):
            total = 0.0 if i == steps // 2 else total + rng.uniform(0, 50)
            rows.append((ids[keys[3]], T0 + timedelta(seconds=10 * i), total))
        edges = [0.0, -0.0, 5e-324, -2.2250738585072014e-308, 1e300, -1e300, 1.0, 1.0]
        for i in range(steps):
            rows.append((ids[keys[4]], T0 + timedelta(seconds=10 * i), edges[i % len(edges)]))
        metrics.write_points(session, rows)
    return {
        f"{name}/{source}": ids[key] for (name, source, _), key in zip(names, keys, strict=True)
    }


def compact(now: datetime) -> int:
    with database.transaction() as session:
        return compaction.compact(session, now=now, limit=1000)


def everything() -> list[tuple[int, datetime, float]]:
    """Every stored point of every series, read through both tiers."""
    with database.transaction() as session:
        ids = [sid for (sid,) in session.execute(select(func.distinct(PointRow.series_id)))]
        ids += [sid for (sid,) in session.execute(select(func.distinct(ChunkRow.series_id)))]
        source = chunks.points_source(
            session, [(sid, ALL_TIME.start, ALL_TIME.end) for sid in set(ids)]
        )
        rows = session.execute(select(source.c.series_id, source.c.ts, source.c.value)).all()
    return sorted((sid, ts, value) for sid, ts, value in rows)


def rollup_rows() -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(RollupRow)) or 0


def hot_count() -> int:
    with database.transaction() as session:
        return session.scalar(select(func.count()).select_from(PointRow)) or 0


CASES = [
    Query(metric="cpu", agg="avg", group_by=["source"]),
    Query(metric="cpu", agg="min"),
    Query(metric="cpu", agg="max", group_by=["dc"]),
    Query(metric="cpu", agg="sum"),
    Query(metric="cpu", agg="count", group_by=["dc"]),
    Query(metric="cpu", agg="last", group_by=["source"], mode="buckets"),
    Query(metric="cpu", agg="last", group_by=["dc"]),  # hosts tie on times: the highest wins
    Query(metric="cpu", agg="avg", group_by=["source"], mode="m4"),
    Query(metric="cpu", agg="p50", group_by=["source"]),
    Query(metric="cpu", agg="p90"),
    Query(metric="cpu", agg="p99", group_by=["dc"]),
    Query(metric="requests", agg="rate"),
    Query(metric="requests", agg="rate", interval="1h"),
    # Seven-day buckets hold both chunk windows (of every tier and level): hot and cold
    # rows (and merged rows of two windows) in one bucket, a rate across the boundary.
    Query(metric="cpu", agg="avg", group_by=["dc"], interval="7d"),
    Query(metric="cpu", agg="max", group_by=["source"], mode="m4", interval="7d"),
    Query(metric="requests", agg="rate", interval="7d"),
]


def answers(rolled: bool = False) -> list[object]:
    """Every aggregation, summaries, hourly totals and a histogram, at a raw-point and a
    rollup width."""
    if rolled:
        with database.transaction() as session:
            rollups.refresh(session)
    out: list[object] = []
    with database.transaction() as session:
        for spec in CASES:
            # 30 s buckets (points), 10 min (1 m rollups), 1 h (hourly rollups)
            for width in (720, 36, 6):
                result = engine.query(session, spec, WINDOW, width, prefer_m4=True)
                out.append([(s.name, s.timestamps, s.values) for s in result.series])
        for span in (WINDOW, TimeRange(T0 + timedelta(minutes=17), T0 + timedelta(minutes=77))):
            result = engine.summarize(session, Query(metric="cpu", group_by=["dc"]), span)
            out.append([(s.name, s.count, s.min, s.max, s.sum, s.last, s.last_ts)
                        for s in result.summaries])  # fmt: skip
        shown, _ = engine.matching_groups(session, Query(metric="cpu", group_by=["dc"]), {}, 20)
        for unit in (None, timedelta(minutes=1), timedelta(hours=1)):  # hourly slots
            found, _ = engine.slot_totals(session, shown, WINDOW, unit, timedelta(hours=1))
            out.append(sorted(found.items()))
        grid = heat.histogram(session, Query(metric="cpu"), WINDOW, 72, 10)
        out.append((grid.times, grid.edges, grid.counts))
    return out


def assert_same(left: object, right: object) -> None:
    """Equal, allowing float sums to differ in the last bits (summation order)."""
    if isinstance(left, (list, tuple)):
        assert isinstance(right, (list, tuple)) and len(left) == len(right)
        for a, b in zip(left, right, strict=True):
            assert_same(a, b)
    elif isinstance(left, float) and isinstance(right, float):
        assert left == pytest.approx(right, rel=1e-12, abs=1e-300)
    else:
        assert left == right


@pytest.mark.parametrize("rolled", [False, True], ids=["points", "rollups"])
def test_hot_cold_and_mixed_give_the_same_answers(stored: dict[str, int], rolled: bool) -> None:
    hot = answers(rolled)
    before = everything()
    compact(MIDNIGHT + timedelta(hours=1, minutes=30))  # 21:00-24:00
    assert hot_count() == 5 * 3 * 360
    assert everything() == before
    mixed = answers(rolled)
    compact(T0 + timedelta(days=3))  # 00:00-03:00
    assert hot_count() == 0 and rollup_rows() == 0
    assert everything() == before
    cold = answers(rolled)
    assert_same(mixed, hot)
    assert_same(cold, hot)


@pytest.mark.parametrize("rolled", [False, True], ids=["points", "rollups"])
def test_groups_mixing_hot_and_cold_series_give_the_same_answers(
    stored: dict[str, int], rolled: bool
) -> None:
    hot = answers(rolled)
    with database.transaction() as session:  # one host of dc "a" and the counter, one day
        chunks.lock_tiers(session, exclusive=True)
        compaction.compact_window(
            session, T0.replace(hour=0), [stored["cpu/h0"], stored["requests/h0"]]
        )
    assert 0 < hot_count() < 5 * HOURS * 360
    assert_same(answers(rolled), hot)


@pytest.mark.parametrize("width", [720, 36, 6], ids=["points", "minutes", "hours"])
def test_compacted_ranges_are_aggregated_in_process_until_a_late_write(
    stored: dict[str, int], width: int
) -> None:
    def read(spec: Query) -> tuple[str, list[float | None]]:
        with database.transaction() as session:
            result = engine.query(session, spec, WINDOW, width, prefer_m4=True)
        return result.sql, [v for s in result.series for v in s.values]

    m4, buckets = Query(metric="cpu", group_by=["source"]), Query(metric="cpu")
    rate, p90 = Query(metric="requests", agg="rate"), Query(metric="cpu", agg="p90")
    compact(T0 + timedelta(days=3))
    for spec in (m4, buckets, rate):
        assert read(spec)[0].startswith("-- every row compacted")
    assert read(p90)[0].startswith("SELECT")  # percentiles need every point: SQL
    late = T0 + timedelta(hours=2, seconds=5)
    with database.transaction() as session:
        metrics.write_points(session, [(stored["cpu/h1"], late, 1e6)])
        rollups.refresh(session)
    sql, values = read(buckets)
    assert (
        sql.startswith("SELECT") and max(v for v in values if v is not None) > 100
    )  # others <= 100


def test_compaction_is_idempotent_and_waits_for_windows_to_close(stored: dict[str, int]) -> None:
    assert compact(MIDNIGHT + timedelta(minutes=30)) == 0  # the first day closed < 1 h ago
    moved = compact(MIDNIGHT + timedelta(hours=2))
    assert moved == 5 * 3 * 360
    assert compact(MIDNIGHT + timedelta(hours=2)) == 0
    with database.transaction() as session:
        chunk_rows = session.execute(select(ChunkRow.count, ChunkRow.min_ts, ChunkRow.max_ts)).all()
    assert len(chunk_rows) == 5 and sum(row.count for row in chunk_rows) == moved
    assert all(row.min_ts >= T0 and row.max_ts < MIDNIGHT for row in chunk_rows)


def test_late_writes_are_read_at_once_and_merged_at_the_next_compaction(
    stored: dict[str, int],
) -> None:
    compact(T0 + timedelta(days=3))
    sid = stored["cpu/h0"]
    overwritten = T0 + timedelta(minutes=10)  # a stored time: the new value wins
    new = T0 + timedelta(minutes=10, seconds=5)  # a new time inside the compacted window
    with database.transaction() as session:
        metrics.write_points(session, [(sid, overwritten, 1234.5), (sid, new, -7.0)])
    points = {(s, ts): value for s, ts, value in everything()}
    assert points[(sid, overwritten)] == 1234.5 and points[(sid, new)] == -7.0
    assert len(points) == 5 * HOURS * 360 + 1
    spec = Query(metric="cpu", agg="max", group_by=["source"])
    with database.transaction() as session:
        result = engine.query(session, spec, WINDOW, 720)
    assert max(v for v in result.series[0].values if v is not None) >= 1234.5
    assert compact(T0 + timedelta(days=3)) == 2
    assert hot_count() == 0
    merged = {(s, ts): value for s, ts, value in everything()}
    assert merged == points


def test_newest_points_come_from_chunks_when_no_hot_row_is_left(stored: dict[str, int]) -> None:
    with database.transaction() as session:
        before = metrics.last_points(session, list(stored.values()))
    compact(T0 + timedelta(days=3))
    with database.transaction() as session:
        assert metrics.last_points(session, list(stored.values())) == before


KILLED_HALFWAY = """
import sys, time
from datetime import datetime
from sqlalchemy.orm import Session
from db.tsdb import compaction
from db.engine import build_engine

engine = build_engine(sys.argv[1])
first, second = (datetime.fromisoformat(arg) for arg in sys.argv[2:4])
with Session(engine) as session, session.begin():
    compaction.compact_window(session, first, [int(s) for s in sys.argv[4:]])
with Session(engine) as session, session.begin():
    compaction.compact_window(session, second, [int(s) for s in sys.argv[4:]])
    print("halfway", flush=True)
    time.sleep(120)
"""


def test_compaction_killed_halfway_loses_and_doubles_nothing(
    stored: dict[str, int], database_url: str
) -> None:
    import signal
    import subprocess
    import sys

    before = everything()
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_HALFWAY, database_url, T0.replace(hour=0).isoformat(),
         MIDNIGHT.isoformat(), *map(str, stored.values())],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "halfway"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        child.stdout.close()
    assert everything() == before  # first day in chunks, second day still hot
    assert hot_count() == 5 * 3 * 360
    assert compact(T0 + timedelta(days=3)) == 5 * 3 * 360
    assert hot_count() == 0
    assert everything() == before


def hourly_chunks() -> dict[int, set[datetime]]:
    """The window starts of each series' hourly rollup chunks."""
    with database.transaction() as session:
        found = session.execute(
            select(RollupChunkRow.series_id, RollupChunkRow.window_start).where(
                RollupChunkRow.level == 3600
            )
        ).all()
    windows: dict[int, set[datetime]] = {}
    for sid, start in found:
        windows.setdefault(sid, set()).add(start)
    return windows


def lines(spec: Query, span: TimeRange, width: int) -> tuple[str, list[object]]:
    with database.transaction() as session:
        result = engine.query(session, spec, span, width)
    return result.source, [(s.name, s.timestamps, s.values) for s in result.series]


def test_late_writes_refresh_rollups_over_compacted_rollups(stored: dict[str, int]) -> None:
    with database.transaction() as session:
        rollups.refresh(session)
    compact(T0 + timedelta(days=3))
    assert hot_count() == 0 and rollup_rows() == 0
    assert hourly_chunks() == dict.fromkeys(stored.values(), HOURLY_WINDOWS)
    sid = stored["cpu/h1"]
    # An hour already compacted into the 30-day window that is still open (until March 8).
    with database.transaction() as session:
        metrics.write_points(session, [(sid, T0 + timedelta(hours=4, seconds=3), 5000.0)])
    specs = [Query(metric="cpu", agg="max", group_by=["source"]),  # 10 min: 1 m rollups
             Query(metric="cpu", agg="max", group_by=["source"], interval="1h")]  # fmt: skip
    pending = [lines(spec, WINDOW, 36) for spec in specs]  # the hour is pending: points
    with database.transaction() as session:
        rollups.refresh(session)
    rolled = [lines(spec, WINDOW, 36) for spec in specs]
    assert [source for source, _ in pending] == ["points", "points"]
    assert [source for source, _ in rolled] == ["rollups (60 s)", "rollups (3600 s)"]
    assert_same([series for _, series in rolled], [series for _, series in pending])
    assert all(5000.0 in series[1][2] for _, series in rolled)  # h1's line
    compact(T0 + timedelta(days=3))  # the refreshed buckets merge into the chunks
    assert hot_count() == 0 and rollup_rows() == 0
    assert hourly_chunks() == dict.fromkeys(stored.values(), HOURLY_WINDOWS)
    assert [lines(spec, WINDOW, 36) for spec in specs] == rolled


HOURLY = [Query(metric="cpu", agg=agg, group_by=["source"], interval="1h")
          for agg in ("avg", "min", "max", "sum", "count", "last")]  # fmt: skip
HOURLY.append(Query(metric="requests", agg="rate", interval="1h"))


def test_hourly_rollups_close_by_day_into_their_30_day_window(stored: dict[str, int]) -> None:
    sid = stored["cpu/h0"]
    later = [(sid, MIDNIGHT + timedelta(days=day, hours=hour, minutes=minute), day * 100.0 + hour)
             for day in (1, 2) for hour in range(0, 24, 5) for minute in (0, 30)]  # fmt: skip
    with database.transaction() as session:
        metrics.write_points(session, later)
        rollups.refresh(session)
    span = TimeRange(T0, MIDNIGHT + timedelta(days=2, hours=12))  # a part of a window
    before = [lines(spec, span, 200) for spec in HOURLY]
    assert {source for source, _ in before} == {"rollups (3600 s)"}
    expected = [{MIDNIGHT - timedelta(days=30)}, HOURLY_WINDOWS, HOURLY_WINDOWS, HOURLY_WINDOWS]
    for day, windows in enumerate(expected):  # the worker's run at 01:30 every day
        closed = MIDNIGHT + timedelta(days=day)
        compact(closed + timedelta(hours=1, minutes=30))
        with database.transaction() as session:
            hot = session.scalars(select(RollupRow.bucket).where(RollupRow.level == 3600)).all()
        assert min(hot, default=None) == (closed if day < 3 else None)  # open days stay hot
        assert hourly_chunks()[sid] == windows  # later days merge into the open window
        assert_same([lines(spec, span, 200) for spec in HOURLY], before)
    # A late point into the window's second day, compacted already: its refreshed hour
    # overrides the chunk's until the next compaction merges it in.
    with database.transaction() as session:
        metrics.write_points(session, [(sid, MIDNIGHT + timedelta(days=1, hours=10), 9999.0)])
    pending = [lines(spec, span, 200) for spec in HOURLY]
    with database.transaction() as session:
        rollups.refresh(session)
    rolled = [lines(spec, span, 200) for spec in HOURLY]
    assert {source for source, _ in pending[:-1]} == {"points"}  # cpu's hour is pending
    assert {source for source, _ in rolled} == {"rollups (3600 s)"}
    assert_same([series for _, series in rolled], [series for _, series in pending])
    assert 9999.0 in rolled[2][1][0][2]  # max of h0
    compact(MIDNIGHT + timedelta(days=3, hours=1, minutes=30))
    assert rollup_rows() == 0 and hourly_chunks()[sid] == HOURLY_WINDOWS
    assert_same([lines(spec, span, 200) for spec in HOURLY], rolled)


def test_a_read_is_one_snapshot_while_compaction_commits(stored: dict[str, int]) -> None:
    before = everything()
    spans = [(sid, ALL_TIME.start, ALL_TIME.end) for sid in stored.values()]
    with database.read_session() as session:
        cold = chunks.cold_points(session, spans)  # nothing compacted yet
        compact(T0 + timedelta(days=3))  # another transaction moves every point to chunks
        hot = session.execute(select(chunks.hot_points(spans).subquery())).all()
    assert len(cold) == 0 and len(hot) == len(before)  # the hot rows as of the first read
    assert everything() == before


def test_late_writes_into_compacted_counters_keep_rates_exact(stored: dict[str, int]) -> None:
    compact(T0 + timedelta(days=3))
    sid = stored["requests/h0"]
    late = [(sid, T0 + timedelta(minutes=20), 0.5),  # overwrites a point: a counter reset
            (sid, T0 + timedelta(minutes=20, seconds=3), 1e6)]  # fmt: skip
    with database.transaction() as session:
        metrics.write_points(session, late)
    specs = [Query(metric="requests", agg="rate"), Query(metric="requests", agg="rate",
                                                         interval="2d")]  # fmt: skip

    def rates() -> list[object]:
        with database.transaction() as session:
            return [
                [(s.timestamps, s.values) for s in engine.query(session, spec, WINDOW, 36).series]
                for spec in specs
            ]

    overridden = rates()  # hot rows inside a compacted window: that window is not merged
    assert compact(T0 + timedelta(days=3)) == 2 and hot_count() == 0
    assert_same(overridden, rates())


def test_recent_spans_skip_the_chunk_lookup_except_near_midnight() -> None:
    # Compaction only closes days before the current one, so a refresh's recent minutes
    # need no chunk lookup; near midnight a worker's clock may already be in the next day.
    noon = datetime(2026, 5, 1, 12, tzinfo=UTC)
    assert not chunks.may_hold_chunks([(1, noon - timedelta(minutes=15), noon)], now=noon)
    assert chunks.may_hold_chunks([(1, noon - timedelta(days=1), noon)], now=noon)
    late = datetime(2026, 5, 1, 23, 55, tzinfo=UTC)
    assert chunks.may_hold_chunks([(1, late - timedelta(minutes=15), late)], now=late)


def test_a_backlog_with_gaps_compacts_in_bounded_transactions() -> None:
    """A week of hot rows in daily partitions: a dense series, a sparse one with a five-day
    gap (past the probe's narrow two-day reach) and a late point into an old day. Capped
    transactions each stay near their cap, and every point ends in a chunk exactly once."""
    day0 = datetime(2026, 3, 1, tzinfo=UTC)
    with database.transaction() as session:
        created = partitions.ensure(session, day0, day0 + timedelta(days=8))  # 0 on SQLite
        keys = [metrics.series_key("load", source, {}) for source in ("dense", "gap")]
        ids = metrics.resolve_series(session, keys)
        dense, sparse = ids[keys[0]], ids[keys[1]]
        rows = [(dense, day0 + timedelta(minutes=10 * i), float(i)) for i in range(7 * 144)]
        rows += [(sparse, day0 + timedelta(hours=3), 1.0), (sparse, day0 + timedelta(days=5), 2.0)]
        metrics.write_points(session, rows)
    before = everything()
    now = day0 + timedelta(days=7, hours=2)

    def drain(**caps: int) -> list[int]:
        moves = []
        while True:
            with database.transaction() as session:
                moved = compaction.compact(session, now=now, **caps)
            if not moved:
                return moves
            moves.append(moved)

    moves = drain(limit=3, max_points=200)
    assert len(moves) > 3 and max(moves) <= 200 + 144  # the cap, overshot by one statement at most
    assert hot_count() == 0 and everything() == before
    late = (dense, day0 + timedelta(days=1, seconds=1), -1.0)  # into a day two chunks back
    with database.transaction() as session:
        metrics.write_points(session, [late])
    assert drain() == [1] and hot_count() == 0
    assert everything() == sorted([*before, late])
    with database.transaction() as session:  # every partition drained: maintenance drops them
        assert partitions.drop_drained(session, day0 + timedelta(days=8)) == created
