"""Issue 10 item 6: with the database down, the login form and a logged-in user's pages
answer 503 "database unavailable", never a 500 with a traceback.

Runs on its own PostgreSQL server (tests/servers.py), stopped and started here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from flask import Flask

from db import migrate
from tests import servers
from tests.conftest import make_app, service_missing
from tests.test_auth import add_user, csrf_from, log_in, whoami

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[servers.PostgresServer]:
    reason = servers.available()
    if reason:
        service_missing(reason)
    server = servers.PostgresServer()
    server.start()
    yield server
    server.remove()


@pytest.fixture
def app(private_postgres: servers.PostgresServer) -> Iterator[Flask]:
    if not private_postgres.running():
        private_postgres.start()
    url = private_postgres.create_database(f"down_{uuid.uuid4().hex[:8]}")
    migrate.upgrade(url)
    application = make_app(url)
    yield application
    if not private_postgres.running():
        private_postgres.start()


def test_login_and_logged_in_pages_answer_503(
    app: Flask, private_postgres: servers.PostgresServer
) -> None:
    add_user(app, "ann", "editor")
    client, other = app.test_client(), app.test_client()
    assert log_in(client, "ann").status_code == 302
    token = csrf_from(other)
    private_postgres.stop()

    response = other.post(
        "/login", data={"username": "ann", "password": "x", "csrf_token": token, "next": "/"}
    )
    assert response.status_code == 503
    assert "database is unavailable" in response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "5"

    layout = client.get("/_dash-layout")
    assert layout.status_code == 503
    assert layout.get_data(as_text=True).startswith("The database is unavailable")

    assert other.get("/_dash-layout").status_code == 200  # anonymous: no query needed
    assert client.get("/api/v1/dashboards").status_code == 503

    private_postgres.start()
    assert whoami(client) == "ann · editor"  # the session survives the outage
