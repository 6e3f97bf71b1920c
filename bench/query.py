"""Query speed on 10 million points: engine vs naive fetch, warm vs cold, 12 panels vs 1.

Builds (or reuses) a PostgreSQL database of 20 series at 10 s resolution, 500,000
points each: the demo's five metrics for its four hosts, about 58 days. Then, in
one run, it prints each measurement beside its baseline and the ratio:

1. a 30-day query at 1,000 px through the engine vs fetching every raw point;
2. the same query through the cache, cold vs warm;
3. the 12-panel demo dashboard vs a 1-panel dashboard in headless Chromium,
   served by gunicorn on PostgreSQL + Redis: time until every panel shows data.

    .venv/bin/python bench/query.py [--reuse] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import redis
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashapp import create_app  # noqa: E402
from dashapp.core.demo import HOSTS, METRICS, RATES, dashboard_spec  # noqa: E402
from dashapp.core.spec import Query, parse_spec  # noqa: E402
from dashapp.core.timerange import TimeRange  # noqa: E402
from dashapp.extensions import cache, database  # noqa: E402
from db import dashboards  # noqa: E402
from db.cached import panel_query  # noqa: E402
from db.tsdb import rollups  # noqa: E402
from db.tsdb.query import query  # noqa: E402

DB_NAME = "dashapp_bench_query"
ADMIN_DSN = os.environ.get("BENCH_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
POINTS_PER_SERIES = 500_000
STEP_SECONDS = 10
PORT = 18150
WIDTH_PX = 1000

# Each metric's values, as SQL over g (the sample index, 0 = now) and h (host number).
VALUE_SQL = {
    "cpu.usage": "least(100, greatest(0, 40 + 8*h + 20*sin(g/8640.0*2*pi()) + 5*random()))",
    "memory.used": "(4 + h + 2*((g % 8640)/8640.0)) * 1073741824 + 1e7*random()",
    "http.latency": "60 + 10*h + 25*sin(g/8640.0*2*pi()) + 15*random()",
    "http.requests": f"({POINTS_PER_SERIES} - g) * {STEP_SECONDS} * (150 + 30*h)",
    "http.errors": f"({POINTS_PER_SERIES} - g) * {STEP_SECONDS} * 0.2 + (g % 97)",
}


def log(message: str) -> None:
    print(message, flush=True)


@contextmanager
def timed(label: str):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    yield
    log(f"  {label}: {time.perf_counter() - started:.1f} s")


def build_dataset(url: str) -> None:
    """Create the database, its schema, 10M points and their rollups."""
    with psycopg.connect(ADMIN_DSN + " dbname=postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{DB_NAME}"')
    from db.migrate import upgrade

    upgrade(url)
    app = make_app(url)
    with app.app_context(), database.engine.begin() as connection:
        now = datetime.now(UTC).replace(microsecond=0)
        series_id = 0
        for metric in (*METRICS, *RATES):
            for h, host in enumerate(HOSTS):
                series_id += 1
                connection.execute(
                    text(
                        "INSERT INTO series (id, name, source, labels, created_at) "
                        "VALUES (:id, :name, :source, :labels, now())"
                    ),
                    {"id": series_id, "name": metric, "source": host.name,
                     "labels": f'{{"region": "{host.region}"}}'},
                )  # fmt: skip
                with timed(f"{metric} on {host.name}: {POINTS_PER_SERIES:,} points"):
                    connection.execute(
                        text(
                            "INSERT INTO metric_points (series_id, ts, value) "
                            f"SELECT :id, :now - make_interval(secs => g * {STEP_SECONDS}), "
                            f"{VALUE_SQL[metric]} FROM generate_series(0, :last) AS g, "
                            "(SELECT CAST(:h AS float8) AS h) AS host"
                        ),
                        {"id": series_id, "now": now, "last": POINTS_PER_SERIES - 1, "h": h},
                    )
        connection.execute(text("SELECT setval('series_id_seq', 100)"))
        connection.execute(
            text(
                "INSERT INTO rollup_pending (series_id, hour) SELECT DISTINCT series_id, "
                "date_bin(INTERVAL '1 hour', ts, TIMESTAMPTZ 'epoch') FROM metric_points"
            )
        )
    with app.app_context():
        with timed("rollups"):
            while True:
                with database.transaction() as session:
                    if not rollups.refresh(session, limit=5000):
                        break
        with database.transaction() as session:
            dashboards.create_dashboard(
                session, "service-health", parse_spec(dashboard_spec()), "bench"
            )
            one = dashboard_spec()
            one["panels"] = [p for p in one["panels"] if p["id"] == "cpu"]
            one["title"] = "One panel"
            dashboards.create_dashboard(session, "one-panel", parse_spec(one), "bench")
    with (
        psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as connection,
        timed("VACUUM ANALYZE"),
    ):
        connection.execute("VACUUM ANALYZE")
    app.extensions["dashapp.db"].engine.dispose()


def make_app(url: str, redis_url: str | None = None):  # type: ignore[no-untyped-def]
    return create_app(
        {"DATABASE_URL": url, "REDIS_URL": redis_url, "DASHAPP_ENV": "development",
         "CACHE_KEY_PREFIX": "bench-query:", "STATEMENT_TIMEOUT_MS": 60_000}
    )  # fmt: skip


def best(runs: int, action: Callable[[], Any]) -> tuple[float, Any]:
    """Fastest of ``runs`` timings (seconds) and the last result."""
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - started)
    return min(times), result


def engine_vs_naive(url: str, runs: int) -> list[str]:
    """Measurement 1: a 30-day panel query vs fetching every raw point it covers."""
    app = make_app(url)
    now = datetime.now(UTC)
    window = TimeRange(now - timedelta(days=30), now)
    every_panel = [Query(metric=m, group_by=["source"]) for m in METRICS] + [
        Query(metric=m, agg="rate", group_by=["source"]) for m in RATES
    ]
    lines = []
    with app.app_context():
        one = _series_ids("cpu.usage", "web-1")
        naive, rows = best(runs, lambda: _naive(one, window))
        engine, result = best(runs, lambda: [_engine(Query(metric="cpu.usage", source="web-1",
                                                           mode="m4"), window)])  # fmt: skip
        lines.append(_ratio_line("one series, M4 line", engine, naive, len(rows), result))
        naive, rows = best(runs, lambda: _naive(list(range(1, 21)), window))
        engine, results = best(runs, lambda: [_engine(spec, window) for spec in every_panel])
        label = "20 series: 5 metrics by host"
        lines.append(_ratio_line(label, engine, naive, len(rows), results))
    app.extensions["dashapp.db"].engine.dispose()
    return lines


def _ratio_line(label: str, engine: float, naive: float, raw_rows: int, results: Any) -> str:
    per_line = max(len(s.values) for result in results for s in result.series)
    return (
        f"{label}: engine {engine * 1000:.0f} ms vs naive {naive * 1000:.0f} ms "
        f"({raw_rows:,} raw points) -> ratio {engine / naive:.3f} (target <= 0.1); "
        f"at most {per_line} points per line (target <= 4,000)"
    )


def _series_ids(metric: str, source: str) -> list[int]:
    with database.transaction() as session:
        return list(
            session.scalars(
                text("SELECT id FROM series WHERE name = :m AND source = :s"),
                {"m": metric, "s": source},
            )
        )


def _naive(ids: list[int], window: TimeRange) -> list[Any]:
    with database.transaction() as session:
        return session.execute(
            text(
                "SELECT series_id, ts, value FROM metric_points WHERE series_id = ANY(:ids) "
                "AND ts >= :start AND ts < :end ORDER BY series_id, ts"
            ),
            {"ids": ids, "start": window.start, "end": window.end},
        ).all()


def _engine(spec: Query, window: TimeRange) -> Any:
    with database.read_session() as session:
        return query(session, spec, window, WIDTH_PX, prefer_m4=True)


def warm_vs_cold(url: str, runs: int) -> str:
    """Measurement 2: the cached entry point, cache empty vs cache holding the answer."""
    app = make_app(url, REDIS_URL)
    now = datetime.now(UTC)
    window = TimeRange(now - timedelta(days=30), now)
    spec = Query(metric="cpu.usage", group_by=["source"])
    cold, warm = [], []
    with app.app_context():
        for _ in range(runs):
            cache.clear()
            started = time.perf_counter()
            first = panel_query(spec, window, WIDTH_PX, prefer_m4=True)
            cold.append(time.perf_counter() - started)
            started = time.perf_counter()
            second = panel_query(spec, window, WIDTH_PX, prefer_m4=True)
            warm.append(time.perf_counter() - started)
            assert not first.cached and second.cached
    app.extensions["dashapp.db"].engine.dispose()
    c, w = statistics.median(cold), statistics.median(warm)
    return (
        f"30-day panel through the Redis cache: warm {w * 1000:.1f} ms vs cold {c * 1000:.0f} ms "
        f"-> ratio {w / c:.3f} (target <= 0.2)"
    )


def dashboards_in_browser(url: str, runs: int) -> list[str]:
    """Measurement 3: time until every panel shows data, 12 panels vs 1, cold and warm."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    env = {
        **os.environ, "DATABASE_URL": url, "REDIS_URL": REDIS_URL, "PORT": str(PORT),
        "DASHAPP_ENV": "development", "ACCESS_LOG": "0", "STATEMENT_TIMEOUT_MS": "60000",
    }  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1600,2200",
                 "--disable-background-networking", "--disable-component-update"):  # fmt: skip
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    client = redis.Redis.from_url(REDIS_URL)
    try:
        _wait_for_server(driver)
        # One unmeasured pass warms the gunicorn workers (connections, compiled SQL) and
        # the browser's script cache; "cold" below means the Redis cache, not the process.
        for _ in range(2):
            for slug in ("one-panel", "service-health"):
                _time_to_all_panels(driver, slug)
        timings: dict[tuple[str, str], list[float]] = {}
        for _ in range(runs):
            for slug in ("one-panel", "service-health"):
                for kind in ("cold", "warm"):
                    if kind == "cold":
                        for key in client.scan_iter("dashapp:*"):
                            client.delete(key)
                    seconds = _time_to_all_panels(driver, slug)
                    timings.setdefault((slug, kind), []).append(seconds)
    finally:
        driver.quit()
        server.terminate()
        server.wait()
    lines = []
    for kind in ("cold", "warm"):
        one = statistics.median(timings["one-panel", kind])
        twelve = statistics.median(timings["service-health", kind])
        lines.append(
            f"dashboard, {kind} cache, last 30 days: 12 panels {twelve:.2f} s vs 1 panel "
            f"{one:.2f} s -> ratio {twelve / one:.2f} (target <= 2.5)"
        )
    return lines


READY_JS = """
var panels = document.querySelectorAll('.panel');
if (!panels.length) return false;
return Array.from(panels).every(function (panel) {
  if (panel.querySelector('.panel-text')) return true;
  if (panel.querySelector('.data-table')) {
    return panel.querySelectorAll('.data-table tbody tr').length > 0;
  }
  var plot = panel.querySelector('.js-plotly-plot');
  return plot && plot.data && plot.data.length > 0;
});
"""


def _wait_for_server(driver: Any) -> None:
    for _ in range(100):
        try:
            driver.get(f"http://127.0.0.1:{PORT}/")
            if "dashapp" in driver.title:
                return
        except Exception:  # the server is still starting
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def _time_to_all_panels(driver: Any, slug: str) -> float:
    driver.get("about:blank")
    started = time.perf_counter()
    driver.get(f"http://127.0.0.1:{PORT}/d/{slug}?from=now-30d&to=now&refresh=off")
    while not driver.execute_script(READY_JS):
        if time.perf_counter() - started > 120:
            raise RuntimeError(f"{slug} did not finish drawing")
        time.sleep(0.02)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="keep an existing dataset")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    params = dict(part.split("=", 1) for part in ADMIN_DSN.split())
    url = (
        f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}"
        f":{params.get('port', '5432')}/{DB_NAME}"
    )
    if not args.reuse:
        count = len(HOSTS) * (len(METRICS) + len(RATES))
        log(f"building {count} series x {POINTS_PER_SERIES:,} points")
        build_dataset(url)
    log("1. engine vs naive fetch of raw points")
    for line in engine_vs_naive(url, args.runs):
        log("  " + line)
    log("2. cache: warm vs cold")
    log("  " + warm_vs_cold(url, args.runs))
    log("3. dashboards in headless Chromium (gunicorn, PostgreSQL, Redis)")
    for line in dashboards_in_browser(url, args.runs):
        log("  " + line)


if __name__ == "__main__":
    main()
