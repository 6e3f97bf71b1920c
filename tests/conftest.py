"""Shared fixtures: real SQLite and PostgreSQL databases, real Redis, the app.

Without ``REQUIRE_SERVICES=1`` a test whose service is missing is skipped with the
reason; with it (CI), the same test fails, so nothing is silently left untested.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from dash.testing.application_runners import BaseDashRunner
from dash.testing.composite import DashComposite
from flask import Flask
from sqlalchemy import create_engine, text

from dashapp import create_app
from dashapp.extensions import database
from db import migrate, tokens
from db.migrate import SCHEMA

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
POSTGRES_ADMIN = os.environ.get("TEST_POSTGRES_DSN", "host=127.0.0.1 port=5432 user=postgres")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TABLES = tuple(table.name for table in reversed(SCHEMA.sorted_tables))
_APPS: list[Flask] = []

# dash_duo serves each app on the next port from 58050: two suites on one machine (two
# checkouts, or a developer's suite beside CI) would take the same ports. Start each run
# at its own place instead.
BaseDashRunner._next_port = 20000 + (os.getpid() * 97) % 30000


def service_missing(reason: str) -> None:
    """Skip on a developer's bare machine; fail in CI (REQUIRE_SERVICES=1)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"{reason} (REQUIRE_SERVICES=1 demands it)")
    pytest.skip(reason)


def _postgres_url(name: str) -> str:
    params = dict(part.split("=", 1) for part in POSTGRES_ADMIN.split())
    user = params.get("user", "postgres")
    host = params.get("host", "127.0.0.1")
    port = params.get("port", "5432")
    return f"postgresql+psycopg://{user}@{host}:{port}/{name}"


@pytest.fixture(scope="session")
def postgresql_database() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test run, dropped afterwards."""
    try:
        admin = psycopg.connect(
            POSTGRES_ADMIN + " dbname=postgres", autocommit=True, connect_timeout=3
        )
    except psycopg.OperationalError as error:
        service_missing(f"PostgreSQL is not reachable: {error}")
    name = f"dashapp_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = _postgres_url(name)
    try:
        migrate.upgrade(url)
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh, migrated SQLite database file for this test run."""
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'dashapp.db'}"
    migrate.upgrade(url)
    return url


def empty_tables(url: str) -> None:
    """Delete every row, so each test starts from an empty schema."""
    engine = create_engine(url)
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                connection.execute(text(f"DELETE FROM {table}"))
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each database test runs on SQLite and on PostgreSQL, starting empty."""
    url = request.getfixturevalue(f"{request.param}_database")
    empty_tables(url)
    yield url


@pytest.fixture
def redis_url() -> str:
    """A reachable Redis server."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as error:
        service_missing(f"Redis is not reachable: {error}")
    finally:
        client.close()
    return REDIS_URL


def make_app(database_url: str, **config: object) -> Flask:
    """An app on ``database_url`` with test settings."""
    settings = {
        "DATABASE_URL": database_url,
        "DASHAPP_ENV": "test",
        "SECRET_KEY": "test-secret-key-long-enough-to-pass",
        "TESTING": True,
        "CACHE_KEY_PREFIX": f"dashapp-test-{uuid.uuid4().hex[:8]}:",
        "LIVE_TAIL_GRACE": 0,  # ticks see a write at once; the grace's own tests set it
        **config,
    }
    application = create_app(settings)
    _APPS.append(application)
    return application


@pytest.fixture(autouse=True)
def _close_app_connections() -> Iterator[None]:
    """After each test (and after its browser and server have stopped), let requests
    still running return their connections, then close every pool the test's apps hold.

    Disposing a pool while a request holds a connection orphans that connection; the
    garbage collector later finds it open, a warning that fails some later test.
    """
    yield
    while _APPS:
        engine = _APPS.pop().extensions["dashapp.db"].engine
        deadline = time.monotonic() + 15
        while getattr(engine.pool, "checkedout", lambda: 0)() and time.monotonic() < deadline:
            time.sleep(0.05)
        engine.dispose()


def bearer(app: Flask, *scopes: str, name: str = "test") -> dict[str, str]:
    """Headers carrying a new token with ``scopes`` on ``app``'s database."""
    with app.app_context(), database.transaction() as session:
        token = tokens.create_token(session, name, list(scopes)).token
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def app(database_url: str) -> Iterator[Flask]:
    """The app on the parametrised database, with the in-process cache."""
    application = make_app(database_url)
    yield application
    application.extensions["dashapp.db"].engine.dispose()


@pytest.fixture
def client(app: Flask):  # type: ignore[no-untyped-def]
    """A Flask test client."""
    return app.test_client()


@pytest.fixture
def chromium() -> str:
    """Path of chromedriver for browser tests (Debian's chromium-driver)."""
    driver = shutil.which("chromedriver")
    if driver is None or not Path("/usr/bin/chromium").exists():
        service_missing("Chromium and chromium-driver are not installed")
    return driver


@pytest.fixture
def dash_duo(dash_duo: DashComposite) -> Iterator[DashComposite]:
    """dash.testing's ``dash_duo`` with 30 s waits instead of 10: a busy machine (a CI
    host running the suite beside other work) can take more than 10 s to draw a
    dashboard's first panels; a wait that holds returns as soon as it does."""
    dash_duo.wait_timeout = 30
    yield dash_duo
