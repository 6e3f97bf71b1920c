"""Dashboard links with many variable values: the router callback's time against a plain link.

Posts the page callback (``/_dash-update-component``, as the browser does on opening a
link) for the demo dashboard on a scratch SQLite database, with N ``var-host`` values
that are not hosts and N copies of one that is, and prints each time as a ratio of the
same link without variables, measured in the same run (best of ``--rounds``).

    .venv/bin/python bench/urls.py                 # --counts 100,1000,10000,30000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashapp import create_app
from dashapp.commands.seed import seed_demo
from db import migrate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="100,1000,10000,30000")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    url = f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    migrate.upgrade(url)
    settings = {
        "DATABASE_URL": url,
        "DASHAPP_ENV": "test",
        "TESTING": True,
        "SECRET_KEY": "bench-secret-key-long-enough",
        "DASH_RATE_LIMIT": "1e6/second",
    }
    app = create_app(settings)
    with app.app_context():
        seed_demo(days=0.05)
    client = app.test_client()
    page = client.get("/")
    cookie = next(c for c in page.headers.getlist("Set-Cookie") if c.startswith("_csrf_token="))
    headers = {"X-CSRFToken": cookie.split(";")[0].split("=", 1)[1]}

    def timed(search: str) -> tuple[float, int]:
        body = {
            "output": "page.children", "outputs": {"id": "page", "property": "children"},
            "inputs": [{"id": "url", "property": "pathname", "value": "/d/service-health"}],
            "state": [{"id": "url", "property": "search", "value": search}],
            "changedPropIds": ["url.pathname"],
        }  # fmt: skip
        best, size = float("inf"), 0
        for _ in range(args.rounds):
            started = time.perf_counter()
            answer = client.post("/_dash-update-component", json=body, headers=headers)
            best = min(best, time.perf_counter() - started)
            assert answer.status_code == 200, answer.status_code
            size = len(answer.data)
        return best, size

    timed("?from=now-1h&to=now")  # warm-up: first-request setup
    base, _ = timed("?from=now-1h&to=now")
    print(f"plain link: {base * 1000:.1f} ms")
    print("values  kind      request     time   x plain   answer")
    for count in (int(c) for c in args.counts.split(",")):
        for kind, value in (("unknown", "nohost{}"), ("known", "web-1")):
            hosts = "&".join(f"var-host={value.format(i)}" for i in range(count))
            search = f"?from=now-1h&to=now&{hosts}"
            took, size = timed(search)
            print(f"{count:>6}  {kind:<8} {len(search) / 1024:>6.0f} KB {took * 1000:>7.0f} ms "
                  f"{took / base:>8.1f}  {size / 1024:>5.0f} KB")  # fmt: skip


if __name__ == "__main__":
    main()
