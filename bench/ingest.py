"""Ingest benchmark: every push protocol under gunicorn versus a raw binary COPY.

The same 1,000,000 points (100 series x 10,000 timestamps) go into the same
``metric_points`` table of a scratch PostgreSQL database, in the same run, through:

* JSON: ``POST /api/v1/metrics``, batches of 5,000 points;
* line protocol: ``POST /api/v2/write`` (InfluxDB v2), one field per line;
* Prometheus remote write: ``POST /api/v1/prom/write``, snappy protobuf;
* OTLP: ``POST /v1/metrics``, protobuf gauges;
* raw COPY: one psycopg connection, ``COPY ... FROM STDIN (FORMAT BINARY)`` with
  ``write_row`` of ready (series_id, timestamp, value) tuples.

The server runs as a user runs it: gunicorn with the shipped ``gunicorn.conf.py``
serving ``wsgi:app`` (Redis on when ``--redis-url`` or ``REDIS_URL`` is given). 4 client
processes send pre-encoded bodies of 5,000 points over keep-alive connections (encoding
is not timed). Each round runs every protocol, then COPY, on an emptied table; prints
the median rates and their ratios to JSON and to raw COPY (targets: every protocol
>= 0.8 x JSON, JSON >= 0.6 x raw COPY).

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

import cramjam
import orjson
import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ADMIN_DSN = os.environ.get("BENCH_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres")
START = datetime(2026, 1, 1, tzinfo=UTC)


def series_names(count: int) -> list[tuple[str, str]]:
    """(metric, source) of each series: 10 metrics per source."""
    return [(f"bench.metric{i % 10}", f"host-{i // 10:02d}") for i in range(count)]


Request = tuple[str, dict[str, str], bytes]
"""(path, headers without auth, body) of one POST."""
EXPECTED_STATUS = {"json": 201, "line": 204, "prometheus": 204, "otlp": 200}


def point_batches(points: int, series: int, batch: int, offset: timedelta) -> list[list[tuple]]:
    """Batches of (metric, source, value, epoch seconds): each batch covers every series
    for ``batch // series`` consecutive timestamps."""
    names = series_names(series)
    steps = points // series
    base = int((START + offset).timestamp())
    per_batch = max(1, batch // series)
    batches = []
    for first in range(0, steps, per_batch):
        batches.append(
            [
                (n, s, (step * 7 + i) % 1000 / 10, base + step)
                for step in range(first, min(first + per_batch, steps))
                for i, (n, s) in enumerate(names)
            ]
        )
    return batches


def encode_json(items: list[tuple]) -> Request:
    """A JSON array body for /api/v1/metrics."""
    body = orjson.dumps(
        [{"name": n, "source": s, "value": v, "timestamp": t} for n, s, v, t in items]
    )
    return "/api/v1/metrics", {"Content-Type": "application/json"}, body


def encode_line(items: list[tuple]) -> Request:
    """Line protocol for /api/v2/write: ``bench,host=<source> metricK=<value> <seconds>``."""
    lines = [f"{n.split('.')[0]},host={s} {n.split('.')[1]}={v} {t}" for n, s, v, t in items]
    body = "\n".join(lines).encode()
    return "/api/v2/write?bucket=bench&precision=s", {"Content-Type": "text/plain"}, body


def encode_prometheus(items: list[tuple]) -> Request:
    """A snappy remote-write WriteRequest: one time series per (metric, source)."""
    from dashapp.core.protocols.prometheus import WriteRequest

    request = WriteRequest()
    by_series: dict[tuple[str, str], list[tuple[float, int]]] = {}
    for n, s, v, t in items:
        by_series.setdefault((n, s), []).append((v, t * 1000))
    for (n, s), samples in by_series.items():
        series = request.timeseries.add()
        series.labels.add(name="__name__", value=n)
        series.labels.add(name="instance", value=s)
        for value, milliseconds in samples:
            series.samples.add(value=value, timestamp=milliseconds)
    body = bytes(cramjam.snappy.compress_raw(request.SerializeToString()))
    headers = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"}
    return "/api/v1/prom/write", headers, body


def encode_otlp(items: list[tuple]) -> Request:
    """An OTLP ExportMetricsServiceRequest: one resource per source, gauges per metric."""
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
        ExportMetricsServiceRequest,
    )

    by_source: dict[str, dict[str, list[tuple[float, int]]]] = {}
    for n, s, v, t in items:
        by_source.setdefault(s, {}).setdefault(n, []).append((v, t * 1_000_000_000))
    request = ExportMetricsServiceRequest()
    for source, metrics in by_source.items():
        resource = request.resource_metrics.add()
        resource.resource.attributes.add(key="service.name").value.string_value = source
        scope = resource.scope_metrics.add()
        for name, samples in metrics.items():
            gauge = scope.metrics.add(name=name).gauge
            for value, nanoseconds in samples:
                gauge.data_points.add(as_double=value, time_unix_nano=nanoseconds)
    return "/v1/metrics", {"Content-Type": "application/x-protobuf"}, request.SerializeToString()


ENCODERS = {"json": encode_json, "line": encode_line, "prometheus": encode_prometheus,
            "otlp": encode_otlp}  # fmt: skip


def make_requests(
    protocol: str, points: int, series: int, batch: int, offset: timedelta
) -> list[Request]:
    """Pre-encoded requests carrying ``points`` points in ``protocol``."""
    encode = ENCODERS[protocol]
    return [encode(items) for items in point_batches(points, series, batch, offset)]


def raw_rows(points: int, series: int, ids: dict[tuple[str, str], int]) -> list[tuple]:
    """The same points as (series_id, timestamp, value) tuples."""
    names = series_names(series)
    return [
        (ids[(n, s)], START + timedelta(seconds=step), (step * 7 + i) % 1000 / 10)
        for step in range(points // series)
        for i, (n, s) in enumerate(names)
    ]


def post_all(port: int, token: str, requests: list[Request], status: int, ready, go) -> None:  # type: ignore[no-untyped-def]
    """One client: POST every request over one keep-alive connection; fail loudly."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    ready.wait()
    go.wait()
    for path, headers, body in requests:
        connection.request("POST", path, body=body,
                           headers={**headers, "Authorization": f"Bearer {token}"})  # fmt: skip
        response = connection.getresponse()
        payload = response.read()
        if response.status != status:
            raise SystemExit(f"POST {path} failed: {response.status} {payload[:300]!r}")
    connection.close()


def run_clients(port: int, token: str, requests: list[Request], status: int, clients: int) -> float:
    """Seconds for ``clients`` processes to POST ``requests`` (split round-robin)."""
    context = multiprocessing.get_context("fork")
    ready, go = context.Barrier(clients + 1), context.Event()
    shares = [requests[i::clients] for i in range(clients)]
    processes = [
        context.Process(target=post_all, args=(port, token, share, status, ready, go))
        for share in shares
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
    """Run every measurement and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--batch", type=int, default=5_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: as shipped)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: as shipped)")
    parser.add_argument("--port", type=int, default=18061)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of every protocol and COPY")
    parser.add_argument("--protocols", default=",".join(ENCODERS), help="comma-separated")
    parser.add_argument("--database", default=f"dashapp_bench_{uuid.uuid4().hex[:8]}")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                        help="empty to run without Redis")  # fmt: skip
    args = parser.parse_args()
    protocols = [name.strip() for name in args.protocols.split(",") if name.strip()]

    from sqlalchemy.orm import Session

    from db import migrate, tokens
    from db.engine import build_engine
    from db.tsdb.metrics import resolve_series, series_key

    admin = psycopg.connect(ADMIN_DSN + " dbname=postgres", autocommit=True)
    admin.execute(f'CREATE DATABASE "{args.database}"')
    dsn = f"{ADMIN_DSN} dbname={args.database}"
    params = dict(part.split("=", 1) for part in ADMIN_DSN.split())
    url = (
        f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}"
        f":{params.get('port', '5432')}/{args.database}"
    )
    server = None
    times: dict[str, list[float]] = {name: [] for name in [*protocols, "copy"]}
    try:
        migrate.upgrade(url)
        engine = build_engine(url)
        with Session(engine) as session, session.begin():
            token = tokens.create_token(session, "bench", ["ingest"]).token
            keys = [series_key(n, s, {}) for n, s in series_names(args.series)]
            resolved = resolve_series(session, keys)
        ids = {(key[0], key[1]): sid for key, sid in resolved.items()}
        engine.dispose()

        print(f"encoding {args.points:,} points for {', '.join(protocols)} ...", flush=True)
        requests = {
            name: make_requests(name, args.points, args.series, args.batch, timedelta(0))
            for name in protocols
        }
        warmups = {
            name: make_requests(
                name, args.series * 40, args.series, args.series, timedelta(days=-30)
            )
            for name in protocols
        }
        rows = raw_rows(args.points, args.series, ids)

        env = {
            **os.environ,
            "DATABASE_URL": url,
            "DASHAPP_ENV": "production",
            "SECRET_KEY": uuid.uuid4().hex * 2,
            "HOST": "127.0.0.1",
            "PORT": str(args.port),
            "ACCESS_LOG": "0",
            "API_RATE_LIMIT": "100000/second",
        }
        env.pop("REDIS_URL", None)
        if args.workers:
            env["WEB_CONCURRENCY"] = str(args.workers)
        if args.threads:
            env["GUNICORN_THREADS"] = str(args.threads)
        if args.redis_url:
            env["REDIS_URL"] = args.redis_url
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_ready(args.port, server)
        for name in protocols:  # imports, pools, series ids in every worker
            run_clients(args.port, token, warmups[name], EXPECTED_STATUS[name], args.clients)
        reset_points(dsn)

        for _ in range(args.rounds):
            for name in protocols:
                status = EXPECTED_STATUS[name]
                times[name].append(run_clients(args.port, token, requests[name], status,
                                               args.clients))  # fmt: skip
                stored = count_points(dsn)
                assert stored == args.points, f"{name} stored {stored} points, not {args.points}"
                reset_points(dsn)
            times["copy"].append(raw_copy(dsn, rows))
            stored = count_points(dsn)
            assert stored == args.points, f"COPY stored {stored} rows, not {args.points}"
            reset_points(dsn)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
        admin.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
        admin.close()

    rates = {name: args.points / statistics.median(spent) for name, spent in times.items()}
    print(f"machine: {os.cpu_count()} cores; gunicorn.conf.py with WEB_CONCURRENCY="
          f"{args.workers or 'default'}, GUNICORN_THREADS={args.threads or 'default'}, "
          f"Redis {'on' if args.redis_url else 'off'}; {args.clients} clients; batches of "
          f"{args.batch:,}; median of {args.rounds} rounds")  # fmt: skip
    print(f"{'path':<28} {'points/s':>10} {'x JSON':>7} {'x COPY':>7}  rounds (s)")
    for name, rate in rates.items():
        label = LABELS.get(name, name)
        versus_json = f"{rate / rates['json']:.2f}" if "json" in rates else "-"
        print(f"{label:<28} {rate:>10,.0f} {versus_json:>7} {rate / rates['copy']:>7.2f}  "
              f"{', '.join(f'{t:.2f}' for t in times[name])}")  # fmt: skip
    print("targets: every protocol >= 0.80 x JSON; JSON >= 0.60 x COPY")


LABELS = {
    "json": "JSON /api/v1/metrics",
    "line": "line protocol /api/v2/write",
    "prometheus": "Prometheus remote write",
    "otlp": "OTLP/HTTP protobuf",
    "copy": "raw binary COPY",
}


if __name__ == "__main__":
    main()
