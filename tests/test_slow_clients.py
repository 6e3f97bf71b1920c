"""Slow and idle clients cannot starve the server: the shipped gunicorn configuration
(``gunicorn.conf.py``, as ``make run`` and ``dashapp serve`` start it) keeps answering
``/api/v1/health`` promptly while hundreds of connections trickle headers and bodies
or send nothing at all (slowloris).
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from dashapp.commands.seed import seed_demo
from dashapp.core.demo import DEMO_SLUG
from db import migrate
from layouts import ids
from layouts.panels import stored_source
from tests.conftest import REDIS_URL, bearer, empty_tables, make_app
from tests.dash_requests import body as callback_body
from tests.dash_requests import chart_output
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
IDLE, SLOW_HEADERS, SLOW_BODIES = 100, 100, 100
TRICKLE_SECONDS = 1.0  # each slow connection sends a byte or a header line this often
WATCH_SECONDS = 12.0
PROMPT_SECONDS = 2.0  # the probe gave up after 10 s on every try


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """gunicorn with the shipped configuration on a free port (no Redis: one worker,
    what ``make run`` starts), on a scratch SQLite database."""
    url = f"sqlite:///{tmp_path_factory.mktemp('slow') / 'dashapp.db'}"
    migrate.upgrade(url)
    yield from gunicorn({"DATABASE_URL": url})


@pytest.fixture(scope="module")
def served_scaled(postgresql_database: str) -> Iterator[tuple[int, str, str]]:
    """The same on PostgreSQL and Redis, two worker processes; (port, database URL,
    Redis key prefix)."""
    prefix = f"dashapp-slow-{uuid.uuid4().hex[:8]}:"
    empty_tables(postgresql_database)
    config = {"DATABASE_URL": postgresql_database, "REDIS_URL": REDIS_URL,
              "CACHE_KEY_PREFIX": prefix, "WEB_CONCURRENCY": "2"}  # fmt: skip
    try:
        for port in gunicorn(config):
            yield port, postgresql_database, prefix
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()


def gunicorn(config: dict[str, str]) -> Iterator[int]:
    """Run ``gunicorn -c gunicorn.conf.py wsgi:app`` with ``config`` on a free port until
    the generator is closed; yields the port once health answers."""
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "WEB_CONCURRENCY")},
        "DASHAPP_ENV": "production", "HOST": "127.0.0.1", "PORT": str(port),
        "SECRET_KEY": "slow-clients-test-secret-key-0123456789", "ACCESS_LOG": "0",
        "SECURE_COOKIES": "0", **config,
    }  # fmt: skip
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
    server = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while health_seconds(port) is None:
            assert server.poll() is None, server.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        server.stderr.close()  # type: ignore[union-attr]


def health_seconds(port: int, timeout: float = 10.0) -> float | None:
    """How long ``GET /api/v1/health`` took on a new connection (None: no 200 answer)."""
    started = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as probe:
            probe.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            answer = b""
            while chunk := probe.recv(4096):
                answer += chunk
    except OSError:
        return None
    return time.monotonic() - started if answer.startswith(b"HTTP/1.1 200") else None


class Trickle:
    """Connections that never finish a request: idle ones, ones sending a header line
    at a time and ones sending a body a byte at a time, each every TRICKLE_SECONDS."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sockets: list[tuple[socket.socket, list[bytes]]] = []

    def open(self) -> None:
        headers = [f"X-Slow-{i}: {'a' * 20}\r\n".encode() for i in range(10_000)]
        body_head = (
            b"POST /api/v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100000\r\n\r\n"
        )
        plans = (
            [[]] * IDLE
            + [[b"GET /api/v1/health HTTP/1.1\r\n", *headers] for _ in range(SLOW_HEADERS)]
            + [[body_head, *([b"["] * 100_000)] for _ in range(SLOW_BODIES)]
        )
        for plan in plans:
            connection = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            connection.setblocking(False)
            self.sockets.append((connection, list(reversed(plan))))

    def step(self) -> None:
        """Send each connection's next piece (connections the server closed are dropped)."""
        alive = []
        for connection, pieces in self.sockets:
            if pieces:
                try:
                    connection.send(pieces.pop())
                except OSError:
                    connection.close()
                    continue
            alive.append((connection, pieces))
        self.sockets = alive

    def close(self) -> None:
        for connection, _ in self.sockets:
            connection.close()


def test_hundreds_of_slow_connections_do_not_starve_health(served: int) -> None:
    assert (health_seconds(served) or 99) < PROMPT_SECONDS
    trickle = Trickle(served)
    trickle.open()
    took: list[float | None] = []
    try:
        deadline = time.monotonic() + WATCH_SECONDS
        next_step = time.monotonic()
        while time.monotonic() < deadline:
            if time.monotonic() >= next_step:
                trickle.step()
                next_step += TRICKLE_SECONDS
            took.append(health_seconds(served, timeout=PROMPT_SECONDS * 2))
    finally:
        trickle.close()
    slow = [t for t in took if t is None or t > PROMPT_SECONDS]
    assert len(took) >= 5 and not slow, f"{len(slow)} of {len(took)} probes slow: {took}"


def test_the_shipped_server_serves_dashboards_and_ingest_on_postgresql_and_redis(
    served_scaled: tuple[int, str, str],
) -> None:
    """The worker class changes how requests wait on PostgreSQL and Redis (cooperatively):
    a page, a panel's data and a write work through the real server."""
    port, url, prefix = served_scaled
    app = make_app(url, REDIS_URL=REDIS_URL, CACHE_KEY_PREFIX=prefix)
    with app.app_context():
        seed_demo(days=0.05)
    headers = {**bearer(app, "ingest"), "Content-Type": "application/json"}
    app.extensions["dashapp.db"].engine.dispose()  # the app only builds requests from here
    base = f"http://127.0.0.1:{port}"
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with browser.open(f"{base}/d/{DEMO_SLUG}", timeout=10) as page:
        assert page.status == 200
    csrf = next(cookie.value for cookie in jar if cookie.name == "_csrf_token")
    point = {"name": "cpu.usage", "source": "web-1", "value": 4242.0}
    written = urllib.request.Request(
        f"{base}/api/v1/metrics", data=json.dumps(point).encode(), headers=headers
    )
    with urllib.request.urlopen(written, timeout=10) as answer:
        assert answer.status == 201
    values = {
        (ids.TIME_RANGE, "data"): {"from": "now-15m", "to": "now", "tz": "UTC"},
        (ids.THEME, "data"): "light", (ids.VIEWPORT, "data"): 1600,
        (ids.PANEL_SPEC, "data"): stored_source(DEMO_SLUG, 1, "cpu"),
    }  # fmt: skip
    payload = callback_body(app, chart_output(app), values, ["time-range.data"], "cpu")
    request = urllib.request.Request(
        f"{base}/_dash-update-component",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", "X-CSRFToken": csrf},
    )
    with browser.open(request, timeout=20) as answer:
        figure = json.loads(answer.read())["response"]
    shown = json.dumps(figure)
    assert '"web-1"' in shown and "4242" in shown
