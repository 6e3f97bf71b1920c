"""Storage: bytes per point, compaction rate, queries and ingest on compacted data.

Loads ``--points`` points (default 50 million; realistic shapes: noisy gauges and
counters every 10 s, gauges every 60 s, sparse irregular events) over ``--days`` days
into a scratch PostgreSQL database with binary COPY, rolls them up, then in one run:

1. row table: bytes per point on disk (heap + indexes + partitions); a copy of the
   database is kept as it is (``<name>_rows``) for the query comparison;
2. compaction of every closed day (timed: points per second, one worker process);
3. chunk table: bytes per point (with TOAST and index), the whole database per point;
   panel queries (1 h, 24 h, 30 d at 1,000 px; one series and one metric by host; a
   24 h p99; single-number totals over 24 h and 30 d) on compacted data as a ratio to
   the same queries on the row-table copy, rounds alternating between the two
   databases (median and best of each);
4. ingest (``write_points``, the API's COPY path, 5,000-point batches) beside a
   compaction process vs alone, rounds alternating: compaction at the worker's pace (a
   job a minute) and back to back (``dashapp compact`` catching up).

    .venv/bin/python bench/storage.py --points 10000000 [--days 90] [--reuse]

Its scratch database is ``dashapp_bench_storage`` (``BENCH_STORAGE_DB`` to use another).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg
from flask import Flask
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashapp import create_app  # noqa: E402
from dashapp.core.spec import Query  # noqa: E402
from dashapp.core.timerange import TimeRange  # noqa: E402
from dashapp.extensions import database  # noqa: E402
from db.tsdb import compaction, metrics, partitions, rollups  # noqa: E402
from db.tsdb.query import query, summarize  # noqa: E402

DB_NAME = os.environ.get("BENCH_STORAGE_DB", "dashapp_bench_storage")
ROWS_DB = f"{DB_NAME}_rows"
ADMIN_DSN = os.environ.get("BENCH_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres")
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
PG_EPOCH_US = 946_684_800_000_000
COPY_ROW = np.dtype(
    [("n", ">i2"), ("l1", ">i4"), ("sid", ">i8"), ("l2", ">i4"), ("ts", ">i8"),
     ("l3", ">i4"), ("v", ">f8")]
)  # fmt: skip
# (metric, interval in s or 0 for sparse, share of the points)
SHAPES = [("cpu.usage", 10, 0.35), ("http.requests", 10, 0.35), ("disk.used", 60, 0.2),
          ("deploys", 0, 0.1)]  # fmt: skip


def log(message: str) -> None:
    print(message, flush=True)


def url(name: str = DB_NAME) -> str:
    params = dict(part.split("=", 1) for part in ADMIN_DSN.split())
    return (f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host')}:"
            f"{params.get('port', '5432')}/{name}")  # fmt: skip


def bench_app(name: str = DB_NAME) -> Flask:
    return create_app({"DATABASE_URL": url(name), "DASHAPP_ENV": "test",
                       "STATEMENT_TIMEOUT_MS": 600_000})  # fmt: skip


def copy_database() -> None:
    """Keep the loaded database as it is in ``ROWS_DB`` (a file copy; no open connections)."""
    database.engine.dispose()
    with psycopg.connect(ADMIN_DSN + " dbname=postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{ROWS_DB}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{ROWS_DB}" TEMPLATE "{DB_NAME}" STRATEGY FILE_COPY')


def series_values(metric: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Values of one series with ``n`` points in a realistic shape."""
    phase = np.arange(n) / max(n, 1) * 90 * 2 * np.pi
    if metric == "cpu.usage":
        return np.clip(np.round(40 + 20 * np.sin(phase) + rng.normal(0, 4, n), 2), 0, 100)
    if metric == "http.requests":
        return np.cumsum(rng.poisson(150, n)).astype(np.float64)
    if metric == "disk.used":
        return (5e11 + np.cumsum(rng.integers(0, 1 << 20, n))).astype(np.float64)
    return np.round(rng.exponential(30, n), 1)


def load(points: int, days: int, start: datetime) -> int:
    """COPY ``points`` points over ``days`` days ending at ``start + days``; returns count."""
    rng = np.random.default_rng(42)
    span_s = days * 86_400
    begin_us = int(start.timestamp() * 1e6)
    keys, plans = [], []
    for metric, interval, share in SHAPES:
        per_series = span_s // interval if interval else 2_000
        hosts = max(1, round(points * share / per_series))
        for host in range(hosts):
            keys.append(metrics.series_key(metric, f"host-{host:04d}", {"dc": f"dc{host % 3}"}))
            plans.append((metric, interval, per_series))
    with database.transaction() as session:
        ids = metrics.resolve_series(session, keys)
    raw = database.engine.raw_connection()
    total = 0
    try:
        with raw.cursor() as cursor:
            for key, (metric, interval, n) in zip(keys, plans, strict=True):
                if interval:
                    offsets = np.arange(n, dtype=np.int64) * interval * 1_000_000
                else:
                    offsets = np.sort(rng.choice(span_s * 1_000_000, n, replace=False))
                rows = np.empty(n, COPY_ROW)
                rows["n"], rows["l1"], rows["l2"], rows["l3"] = 3, 8, 8, 8
                rows["sid"] = ids[key]
                rows["ts"] = begin_us + offsets - PG_EPOCH_US
                rows["v"] = series_values(metric, n, rng)
                payload = b"PGCOPY\n\xff\r\n\x00" + bytes(8) + rows.tobytes() + b"\xff\xff"
                with cursor.copy("COPY metric_points FROM STDIN (FORMAT BINARY)") as copy:
                    copy.write(payload)
                total += n
        raw.commit()
    finally:
        raw.close()
    return total


def backfill_rollups() -> None:
    """Roll up every series over the loaded range, a few series per transaction (a bulk
    load's backfill; the worker's queue goes hour by hour, oldest first)."""
    with database.transaction() as session:
        ids = list(session.execute(text("SELECT id FROM series ORDER BY id")).scalars())
        low, high = session.execute(text("SELECT min(ts), max(ts) FROM metric_points")).one()
    start = low.replace(minute=0, second=0, microsecond=0)
    end = high.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    for first in range(0, len(ids), 8):
        with database.transaction() as session:
            rollups.rebuild(session, [(sid, start, end) for sid in ids[first : first + 8]])


def sizes() -> dict[str, int]:
    """Bytes on disk: hot rows (all partitions, indexes), chunks (TOAST, index), rollups, db."""
    with database.transaction() as session:

        def total(table: str) -> int:
            return session.execute(text(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "WHERE c.oid = to_regclass(:t) OR c.oid IN "
                "(SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass(:t))"
            ), {"t": table}).scalar_one()  # fmt: skip

        return {
            "rows": total("metric_points"),
            "chunks": total("metric_chunks"),
            "rollups": total("metric_rollups") + total("rollup_pending"),
            "rollup_chunks": total("metric_rollup_chunks"),
            "database": session.execute(
                text("SELECT pg_database_size(current_database())")
            ).scalar_one(),
        }


def vacuum() -> None:
    with psycopg.connect(ADMIN_DSN + f" dbname={DB_NAME}", autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def stored_points() -> int:
    with database.transaction() as session:
        hot = session.execute(text("SELECT count(*) FROM metric_points")).scalar_one()
        cold = session.execute(text("SELECT coalesce(sum(count), 0) FROM metric_chunks"))
        return hot + cold.scalar_one()


BY_HOST = Query(metric="cpu.usage", source="host-000*", group_by=["source"])
PANELS = {
    "1h, one series (M4)": (timedelta(hours=1), Query(metric="cpu.usage", source="host-0000")),
    "24h, one series (M4)": (timedelta(days=1), Query(metric="cpu.usage", source="host-0000")),
    "30d, one series (M4)": (timedelta(days=30), Query(metric="cpu.usage", source="host-0000")),
    "1h, 8 hosts avg by host": (timedelta(hours=1), BY_HOST),
    "24h, 8 hosts avg by host": (timedelta(days=1), BY_HOST),
    "30d, 8 hosts avg by host": (timedelta(days=30), BY_HOST),
    "24h p99, one series": (timedelta(days=1),
                            Query(metric="cpu.usage", source="host-0000", agg="p99")),
}  # fmt: skip
SUMMARIES = {
    "24h stat, 8 hosts by host": (timedelta(days=1), BY_HOST),
    "30d stat, 8 hosts by host": (timedelta(days=30), BY_HOST),
}
"""Single-number panels (stat, gauge, table): exact totals of each host over the range."""


def panel_times(apps: dict[str, Flask], end: datetime, rounds: int) -> dict[str, dict]:
    """Latencies (ms) of each panel ending ``end`` (two days old data) on each app's
    database, by label then panel; rounds alternate between the apps."""
    found: dict[str, dict[str, list[float]]] = {label: {} for label in apps}
    for _ in range(rounds):
        for label, app in apps.items():
            with app.app_context():
                for name, (span, spec) in {**PANELS, **SUMMARIES}.items():
                    started = time.perf_counter()
                    with database.read_session() as session:
                        if name in SUMMARIES:
                            summarize(session, spec, TimeRange(end - span, end))
                        else:
                            query(session, spec, TimeRange(end - span, end), 1000, prefer_m4=True)
                    elapsed = (time.perf_counter() - started) * 1000
                    found[label].setdefault(name, []).append(elapsed)
    return found


def compact_all() -> tuple[int, float]:
    started = time.perf_counter()
    moved = 0
    while True:
        with database.transaction() as session:
            count = compaction.compact(session)
        if not count:
            return moved, time.perf_counter() - started
        moved += count


COMPACTOR = """
import sys, time
sys.path.insert(0, sys.argv[2])
from dashapp import create_app
from dashapp.extensions import database
from db.tsdb import compaction
paced = sys.argv[3] == "paced"
with create_app({"DATABASE_URL": sys.argv[1], "DASHAPP_ENV": "test"}).app_context():
    moved = 0
    while True:
        with database.transaction() as session:
            count = compaction.compact(session)  # the worker's job: one transaction
        moved += count
        print(moved, flush=True)
        if paced or not count:
            time.sleep(60 if paced else 1)  # the worker runs it once a minute
"""
"""A compactor process: ``flat`` runs transactions back to back (``dashapp compact``
catching up), ``paced`` one a minute (``dashapp worker``)."""


def ingest_rate(seconds: float) -> float:
    """Points/s of write_points (5,000-point batches of recent points) for ``seconds``."""
    with database.transaction() as session:
        keys = [metrics.series_key("ingest.test", f"h{i}", {}) for i in range(250)]
        ids = list(metrics.resolve_series(session, keys).values())
    written, started = 0, time.perf_counter()
    tick = 0
    while time.perf_counter() - started < seconds:
        tick += 1
        at = NOW - timedelta(minutes=30) + timedelta(microseconds=tick)
        batch = [(sid, at + timedelta(seconds=k), float(k)) for sid in ids for k in range(20)]
        with database.transaction() as session:
            written += metrics.write_points(session, batch)
    return written / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=50_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--ingest-seconds", type=float, default=60)
    parser.add_argument("--reuse", action="store_true", help="skip loading (done before)")
    parser.add_argument("--no-ingest", action="store_true", help="stop after the panel queries")
    args = parser.parse_args()
    start = (NOW - timedelta(days=args.days + 2)).replace(hour=0)
    if not args.reuse:
        with psycopg.connect(ADMIN_DSN + " dbname=postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{DB_NAME}"')
        from db.migrate import upgrade

        upgrade(url())
    app = bench_app()
    with app.app_context():
        if not args.reuse:
            with database.transaction() as session:
                partitions.ensure(session, start, NOW + timedelta(days=2))
            t = time.perf_counter()
            loaded = load(args.points, args.days, start)
            log(f"loaded {loaded:,} points in {time.perf_counter() - t:.0f} s")
            t = time.perf_counter()
            backfill_rollups()
            log(f"rollups in {time.perf_counter() - t:.0f} s")
            vacuum()
            t = time.perf_counter()
            copy_database()
            log(f"row-table copy {ROWS_DB} in {time.perf_counter() - t:.0f} s")
        points = stored_points()
        before = sizes()
        log(f"row table: {before['rows'] / points:.1f} B/point; rollups "
            f"{before['rollups'] / points:.1f}; "
            f"database {before['database'] / points:.1f}")  # fmt: skip
        moved, seconds = compact_all()
        if moved:  # (nothing on a --reuse of a compacted database)
            log(f"compacted {points:,} points (and {moved - points:,} rollup rows) in "
                f"{seconds:.0f} s: {points / seconds:,.0f} points/s")  # fmt: skip
        vacuum()
        with database.transaction() as session:
            _, dropped = partitions.maintain(session, delay=compaction.DEFAULT_DELAY)
        log(f"partitions dropped after compaction: {dropped}")
        after = sizes()
        log(f"chunks: {after['chunks'] / points:.2f} B/point (TOAST and index included); "
            f"rollup chunks {after['rollup_chunks'] / points:.2f}; hot rows left "
            f"{after['rows'] / points:.2f}; rollup table (emptied, not shrunk) "
            f"{after['rollups'] / points:.1f}; "
            f"database {after['database'] / points:.1f} B/point, "
            f"{(after['database'] - after['rollups']) / points:.1f} without that emptied "
            f"table (space PostgreSQL keeps for reuse; VACUUM FULL returns it)")  # fmt: skip
        end = start + timedelta(days=args.days - 1)
        times = panel_times({"rows": bench_app(ROWS_DB), "chunks": app}, end, args.rounds)
        log(f"{'panel':28s} {'rows ms':>8s} {'chunks ms':>9s} {'ratio':>6s} "
            f"{'best rows':>9s} {'chunks':>7s} {'ratio':>6s}   (medians, then best of "
            f"{args.rounds} alternating rounds)")  # fmt: skip
        for name in {**PANELS, **SUMMARIES}:
            rows, cold = times["rows"][name], times["chunks"][name]
            mid = statistics.median(rows), statistics.median(cold)
            best = min(rows), min(cold)
            log(f"{name:28s} {mid[0]:8.1f} {mid[1]:9.1f} {mid[1] / mid[0]:6.2f} "
                f"{best[0]:9.1f} {best[1]:7.1f} {best[1] / best[0]:6.2f}")  # fmt: skip
        if not args.no_ingest:
            ingest_ratio(args, start)


def settle() -> None:
    """Remove the points earlier measurements wrote, vacuum and checkpoint: each
    measurement starts from the same table and does not pay for the last one's writes."""
    with psycopg.connect(ADMIN_DSN + f" dbname={DB_NAME}", autocommit=True) as connection:
        written = "SELECT id FROM series WHERE name = 'ingest.test'"
        connection.execute(f"DELETE FROM metric_points WHERE series_id IN ({written})")
        connection.execute(f"DELETE FROM rollup_pending WHERE series_id IN ({written})")
        connection.execute("VACUUM ANALYZE")
        connection.execute("CHECKPOINT")


def beside_compaction(mode: str, seconds: float) -> tuple[float, str]:
    """Ingest points/s while a compactor process runs in ``mode``; and what it moved."""
    child = subprocess.Popen(
        [sys.executable, "-c", COMPACTOR, url(), str(ROOT), mode], stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    time.sleep(1)
    rate = ingest_rate(seconds)
    child.terminate()
    out, _ = child.communicate()
    return rate, (out.split()[-1] if out.split() else "0")


def ingest_ratio(args: argparse.Namespace, start: datetime) -> None:
    """Ingest beside compaction vs alone, rounds alternating: beside the worker's pace
    (its compaction job, up to a million points, once a minute: once in a round of the
    default 60 s) and beside transactions back to back (``dashapp compact`` catching up
    a backlog of ten days)."""
    rates: dict[str, list[float]] = {"alone": [], "paced": [], "flat": []}
    for _ in range(2):
        settle()
        rates["alone"].append(ingest_rate(args.ingest_seconds))
        # Give the compactors work: ten more old days of the first shapes, still hot.
        load(min(args.points // 5, 10_000_000), 10, start)
        moved = {}
        for mode in ("paced", "flat"):
            settle()
            rate, moved[mode] = beside_compaction(mode, args.ingest_seconds)
            rates[mode].append(rate)
        log(f"  ingest alone {rates['alone'][-1]:,.0f}/s; beside the worker's compaction "
            f"{rates['paced'][-1]:,.0f}/s (it moved {moved['paced']} points); beside "
            f"compaction back to back {rates['flat'][-1]:,.0f}/s "
            f"(it moved {moved['flat']})")  # fmt: skip
        compact_all()
    alone = statistics.median(rates["alone"])
    log(f"ingest beside compaction / alone (medians of 2 rounds): worker's pace "
        f"{statistics.median(rates['paced']) / alone:.2f}, back to back "
        f"{statistics.median(rates['flat']) / alone:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
