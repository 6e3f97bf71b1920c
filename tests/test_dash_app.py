"""The Dash app on a fresh server process: the first page load must work."""

from __future__ import annotations

import re
import threading

from tests.conftest import make_app


def test_concurrent_first_script_requests_all_succeed(sqlite_database: str) -> None:
    """A fresh gunicorn worker gets a page's scripts in parallel as its first requests."""
    page = make_app(sqlite_database).test_client().get("/").text
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+)"', page)
    assert len(scripts) >= 5

    fresh = make_app(sqlite_database)
    start = threading.Barrier(len(scripts))
    statuses: dict[str, int] = {}

    def fetch(path: str) -> None:
        client = fresh.test_client()
        start.wait()
        statuses[path] = client.get(path).status_code

    threads = [threading.Thread(target=fetch, args=(path,)) for path in scripts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == dict.fromkeys(scripts, 200)
