"""Ingest benchmark: POST /api/v1/metrics under gunicorn versus a raw binary COPY.

Both push the same 1,000,000 points (100 series x 10,000 timestamps) into the same
``metric_points`` table of a scratch PostgreSQL database, in the same run:

* API: gunicorn serving ``wsgi:app``; 4 client processes send pre-encoded JSON
  batches of 5,000 points over keep-alive connections (encoding is not timed).
* raw COPY: one psycopg connection, ``COPY ... FROM STDIN (FORMAT BINARY)`` with
  ``write_row`` of ready (series_id, timestamp, value) tuples.

Rounds alternate API and COPY runs on an emptied table; prints the median rates and
their ratio (target: API >= 0.5 x raw COPY).

    .venv/bin/python bench/ingest.py [--points 1000000] [--workers 3] [--port 18061]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_DSN = os.environ.get("BENCH_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres")
START = datetime(2026, 1, 1, tzinfo=UTC)


def series_names(count: int) -> list[tuple[str, str]]:
    """(metric, source) of each series: 10 metrics per source."""
    return [(f"bench.metric{i % 10}", f"host-{i // 10:02d}") for i in range(count)]


def make_batches(points: int, series: int, batch: int, offset: timedelta) -> list[bytes]:
    """JSON bodies of ``batch`` points each, every series at each timestamp in turn."""
    names = series_names(series)
    steps = points // series
    base = (START + offset).timestamp()
    items = [
        {"name": n, "source": s, "value": (step * 7 + i) % 1000 / 10, "timestamp": base + step}
        for step in range(steps)
        for i, (n, s) in enumerate(names)
    ]
    return [orjson.dumps(items[i : i + batch]) for i in range(0, len(items), batch)]


def raw_rows(points: int, series: int, ids: dict[tuple[str, str], int]) -> list[tuple]:
    """The same points as (series_id, timestamp, value) tuples."""
    names = series_names(series)
    return [
        (ids[(n, s)], START + timedelta(seconds=step), (step * 7 + i) % 1000 / 10)
        for step in range(points // series)
        for i, (n, s) in enumerate(names)
    ]


def post_all(port: int, token: str, bodies: list[bytes], ready, go) -> None:  # type: ignore[no-untyped-def]
    """One client: POST every body over one keep-alive connection; fail loudly."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    ready.wait()
    go.wait()
    for body in bodies:
        connection.request("POST", "/api/v1/metrics", body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        if response.status != 201:
            raise SystemExit(f"POST failed: {response.status} {payload[:300]!r}")
    connection.close()


def run_clients(port: int, token: str, bodies: list[bytes], clients: int) -> float:
    """Seconds for ``clients`` processes to POST ``bodies`` (split round-robin)."""
    context = multiprocessing.get_context("fork")
    ready, go = context.Barrier(clients + 1), context.Event()
    shares = [bodies[i::clients] for i in range(clients)]
    processes = [
        context.Process(target=post_all, args=(port, token, share, ready, go)) for share in shares
    ]
    for process in processes:
        process.start()
    ready.wait()
    started = time.perf_counter()
    go.set()
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    if any(process.exitcode for process in processes):
        raise SystemExit("a client failed")
    return elapsed


def wait_ready(port: int, server: subprocess.Popen, timeout: float = 60) -> None:
    """Poll /api/v1/ready until gunicorn answers 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("gunicorn exited")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/v1/ready")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("gunicorn did not become ready")


def raw_copy(dsn: str, rows: list[tuple]) -> float:
    """Seconds for one binary COPY of ``rows`` into metric_points (committed)."""
    with psycopg.connect(dsn) as connection:
        started = time.perf_counter()
        with connection.cursor() as cursor:
            copy_sql = "COPY metric_points (series_id, ts, value) FROM STDIN (FORMAT BINARY)"
            with cursor.copy(copy_sql) as copy:
                copy.set_types(["int8", "timestamptz", "float8"])
                for row in rows:
                    copy.write_row(row)
        connection.commit()
        return time.perf_counter() - started


def reset_points(dsn: str) -> None:
    """Empty metric_points (series stay, so the API's series-id caches stay valid)."""
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute("TRUNCATE metric_points")
        connection.execute("VACUUM ANALYZE")


def count_points(dsn: str) -> int:
    """Rows in metric_points."""
    with psycopg.connect(dsn) as connection:
        return connection.execute("SELECT count(*) FROM metric_points").fetchone()[0]


def main() -> None:
    """Run both measurements and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--port", type=int, default=18061)
    parser.add_argument("--rounds", type=int, default=3, help="API and COPY runs, alternating")
    parser.add_argument("--database", default=f"dashapp_bench_{uuid.uuid4().hex[:8]}")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""))
    args = parser.parse_args()

    from sqlalchemy.orm import Session

    from db import migrate, tokens
    from db.engine import build_engine
    from db.metrics import resolve_series, series_key

    admin = psycopg.connect(ADMIN_DSN + " dbname=postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{args.database}"')
    dsn = f"{ADMIN_DSN} dbname={args.database}"
    params = dict(part.split("=", 1) for part in ADMIN_DSN.split())
    url = (
        f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}"
        f":{params.get('port', '5432')}/{args.database}"
    )
    server = None
    try:
        migrate.upgrade(url)
        engine = build_engine(url)
        with Session(engine) as session, session.begin():
            token = tokens.create_token(session, "bench", ["ingest"]).token
            keys = [series_key(n, s, {}) for n, s in series_names(args.series)]
            resolved = resolve_series(session, keys)
        ids = {(key[0], key[1]): sid for key, sid in resolved.items()}
        engine.dispose()

        print(f"encoding {args.points:,} points ...", flush=True)
        bodies = make_batches(args.points, args.series, args.batch, timedelta(0))
        warmup = make_batches(args.series * 4 * args.workers, args.series, args.series,
                              timedelta(days=-30))  # fmt: skip
        rows = raw_rows(args.points, args.series, ids)

        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DASHAPP_ENV": "production",
            "SECRET_KEY": uuid.uuid4().hex * 2,
            "HOST": "127.0.0.1",
            "PORT": str(args.port),
            "WEB_CONCURRENCY": str(args.workers),
            "GUNICORN_THREADS": str(args.threads),
            "ACCESS_LOG": "0",
            "API_RATE_LIMIT": "100000/second",
        }
        if args.redis_url:
            env["REDIS_URL"] = args.redis_url
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_ready(args.port, server)
        run_clients(args.port, token, warmup, args.clients)  # imports, pools, series ids
        reset_points(dsn)

        api_times, raw_times = [], []
        for _ in range(args.rounds):
            api_times.append(run_clients(args.port, token, bodies, args.clients))
            api_count = count_points(dsn)
            assert api_count == args.points, f"API stored {api_count} points, not {args.points}"
            reset_points(dsn)
            raw_times.append(raw_copy(dsn, rows))
            raw_count = count_points(dsn)
            assert raw_count == args.points, f"COPY stored {raw_count} rows, not {args.points}"
            reset_points(dsn)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
        admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        admin.close()

    api_seconds, raw_seconds = statistics.median(api_times), statistics.median(raw_times)
    api_rate, raw_rate = args.points / api_seconds, args.points / raw_seconds
    print(f"machine: {os.cpu_count()} cores; gunicorn {args.workers} workers x "
          f"{args.threads} threads; {args.clients} clients; batches of {args.batch:,}; "
          f"median of {args.rounds} rounds")  # fmt: skip
    print(f"API  POST /api/v1/metrics : {api_rate:>10,.0f} points/s ({_seconds(api_times)})")
    print(f"raw  psycopg binary COPY  : {raw_rate:>10,.0f} rows/s   ({_seconds(raw_times)})")
    print(f"ratio API / raw COPY      : {api_rate / raw_rate:.2f}  (target >= 0.5)")


def _seconds(times: list[float]) -> str:
    return "rounds: " + ", ".join(f"{t:.2f}" for t in times) + " s"


if __name__ == "__main__":
    main()
