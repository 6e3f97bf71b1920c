"""Live dashboards: viewers refreshing the demo dashboard while agents write into it.

On PostgreSQL + Redis, over the 10-million-point dataset of ``bench/query.py`` (built
into its own database), gunicorn serves ``wsgi:app`` and ``dashapp worker`` runs beside
it. In one run, for a fixed time each:

1. viewers alone: N simulated viewers, each loading the demo dashboard (last 6 h, its
   four hosts) and then requesting every panel callback exactly as the browser does
   (the same ``/_dash-update-component`` requests, with the panel metas the server
   sent back, so timeseries panels get their tail patches) every refresh interval;
2. the same viewers while 4 ingest clients write into the displayed metrics at a steady
   rate: the four watched hosts (a point per series every 2 s) and 200 more hosts of
   the same metrics (the rest of the rate), with current timestamps;
3. the ingest clients alone.

Each run first undoes earlier runs (their points and agent series), tops the demo
series up to now, compacts closed days (as the worker keeps them) and empties its cache
prefix.

It prints requests/s, panel callback p50/p95 and ingest points/s, with the ratios the
issue asks for. Then, with ingest running, it finds how many viewers refreshing every
10 s the machine holds with a panel p95 at or under 1 s.

    .venv/bin/python bench/live.py [--reuse] [--viewers 20] [--seconds 60]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bench.query as dataset  # noqa: E402
from dashapp.core.demo import HOSTS, METRICS, RATES  # noqa: E402

dataset.DB_NAME = "dashapp_bench_live"
PORT = 18160
PREFIX = "bench-live:"
BASE = f"http://127.0.0.1:{PORT}"
INGEST_BASE = f"http://127.0.0.1:{PORT + 1}"  # with --ingest-workers: its own instance
INGEST_TARGET = BASE
CLIENT_NICE = 0  # --nice: the ingest clients stand in for agents on other machines
SLUG = "service-health"
# The viewers watch the demo's four hosts; agents also write other hosts of the same metrics.
SEARCH = "?from=now-6h&to=now&refresh=10s" + "".join(f"&var-host={h.name}" for h in HOSTS)
VIEWER_PROCESSES = 2
PARALLEL_CALLBACKS = 6  # what a browser runs at once against one host
INGEST_CLIENTS = 4
BATCH_PERIOD = 0.5  # seconds between one ingest client's batches
WATCHED_EVERY = 4  # batches between points of a watched series: one every 2 s
AGENTS_PER_CLIENT = 50  # other hosts each client writes the demo metrics for


def log(message: str) -> None:
    print(message, flush=True)


def http_session() -> requests.Session:
    """A keep-alive session that, like a browser, resends a request once when the server
    had closed the idle connection (callbacks and ingest batches are idempotent)."""
    session = requests.Session()
    session.mount("http://", HTTPAdapter(max_retries=Retry(total=2, allowed_methods=None)))
    return session


# ---------------------------------------------------------------- a viewer, as a browser


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        if "props" in node and "type" in node:
            yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


class Viewer:
    """One browser tab on the dashboard: its cookies, its panels and their metas."""

    def __init__(self, pool: ThreadPoolExecutor) -> None:
        self.http = http_session()
        self.pool = pool
        self.http.get(f"{BASE}/d/{SLUG}{SEARCH}").raise_for_status()
        self.csrf = self.http.cookies.get("_csrf_token", "")
        dependencies = self.http.get(f"{BASE}/_dash-dependencies").json()
        self.outputs = {
            kind: next(d["output"] for d in dependencies if f'"type":"{kind}"' in d["output"]
                       and d["output"].startswith(".."))
            for kind in ("panel-graph", "panel-table")
        }  # fmt: skip
        page = self._post(
            {
                "output": "page.children",
                "outputs": {"id": "page", "property": "children"},
                "inputs": [{"id": "url", "property": "pathname", "value": f"/d/{SLUG}"}],
                "state": [{"id": "url", "property": "search", "value": SEARCH}],
                "changedPropIds": ["url.pathname"],
            }
        )["response"]["page"]["children"]
        self.stores: dict[Any, Any] = {}
        self.sorts: dict[str, list[str]] = {}
        for component in _walk(page):
            key = component["props"].get("id")
            if isinstance(key, str):
                self.stores[key] = component["props"].get("data")
            elif isinstance(key, dict) and key.get("type") == "panel-spec":
                self.stores[json.dumps(key, sort_keys=True)] = component["props"]["data"]
            elif isinstance(key, dict) and key.get("type") == "panel-sort":
                self.sorts.setdefault(key["table"], []).append(key["column"])
        self.panels = [(json.loads(k), v) for k, v in self.stores.items() if k.startswith("{")]
        self.metas: dict[str, Any] = {}
        self.ticks = 0

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(
            f"{BASE}/_dash-update-component", json=body, headers={"X-CSRFToken": self.csrf}
        )
        response.raise_for_status()
        return orjson.loads(response.content)

    def _view_inputs(self, trigger: str | None) -> tuple[list[Any], list[str]]:
        inputs = [
            {"id": "time-range", "property": "data", "value": self.stores.get("time-range")},
            {"id": "variables", "property": "data", "value": self.stores.get("variables")},
            {"id": "auto-refresh", "property": "n_intervals", "value": self.ticks or None},
            {"id": "refresh-button", "property": "n_clicks", "value": None},
            {"id": "theme", "property": "data", "value": "light"},
        ]
        return inputs, ([trigger] if trigger else [])

    def panel_callback(self, key: dict[str, str], trigger: str | None) -> float:
        """One panel's callback as the renderer sends it; returns seconds taken."""
        inputs, changed = self._view_inputs(trigger)
        viewport = {"id": "viewport", "property": "data", "value": 1600}
        if "panel" in key:
            pid = key["panel"]
            part = lambda kind: {"panel": pid, "type": kind}  # noqa: E731
            annotations = {"id": "annotations", "property": "data", "value": None}
            body = {
                "output": self.outputs["panel-graph"],
                "outputs": [
                    {"id": part("panel-graph"), "property": "figure"},
                    {"id": part("panel-status"), "property": "children"},
                    {"id": part("panel-note"), "property": "children"},
                    {"id": part("panel-meta"), "property": "data"},
                ],
                "inputs": [*inputs, annotations],
                "state": [
                    viewport,
                    {"id": key, "property": "data", "value": self._spec(key)},
                    {"id": part("panel-meta"), "property": "data", "value": self.metas.get(pid)},
                ],
                "changedPropIds": changed,
            }
        else:
            pid = key["table"]
            part = lambda kind: {"table": pid, "type": kind}  # noqa: E731
            buttons = [
                {"column": c, "table": pid, "type": "panel-sort"} for c in self.sorts.get(pid, [])
            ]
            body = {
                "output": self.outputs["panel-table"],
                "outputs": [
                    {"id": part("panel-table"), "property": "children"},
                    {"id": part("panel-status"), "property": "children"},
                    {"id": part("panel-note"), "property": "children"},
                    {"id": part("panel-sort-state"), "property": "data"},
                    [{"id": b, "property": "className"} for b in buttons],
                ],
                "inputs": [[{"id": b, "property": "n_clicks", "value": None} for b in buttons],
                           *inputs],
                "state": [
                    viewport,
                    {"id": key, "property": "data", "value": self._spec(key)},
                    {"id": part("panel-sort-state"), "property": "data", "value": None},
                ],
                "changedPropIds": changed,
            }  # fmt: skip
        started = time.perf_counter()
        answer = self._post(body)
        elapsed = time.perf_counter() - started
        for name, props in answer.get("response", {}).items():
            if "panel-meta" in name and "data" in props:
                self.metas[pid] = props["data"]
        return elapsed

    def _spec(self, key: dict[str, str]) -> Any:
        """The panel store as the page holds it: a reference to the saved panel."""
        return self.stores[json.dumps(key, sort_keys=True)]

    def refresh(self, trigger: str | None = "auto-refresh.n_intervals") -> list[tuple[str, float]]:
        """Every panel's callback, at most PARALLEL_CALLBACKS at once, as on a refresh:
        (panel id, seconds taken) each."""
        if trigger:
            self.ticks += 1
        keys = [key for key, _ in self.panels]
        taken = self.pool.map(lambda key: self.panel_callback(key, trigger), keys)
        return [
            (key.get("panel") or key["table"], seconds)
            for key, seconds in zip(keys, taken, strict=True)
        ]


def viewer_process(
    count: int, seconds: float, interval: float, queue: Any, go: Any, start: Any
) -> None:
    """Run ``count`` viewers for ``seconds``: load, then refresh every ``interval`` (0: one
    refresh right after the other); report callback latencies."""
    with ThreadPoolExecutor(max(4, count * PARALLEL_CALLBACKS)) as pool:
        viewers = [Viewer(pool) for _ in range(count)]
        for viewer in viewers:
            viewer.refresh(trigger=None)  # the first load (unmeasured)
        queue.put("ready")
        go.wait()
        start_at = start.value
        latencies: list[tuple[str, float]] = []
        errors = 0
        lock = threading.Lock()

        def run(viewer: Viewer, offset: float) -> None:
            nonlocal errors
            next_at = start_at + offset
            while True:
                now = time.time()
                if now >= start_at + seconds:
                    return
                if next_at > now:
                    time.sleep(next_at - now)
                    continue
                try:
                    taken = viewer.refresh()
                except requests.RequestException as error:
                    with lock:
                        errors += 1
                        if errors <= 3:
                            print(f"viewer error: {error}", file=sys.stderr, flush=True)
                    next_at = time.time() + (interval or 0.5)
                    continue
                if time.time() <= start_at + seconds:
                    with lock:
                        latencies.extend(taken)
                next_at = max(next_at + interval, time.time()) if interval else time.time()

        threads = [
            threading.Thread(target=run, args=(v, interval * i / max(count, 1)))
            for i, v in enumerate(viewers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    queue.put(("viewers", latencies, errors))


# ------------------------------------------------------------------ ingest, as an agent


def ingest_process(
    token: str,
    number: int,
    seconds: float,
    rate: float,
    queue: Any,
    go: Any,
    start: Any,
    base: str = BASE,
    nice: int = 0,
) -> None:
    """Write the displayed metrics with current times at ``rate`` points/s (0: as fast as
    the API takes them), a batch every :data:`BATCH_PERIOD`: one of the demo hosts the
    viewers watch (a point per series every 2 s: five times the demo's resolution) and
    :data:`AGENTS_PER_CLIENT` other hosts of the same metrics, which take the rest."""
    os.nice(nice)
    http = http_session()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    names = (*METRICS, *RATES)
    watched = [(m, HOSTS[number].name, HOSTS[number].region) for m in names] if number < len(
        HOSTS) else []  # fmt: skip
    agents = [(m, f"agent-{number}-{i:03d}", "agents")
              for i in range(AGENTS_PER_CLIENT) for m in names]  # fmt: skip
    per_batch = rate * BATCH_PERIOD
    repeats = max(1, round((per_batch - len(watched)) / len(agents))) if rate else 1
    queue.put("ready")
    go.wait()
    start_at = start.value
    next_at = start_at + BATCH_PERIOD * number / INGEST_CLIENTS
    written = batches = 0
    while True:
        now = time.time()
        if now >= start_at + seconds:
            break
        if rate and next_at > now:
            time.sleep(next_at - now)
            continue
        next_at = max(next_at + BATCH_PERIOD, time.time() - 1.0)
        stamp = datetime.now(UTC)
        batches += 1
        rows = [(series, stamp) for series in watched] if batches % WATCHED_EVERY == 1 else []
        rows += [(series, stamp - timedelta(seconds=BATCH_PERIOD * j / repeats))
                 for j in range(repeats) for series in agents]  # fmt: skip
        points = [
            {"name": metric, "source": source, "labels": {"region": region},
             "value": at.timestamp() * 100 if metric in RATES else 40.0 + (at.second % 50),
             "timestamp": at}
            for (metric, source, region), at in rows
        ]  # fmt: skip
        # orjson (datetimes too): the clients share the server's two cores, and their
        # encoding is not a cost the server has.
        response = http.post(f"{base}/api/v1/metrics", data=orjson.dumps(points), headers=headers)
        if response.status_code == 201 and time.time() <= start_at + seconds:
            written += len(points)
    queue.put(("ingest", written, 0))


# ------------------------------------------------------------------------ the conductor


def phase(viewers: int, ingest: float | None, seconds: float, interval: float, token: str) -> dict:
    """Run viewers (refreshing every ``interval`` s, 0: back to back) and/or the ingest
    clients (``ingest`` points/s in all, 0: flat out, None: none) for ``seconds``."""
    context = multiprocessing.get_context("spawn")
    queue, go, start = context.Queue(), context.Event(), context.Value("d", 0.0)
    workers = []
    per_process = [viewers // VIEWER_PROCESSES + (i < viewers % VIEWER_PROCESSES)
                   for i in range(VIEWER_PROCESSES)] if viewers else []  # fmt: skip
    for count in per_process:
        if count:
            shared = (queue, go, start)
            workers.append(
                context.Process(target=viewer_process, args=(count, seconds, interval, *shared))
            )
    for number in range(INGEST_CLIENTS if ingest is not None else 0):
        shared = (queue, go, start)
        rate = (ingest or 0.0) / INGEST_CLIENTS
        workers.append(
            context.Process(
                target=ingest_process,
                args=(token, number, seconds, rate, *shared, INGEST_TARGET, CLIENT_NICE),
            )
        )
    for worker in workers:
        worker.start()
    for _ in workers:
        assert queue.get(timeout=600) == "ready"
    start.value = time.time() + 1.0
    go.set()
    results = [queue.get(timeout=seconds + 600) for _ in workers]
    for worker in workers:
        worker.join()
    timed = [x for kind, data, _ in results if kind == "viewers" for x in data]
    latencies = [taken for _, taken in timed]
    per_panel: dict[str, list[float]] = {}
    for panel, taken in timed:
        per_panel.setdefault(panel, []).append(taken)
    points = sum(data for kind, data, _ in results if kind == "ingest")
    errors = sum(e for kind, _, e in results if kind == "viewers")
    latencies.sort()
    return {
        "requests_per_s": len(latencies) / seconds,
        "p50": _quantile(latencies, 0.5),
        "p95": _quantile(latencies, 0.95),
        "points_per_s": points / seconds,
        "errors": errors,
        "requests": len(latencies),
        "panels": {panel: _quantile(sorted(values), 0.95) for panel, values in per_panel.items()},
    }


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


def serve(
    url: str,
    redis_url: str,
    tail_grace: float,
    root: Path = ROOT,
    worker: bool = True,
    ingest_workers: int = 0,
    nice: int = 0,
) -> list[subprocess.Popen]:
    """gunicorn (the production server config) serving the code in ``root``, and one
    ``dashapp worker``; with ``ingest_workers``, a second instance of that many processes
    (on the next port, the same machine) takes the ingest, as a deployment may route
    writes to instances of their own. ``nice``: the niceness of that instance and the
    worker (background work yields the CPU to the viewers' requests)."""
    env = {
        "CACHE_TAIL_GRACE": str(tail_grace),
        **os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "PORT": str(PORT),
        "DASHAPP_ENV": "development", "ACCESS_LOG": "0", "STATEMENT_TIMEOUT_MS": "60000",
        "API_RATE_LIMIT": "100000/second", "SECRET_KEY": "bench-live-secret-key-long-enough",
        # Every simulated viewer comes from one address: lift the per-address page limit.
        "DASH_RATE_LIMIT": "100000/second",
        "CACHE_KEY_PREFIX": PREFIX,
    }  # fmt: skip
    log_file = os.environ.get("BENCH_SERVER_LOG")  # where server output goes (default: nowhere)
    target = open(log_file, "ab") if log_file else subprocess.DEVNULL  # noqa: SIM115
    quiet = {"stdout": target, "stderr": target}
    command = [sys.executable, "-m", "gunicorn", "-c", str(root / "gunicorn.conf.py"), "wsgi:app"]
    instances = [(PORT, None), *([(PORT + 1, ingest_workers)] if ingest_workers else [])]
    processes = []
    lower = ["nice", "-n", str(nice)] if nice else []
    for port, workers in instances:
        sized = {"WEB_CONCURRENCY": str(workers)} if workers else {}
        processes.append(subprocess.Popen(
            (lower if workers else []) + command, cwd=root,
            env={**env, **sized, "PORT": str(port), "PYTHONPATH": str(root)}, **quiet,
        ))  # fmt: skip
    if worker:
        processes.append(subprocess.Popen(
            [*lower, str(Path(sys.executable).parent / "dashapp"), "worker", "--interval", "2"],
            cwd=ROOT, env=env, **quiet,
        ))  # fmt: skip
    for _ in range(300):
        try:
            urls = [f"http://127.0.0.1:{port}/api/v1/health" for port, _ in instances]
            if all(requests.get(health, timeout=1).ok for health in urls):
                return processes
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def reset(url: str, redis_url: str) -> None:
    """Undo earlier runs: drop the points and agent series they wrote, top the demo series
    up to now at the dataset's 10 s resolution, queue their hours for the worker, and
    empty the cache."""
    import psycopg
    import redis

    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as connection:
        (end,) = connection.execute(
            "SELECT max(ts) FROM metric_points WHERE series_id = 1 "
            "AND extract(microseconds FROM ts)::int % 1000000 = 0"  # not an ingest client's
        ).fetchone()
        connection.execute("DELETE FROM metric_points WHERE ts > %s", (end,))
        connection.execute("DELETE FROM metric_points WHERE series_id > 100")
        connection.execute("DELETE FROM rollup_pending WHERE series_id > 100")
        connection.execute("DELETE FROM series WHERE id > 100")
        count = int((datetime.now(UTC) - end).total_seconds() // dataset.STEP_SECONDS)
        series_id = 0
        for metric in (*METRICS, *RATES):
            for h, _host in enumerate(HOSTS):
                series_id += 1
                value = dataset.VALUE_SQL[metric].replace("%", "%%")
                connection.execute(
                    "INSERT INTO metric_points (series_id, ts, value) "
                    f"SELECT %(id)s, %(end)s + make_interval(secs => k * {dataset.STEP_SECONDS}),"
                    f" {value} FROM generate_series(1, %(count)s) AS k, "
                    "LATERAL (SELECT -k AS g, CAST(%(h)s AS float8) AS h) AS v",
                    {"id": series_id, "end": end, "count": count, "h": h},
                )
        connection.execute(
            "INSERT INTO rollup_pending (series_id, hour) SELECT DISTINCT series_id, "
            "date_bin(INTERVAL '1 hour', ts, TIMESTAMPTZ 'epoch') FROM metric_points "
            "WHERE ts > %s ON CONFLICT DO NOTHING",
            (end - timedelta(hours=1),),
        )
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{PREFIX}*"):
        client.delete(key)
    client.close()


def compact(url: str) -> None:
    """Compact every closed day first, as a deployment's worker keeps it (a first pass
    over the whole dataset would otherwise run during the measured phases)."""
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "bench-live-secret-key-long-enough"}
    command = [str(Path(sys.executable).parent / "dashapp"), "compact"]
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def vacuum(url: str) -> None:
    """VACUUM ANALYZE what earlier runs, the reset and the compaction left dead, as
    autovacuum would in a deployment (CI servers may run with it off: then the rollup
    queue, rewritten by every ingest batch, grows slower run after run)."""
    import psycopg

    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as connection:
        connection.execute("VACUUM ANALYZE")


def ingest_token(url: str) -> str:
    from dashapp.extensions import database
    from db import tokens

    app = dataset.make_app(url)
    with app.app_context(), database.transaction() as session:
        token = tokens.create_token(session, "bench-live", ["ingest"]).token
    app.extensions["dashapp.db"].engine.dispose()
    return token


def describe(label: str, result: dict) -> str:
    return (
        f"{label}: {result['requests_per_s']:.1f} panel requests/s, "
        f"p50 {result['p50'] * 1000:.0f} ms, p95 {result['p95'] * 1000:.0f} ms"
        + (f", ingest {result['points_per_s']:,.0f} points/s" if result["points_per_s"] else "")
        + (f", {result['errors']} errors" if result["errors"] else "")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help="keep an existing dataset")
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument(
        "--interval",
        type=float,
        default=5.0,
        help="seconds between a viewer's refreshes (0: back to back)",
    )
    parser.add_argument(
        "--ingest-rate",
        type=float,
        default=10_000,
        help="points/s written by the 4 ingest clients together (0: flat out)",
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--tail-grace",
        type=float,
        default=0.0,
        help="the server's CACHE_TAIL_GRACE (0: every write seen at once)",
    )
    parser.add_argument(
        "--capacity",
        default="20,40,60,80,100,120,160",
        help="viewer counts to try at 10 s refresh ('' to skip)",
    )
    parser.add_argument("--capacity-seconds", type=float, default=40)
    parser.add_argument("--server-root", help="serve another checkout (e.g. main's code)")
    parser.add_argument("--no-worker", action="store_true", help="no dashapp worker")
    parser.add_argument("--per-panel", action="store_true", help="each panel's p95 too")
    parser.add_argument(
        "--ingest-workers",
        type=int,
        default=0,
        help="serve the ingest from a second instance of this many processes (0: one server)",
    )
    parser.add_argument(
        "--nice",
        type=int,
        default=0,
        help="niceness of the ingest instance (with --ingest-workers), the worker and the "
        "ingest clients (which stand in for agents on other machines)",
    )
    args = parser.parse_args()
    params = dict(part.split("=", 1) for part in dataset.ADMIN_DSN.split())
    url = (
        f"postgresql+psycopg://{params.get('user', 'postgres')}@{params.get('host', '127.0.0.1')}"
        f":{params.get('port', '5432')}/{dataset.DB_NAME}"
    )
    if not args.reuse:
        log(f"building the dataset in {dataset.DB_NAME}")
        dataset.build_dataset(url)
    reset(url, dataset.REDIS_URL)
    compact(url)
    vacuum(url)
    token = ingest_token(url)
    root = Path(args.server_root) if args.server_root else ROOT
    global INGEST_TARGET, CLIENT_NICE
    INGEST_TARGET = INGEST_BASE if args.ingest_workers else BASE
    CLIENT_NICE = args.nice
    processes = serve(
        url, dataset.REDIS_URL, args.tail_grace, root, not args.no_worker, args.ingest_workers,
        args.nice,
    )  # fmt: skip
    try:
        rate = args.ingest_rate
        every = f"every {args.interval:g} s" if args.interval else "back to back"
        flow = f"{rate:,.0f} points/s" if rate else "as fast as the API takes them"
        log(f"{args.viewers} viewers refreshing {every}; {INGEST_CLIENTS} ingest clients "
            f"writing {flow} into the displayed metrics; {args.seconds:g} s each; "
            f"CACHE_TAIL_GRACE={args.tail_grace:g}")  # fmt: skip
        phase(args.viewers, None, 15, args.interval, token)  # warm-up: caches, connections
        alone = phase(args.viewers, None, args.seconds, args.interval, token)
        log("  " + describe("viewers, no ingest", alone))
        both = phase(args.viewers, rate, args.seconds, args.interval, token)
        log("  " + describe("viewers + ingest", both))
        ingest = phase(0, rate, args.seconds, args.interval, token)
        log("  " + describe("ingest alone", ingest))
        ratios = (
            ("throughput with/without ingest", both["requests_per_s"] / alone["requests_per_s"],
             ">= 0.8"),
            ("panel p95 with/without ingest", both["p95"] / alone["p95"], "<= 1.5"),
            ("ingest with/without viewers", both["points_per_s"] / ingest["points_per_s"],
             ">= 0.8"),
        )  # fmt: skip
        for label, ratio, target in ratios:
            log(f"  {label}: {ratio:.2f} (target {target})")
        if args.per_panel:
            log("  panel p95 without / with ingest:")
            for panel, p95 in sorted(alone["panels"].items()):
                log(f"    {panel}: {p95 * 1000:.0f} / {both['panels'].get(panel, 0) * 1000:.0f} ms")
        held = 0
        for count in [int(c) for c in args.capacity.split(",") if c]:
            result = phase(count, rate, args.capacity_seconds, 10, token)
            log("  " + describe(f"{count} viewers at 10 s refresh + ingest", result))
            if result["p95"] > 1.0 or result["errors"]:
                break
            held = count
        if args.capacity:
            log(f"  viewers held at 10 s refresh with p95 <= 1 s: {held}")
    finally:
        for process in processes:
            process.terminate()
            process.wait()


if __name__ == "__main__":
    main()
