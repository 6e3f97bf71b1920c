"""Two app instances, one service: two servers on their own ports share PostgreSQL and
Redis. A login on one works on the other, a save on one is seen at once on the other,
and the cache, rate limits and session revocation are shared."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import redis
import requests
from flask import Flask
from werkzeug.serving import make_server

from dashapp.auth import hash_password
from dashapp.extensions import database
from db import users
from tests.conftest import bearer, empty_tables, make_app
from tests.test_api_dashboards import SPEC

PASSWORD = "correct horse battery"
T0 = datetime(2026, 4, 1, 12, tzinfo=UTC)


class Instance:
    """One app served over HTTP on its own port, in a thread."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def pair(postgresql_database: str, redis_url: str) -> Iterator[tuple[Instance, Instance]]:
    empty_tables(postgresql_database)
    prefix = f"dashapp-two-{uuid.uuid4().hex[:8]}:"
    config = {
        "REDIS_URL": redis_url, "CACHE_KEY_PREFIX": prefix, "TESTING": False,
        "API_RATE_LIMIT": "10/minute", "LOGIN_RATE_LIMIT": "5/minute",
    }  # fmt: skip
    one, two = Instance(make_app(postgresql_database, **config)), None
    try:
        two = Instance(make_app(postgresql_database, **config))
        yield one, two
    finally:
        one.stop()
        if two is not None:
            two.stop()
        client = redis.Redis.from_url(redis_url)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()


def log_in(browser: requests.Session, instance: Instance, password: str = PASSWORD) -> int:
    page = browser.get(f"{instance.url}/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = browser.post(
        f"{instance.url}/login",
        data={"username": "ann", "password": password, "csrf_token": token, "next": "/"},
        allow_redirects=False,
    )
    return response.status_code


def whoami(browser: requests.Session, instance: Instance) -> str:
    layout = browser.get(f"{instance.url}/_dash-layout").text
    found = re.search(r'"([\w.@-]+ · (viewer|editor|admin))"', layout)
    return found.group(1) if found else "anonymous"


def test_two_instances_share_sessions_saves_cache_and_limits(
    pair: tuple[Instance, Instance],
) -> None:
    one, two = pair
    with one.app.app_context(), database.transaction() as session:
        users.create_user(session, "ann", hash_password(PASSWORD), "editor")

    # A login made on one instance is a session on the other (same host, other port).
    browser = requests.Session()
    assert log_in(browser, one) == 302
    assert whoami(browser, two) == "ann · editor"
    # Revoking on one (a password change bumps the session version) ends it on both.
    with one.app.app_context(), database.transaction() as session:
        users.set_password_hash(session, "ann", hash_password("a brand new password"))
    assert whoami(browser, two) == "anonymous" and whoami(browser, one) == "anonymous"

    # A save on one is seen at once on the other.
    admin = bearer(one.app, "admin", name="data-team")
    created = requests.post(f"{one.url}/api/v1/dashboards", json={"spec": SPEC}, headers=admin)
    assert created.status_code == 201, created.text
    slug = created.json()["slug"]
    saved = requests.put(
        f"{one.url}/api/v1/dashboards/{slug}",
        json={"spec": {**SPEC, "title": "Renamed"}, "version": 1},
        headers=admin,
    )
    assert saved.status_code == 200, saved.text
    seen = requests.get(f"{two.url}/api/v1/dashboards/{slug}", headers=admin).json()
    assert (seen["version"], seen["title"]) == (2, "Renamed")

    # The cache is shared: an answer computed on one is served from the cache on two, and
    # a (late) write through two is seen by one right away.
    writer = bearer(one.app, "ingest", "read", name="agent")
    points = [{"name": "cpu", "source": "h", "value": float(i), "timestamp": (T0 + timedelta(
        minutes=i)).isoformat()} for i in range(120)]  # fmt: skip
    assert requests.post(f"{one.url}/api/v1/metrics", json=points, headers=writer).ok
    params = {"metric": "cpu", "agg": "max", "start": T0.isoformat(),
              "end": (T0 + timedelta(hours=2)).isoformat(), "max_points": 24}  # fmt: skip
    first = requests.get(f"{one.url}/api/v1/query", params=params, headers=writer).json()
    again = requests.get(f"{two.url}/api/v1/query", params=params, headers=writer).json()
    assert not first["cached"] and again["cached"] and again["series"] == first["series"]
    late = [{"name": "cpu", "source": "h", "value": 500.0, "timestamp": T0.isoformat()}]
    assert requests.post(f"{two.url}/api/v1/metrics", json=late, headers=writer).ok
    after = requests.get(f"{one.url}/api/v1/query", params=params, headers=writer).json()
    assert not after["cached"] and after["series"][0]["values"][0] == 500.0

    # Rate limits are shared: ten requests per minute per token, across both instances.
    reader = bearer(one.app, "read", name="script")
    codes = [
        requests.get(f"{instance.url}/api/v1/dashboards", headers=reader).status_code
        for instance in (one, two) * 6
    ]
    assert codes == [200] * 10 + [429] * 2
    # So are login attempts per address (five a minute; one was used above).
    attempts = [log_in(requests.Session(), instance, "wrong") for instance in (one, two) * 3]
    assert attempts == [401] * 4 + [429] * 2
