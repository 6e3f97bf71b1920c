"""First paint and range change of the demo dashboard in headless Chromium.

The setup is `make run`'s: SQLite, no Redis, the demo seeded with a week of points and
compacted as the worker leaves it, gunicorn as `dashapp serve` starts it. Each round:

* baseline: a dashboard with no panels (Dash's own start: bundles, layout, callbacks);
* first paint: the demo dashboard (Last 6 hours), from navigation start until its last
  panel is drawn (the last DOM change after the last data request answered);
* range change: picking "Last 24 hours" in the time picker, from the click until the
  last panel is redrawn.

For each it prints the time, the ratio to the baseline, and where the time went: the
number of callback requests (``/_dash-update-component``), their bytes, the server's
time (request sent to first byte back; the server is local) summed and on the longest
one, and the browser's time after the last answer (rendering). Several rounds (the
machine is shared) give the median and the spread. ::

    .venv/bin/python bench/pageload.py [--rounds 5] [--reuse] [--database-url URL] [--profile]

``--profile`` adds one more first paint and range change under Chromium's sampling
profiler and prints the main thread's time by script and by function.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.common.by import By

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.servers import free_port  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "dashapp-bench-pageload"
DASHAPP = [sys.executable, "-m", "dashapp"]
QUIET_MS = 600  # no request in flight and no DOM change for this long: done

# Before any page script: count Dash's callback requests in flight, and note the time of
# the newest DOM change.
PROBE_JS = """
window.__bench = {inflight: 0, requests: [], lastChange: 0, busy: []};
new PerformanceObserver(function (list) {
  list.getEntries().forEach(function (e) { window.__bench.busy.push([e.startTime, e.duration]); });
}).observe({type: 'longtask', buffered: true});
const origFetch = window.fetch;
window.fetch = function (input, init) {
  const url = typeof input === 'string' ? input : input.url;
  if (!url.includes('_dash-update-component')) { return origFetch.apply(this, arguments); }
  const entry = {start: performance.now(), end: null, bytes: 0};
  window.__bench.inflight += 1;
  window.__bench.requests.push(entry);
  return origFetch.apply(this, arguments).then(function (response) {
    return response.clone().arrayBuffer().then(function (body) {
      entry.bytes = body.byteLength; entry.end = performance.now();
      window.__bench.inflight -= 1; return response;
    });
  }, function (error) {
    entry.end = performance.now(); window.__bench.inflight -= 1; throw error;
  });
};
new MutationObserver(function () { window.__bench.lastChange = performance.now(); })
  .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
"""

SETTLED_JS = """
const b = window.__bench, now = performance.now();
const loading = document.querySelector('[data-dash-is-loading="true"]');
return b.inflight === 0 && !loading && b.requests.length > 0 &&
  now - Math.max(b.lastChange, ...b.requests.map(r => r.end || now)) > arguments[0];
"""

REPORT_JS = """
const b = window.__bench, since = arguments[0];
const requests = b.requests.filter(r => r.start >= since);
const server = performance.getEntriesByType('resource')
  .filter(e => e.name.includes('_dash-update-component') && e.startTime >= since)
  .map(e => e.responseStart - e.requestStart);
const scripts = performance.getEntriesByType('resource')
  .filter(e => e.initiatorType === 'script' && e.startTime >= since);
return {done: b.lastChange - since, lastAnswer: Math.max(...requests.map(r => r.end)) - since,
        requests: requests.length, bytes: requests.reduce((s, r) => s + r.bytes, 0),
        serverSum: server.reduce((s, x) => s + x, 0), serverMax: Math.max(0, ...server),
        firstCall: Math.min(...requests.map(r => r.start)) - since,
        scriptsLoaded: Math.max(0, ...scripts.map(e => e.responseEnd)) - since,
        scriptBytes: scripts.reduce((s, e) => s + e.decodedBodySize, 0),
        busy: b.busy.filter(t => t[0] >= since).reduce((s, t) => s + t[1], 0)};
"""


def run(command: list[str], env: dict[str, str]) -> None:
    subprocess.run(command, env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def prepare(env: dict[str, str]) -> None:
    """make run's first start: migrate, seed a week, then compact as the worker does."""
    run([*DASHAPP, "db", "upgrade"], env)
    run([*DASHAPP, "seed-demo", "--if-empty"], env)
    run([*DASHAPP, "compact"], env)
    script = (
        "from dashapp import create_app\n"
        "from dashapp.commands import dashboards\n"
        "from dashapp.core.permissions import Actor\n"
        "from dashapp.core.spec import parse_spec\n"
        "from db import dashboards as repository\n"
        "from dashapp.extensions import database\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    with database.transaction() as session:\n"
        "        known = {d.slug for d in repository.list_dashboards(session)}\n"
        "    if 'bench-empty' not in known:\n"
        "        spec = parse_spec({'schema_version': 2, 'title': 'Empty', 'panels': []})\n"
        "        dashboards.create(Actor.system(), spec, 'bench-empty', 'bench baseline')\n"
    )
    run([sys.executable, "-c", script], env)


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen([*DASHAPP, "serve"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/login", timeout=1).raise_for_status()
            return server
        except requests.RequestException:
            time.sleep(0.3)
    server.kill()
    raise RuntimeError("the server did not start")


def browser() -> webdriver.Chrome:
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1600,1000"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": PROBE_JS})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": False})
    return driver


def settle(driver: webdriver.Chrome, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not driver.execute_script(SETTLED_JS, QUIET_MS):
        if time.monotonic() > deadline:
            raise TimeoutError("the page did not settle")
        time.sleep(0.1)


def load(driver: webdriver.Chrome, url: str) -> dict[str, Any]:
    """Open ``url`` in a fresh tab state; the figures from navigation start."""
    driver.get("about:blank")
    driver.get(url)
    settle(driver)
    return driver.execute_script(REPORT_JS, 0)


def change_range(driver: webdriver.Chrome, label: str) -> dict[str, Any]:
    """Pick ``label`` in the time picker; the figures from the click."""
    driver.find_element(By.ID, "time-preset").click()
    option = next(
        o for o in driver.find_elements(By.CSS_SELECTOR, "[role=option]") if o.text == label
    )
    since = driver.execute_script(
        "const t = performance.now(); arguments[0].click(); return t;", option
    )
    settle(driver)
    return driver.execute_script(REPORT_JS, since)


def profiled(driver: webdriver.Chrome, action: Any, label: str) -> None:
    """Run ``action`` under the sampling profiler; print where the main thread spent it."""
    driver.execute_cdp_cmd("Profiler.enable", {})
    driver.execute_cdp_cmd("Profiler.setSamplingInterval", {"interval": 1000})
    driver.execute_cdp_cmd("Profiler.start", {})
    action()
    profile = driver.execute_cdp_cmd("Profiler.stop", {})["profile"]
    nodes = {node["id"]: node["callFrame"] for node in profile["nodes"]}
    scripts: collections.Counter[str] = collections.Counter()
    functions: collections.Counter[str] = collections.Counter()
    for sample, micros in zip(profile["samples"], profile["timeDeltas"], strict=True):
        frame = nodes[sample]
        script = frame["url"].rsplit("/", 1)[-1].split(".v")[0] or f"({frame['functionName']})"
        scripts[script] += micros / 1000
        functions[f"{script}: {frame['functionName'] or '(top level)'}"] += micros / 1000
    print(f"{label}: {sum(scripts.values()):.0f} ms sampled")
    print("    by script:   " + ", ".join(f"{k} {v:.0f}" for k, v in scripts.most_common(8)))
    print("    by function: " + ", ".join(f"{k} {v:.0f}" for k, v in functions.most_common(8)))


def summary(name: str, samples: list[dict[str, Any]], baseline: float | None) -> str:
    times = [s["done"] for s in samples]
    median = statistics.median(times)
    typical = min(samples, key=lambda s: abs(s["done"] - median))
    ratio = f"{median / baseline:5.1f}x" if baseline else "  1.0x"
    browser_ms = typical["done"] - typical["lastAnswer"]
    return (
        f"{name:<13} {median:6.0f} ms ({min(times):.0f}-{max(times):.0f}) {ratio}\n"
        f"    callbacks: {typical['requests']} requests, {typical['bytes'] / 1024:.0f} KiB, "
        f"server {typical['serverSum']:.0f} ms in all, longest {typical['serverMax']:.0f} ms; "
        f"first sent at {typical['firstCall']:.0f} ms, last answered at "
        f"{typical['lastAnswer']:.0f} ms, drawn {browser_ms:.0f} ms later\n"
        f"    browser main thread busy (long tasks) {typical['busy']:.0f} ms; scripts "
        f"{typical['scriptBytes'] / 1024:.0f} KiB loaded by {typical['scriptsLoaded']:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help=f"keep the data in {CACHE}")
    parser.add_argument("--database-url", help="another database (default: SQLite, as make run)")
    parser.add_argument("--profile", action="store_true", help="where the browser's time goes")
    args = parser.parse_args()
    home = CACHE if args.reuse else Path(tempfile.mkdtemp(prefix="dashapp-pageload-"))
    home.mkdir(exist_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(DASHAPP_ENV="development", PORT=str(port), HOST="127.0.0.1", ACCESS_LOG="0",
               DATABASE_URL=args.database_url or f"sqlite:///{home / 'dashapp.db'}")  # fmt: skip
    prepare(env)
    server = serve(env, port)
    driver = browser()
    base = f"http://127.0.0.1:{port}"
    rounds: dict[str, list[dict[str, Any]]] = {
        "baseline": [],
        "first paint": [],
        "range change": [],
    }
    try:
        load(driver, f"{base}/d/service-health?refresh=off")  # warm: imports, caches of files
        for _ in range(args.rounds):
            rounds["baseline"].append(load(driver, f"{base}/d/bench-empty"))
            rounds["first paint"].append(load(driver, f"{base}/d/service-health?refresh=off"))
            rounds["range change"].append(change_range(driver, "Last 24 hours"))
        if args.profile:
            driver.get("about:blank")
            profiled(driver, lambda: load(driver, f"{base}/d/service-health?refresh=off"),
                     "first paint profile")  # fmt: skip
            profiled(driver, lambda: change_range(driver, "Last 24 hours"), "range change profile")
    finally:
        driver.quit()
        server.terminate()
        server.wait()
        if not args.reuse:
            shutil.rmtree(home, ignore_errors=True)
    baseline = statistics.median(s["done"] for s in rounds["baseline"])
    print(f"demo dashboard on {env['DATABASE_URL'].split(':')[0]}, {args.rounds} rounds, "
          f"{os.cpu_count()} cores; median (min-max), ratio to the empty dashboard")  # fmt: skip
    for name, samples in rounds.items():
        print(summary(name, samples, None if name == "baseline" else baseline))


if __name__ == "__main__":
    main()
