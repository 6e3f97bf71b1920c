"""Fault tests on private servers (tests/servers.py, never the shared ones): Redis killed
and frozen, PostgreSQL restarted and stopped, each under a mixed load of ingest and
reads. Every answer is one the API documents, and every acknowledged point is stored.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text

from db import migrate
from tests import servers
from tests.conftest import bearer, make_app, service_missing

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
# What each request of the load may answer while a server is down or back.
DOCUMENTED = {"ingest": {201, 503}, "read": {200, 503}, "page": {200}}
LOAD_THREADS = {"ingest": 3, "read": 2, "page": 1}
BASE_TS = 1_767_225_600  # 2026-01-01


@pytest.fixture(scope="module")
def private_servers() -> Iterator[tuple[servers.PostgresServer, servers.RedisServer]]:
    reason = servers.available()
    if reason:
        service_missing(reason)
    postgres = servers.PostgresServer()
    redis_server = servers.RedisServer(postgres.root)
    postgres.start()
    redis_server.start()
    yield postgres, redis_server
    redis_server.thaw()
    redis_server.kill()
    postgres.remove()


@pytest.fixture
def faulty(private_servers: tuple) -> Iterator[tuple[Flask, Any, Any]]:
    """An app on the private servers (both up), with a limit the load never reaches."""
    postgres, redis_server = private_servers
    if not postgres.running():
        postgres.start()
    if redis_server.process is None:
        redis_server.start()
    url = postgres.create_database(f"faults_{uuid.uuid4().hex[:8]}")
    migrate.upgrade(url)
    app = make_app(url, REDIS_URL=redis_server.url, API_RATE_LIMIT="100000/second")
    yield app, postgres, redis_server


@dataclass
class Load:
    """Threads sending a mix of requests until stopped; what each got back."""

    app: Flask
    answers: list[tuple[str, int]] = field(default_factory=list)
    acknowledged: set[tuple[str, int]] = field(default_factory=set)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, kind: str, number: int, headers: dict[str, str]) -> None:
        client = self.app.test_client()
        sequence = 0
        while not self.stop.is_set():
            sequence += 1
            if kind == "ingest":
                name = f"fault.t{number}"
                stamps = [BASE_TS + sequence * 10 + i for i in range(5)]
                batch = [{"name": name, "source": "load", "value": float(ts), "timestamp": ts}
                         for ts in stamps]  # fmt: skip
                status = client.post("/api/v1/metrics", json=batch, headers=headers).status_code
                if status == 201:
                    with self.lock:
                        self.acknowledged.update((name, ts) for ts in stamps)
            elif kind == "read":
                status = client.get("/api/v1/metrics?limit=5", headers=headers).status_code
            else:
                status = client.get("/").status_code
            with self.lock:
                self.answers.append((kind, status))
            time.sleep(0.005)

    def during(self, fault: Callable[[], None], headers: dict[str, str]) -> None:
        """Run the load, inject ``fault`` after a moment, keep going a moment after it."""
        threads = [
            threading.Thread(target=self.run, args=(kind, n, headers), daemon=True)
            for kind, count in LOAD_THREADS.items()
            for n in range(count)
        ]
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        fault()
        time.sleep(1.5)
        self.stop.set()
        for thread in threads:
            thread.join(timeout=30)
        assert not any(thread.is_alive() for thread in threads), "a request hung"


def wait_until_ready(app: Flask, timeout: float = 30) -> None:
    client = app.test_client()
    deadline = time.monotonic() + timeout
    while client.get("/api/v1/ready").status_code != 200:
        assert time.monotonic() < deadline, "the app did not recover"
        time.sleep(0.2)


def check(load: Load, database_url: str) -> None:
    wrong = [(kind, status) for kind, status in load.answers if status not in DOCUMENTED[kind]]
    assert wrong == [], sorted(set(wrong))
    assert load.acknowledged, "no ingest succeeded at all"
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT s.name, CAST(EXTRACT(EPOCH FROM p.ts) AS BIGINT) FROM metric_points p "
                "JOIN series s ON s.id = p.series_id WHERE s.name LIKE 'fault.%'"
            )
        )
        stored = {(name, int(ts)) for name, ts in rows}
    engine.dispose()
    missing = load.acknowledged - stored
    assert not missing, f"{len(missing)} acknowledged points lost, e.g. {sorted(missing)[:3]}"


def _statuses(load: Load) -> set[int]:
    return {status for _, status in load.answers}


def test_redis_killed_under_load(faulty: tuple) -> None:
    app, _, redis_server = faulty
    load = Load(app)

    def kill_and_restart() -> None:
        redis_server.kill()
        time.sleep(1.0)
        redis_server.start()

    load.during(kill_and_restart, bearer(app, "ingest", "read"))
    check(load, app.config["DATABASE_URL"])
    assert 503 not in _statuses(load)  # Redis is a cache: nothing fails without it


def test_redis_frozen_under_load(faulty: tuple) -> None:
    app, _, redis_server = faulty
    load = Load(app)

    def freeze_and_thaw() -> None:
        redis_server.freeze()
        time.sleep(1.5)
        redis_server.thaw()

    load.during(freeze_and_thaw, bearer(app, "ingest", "read"))
    check(load, app.config["DATABASE_URL"])
    assert 503 not in _statuses(load)


def test_postgresql_restarted_under_load(faulty: tuple) -> None:
    app, postgres, _ = faulty
    load = Load(app)

    def restart() -> None:
        postgres.stop("fast")
        postgres.start()

    load.during(restart, bearer(app, "ingest", "read"))
    wait_until_ready(app)
    check(load, app.config["DATABASE_URL"])


def test_postgresql_stopped_under_load(faulty: tuple) -> None:
    app, postgres, _ = faulty
    load = Load(app)
    headers = bearer(app, "ingest", "read")
    load.during(lambda: postgres.stop("immediate"), headers)
    assert 503 in _statuses(load)  # it did notice
    postgres.start()
    wait_until_ready(app)
    check(load, app.config["DATABASE_URL"])
