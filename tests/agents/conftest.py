"""Fixtures of the agent tests: one app on PostgreSQL, served over HTTP, per test module."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask import Flask

from dashapp import create_app
from dashapp.extensions import database
from db import tokens
from tests.agents.support import served
from tests.conftest import empty_tables


@pytest.fixture(scope="module")
def agent_app(postgresql_database: str) -> Iterator[Flask]:
    """One app on PostgreSQL for every agent test of the module."""
    empty_tables(postgresql_database)
    application = create_app(
        {
            "DATABASE_URL": postgresql_database,
            "DASHAPP_ENV": "test",
            "SECRET_KEY": "test-secret-key-long-enough-to-pass",
            "CACHE_KEY_PREFIX": f"dashapp-test-{uuid.uuid4().hex[:8]}:",
            "API_RATE_LIMIT": "100000/second",
        }
    )
    yield application
    application.extensions["dashapp.db"].engine.dispose()


@pytest.fixture(scope="module")
def base_url(agent_app: Flask) -> Iterator[str]:
    """The app served over HTTP on an ephemeral port."""
    with served(agent_app) as url:
        yield url


@pytest.fixture(scope="module")
def token(agent_app: Flask) -> str:
    """A token with the ingest scope."""
    with agent_app.app_context(), database.transaction() as session:
        return tokens.create_token(session, "agents", ["ingest"]).token
