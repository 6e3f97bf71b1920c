"""Page loads over plain HTTP: status codes and the login form (no browser needed)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashapp.core.spec import parse_spec
from dashapp.extensions import database
from db import dashboards, users
from layouts import ids
from layouts.shell import login_href
from tests.test_auth import add_user, log_in


def test_a_missing_dashboard_or_page_answers_404(app: Flask, client: FlaskClient) -> None:
    with app.app_context(), database.transaction() as session:
        dashboards.create_dashboard(session, "ops", parse_spec({"title": "Ops"}), "ann")
    assert client.get("/").status_code == 200
    assert client.get("/d/ops").status_code == 200
    assert client.get("/d/ops/history").status_code == 200
    assert client.get("/d/nope").status_code == 404
    assert client.get("/d/nope/edit").status_code == 404
    assert client.get("/no/such/page").status_code == 404
    assert "<html" in client.get("/d/nope").get_data(as_text=True).lower()  # still the app
    assert client.get("/_dash-layout").status_code == 200


def test_a_wrong_password_keeps_the_username(app: Flask, client: FlaskClient) -> None:
    add_user(app, "ann", "viewer")
    page = log_in(client, "ann", "wrong password", next_path="/d/ops?from=now-1h")
    text = page.get_data(as_text=True)
    assert page.status_code == 401
    assert 'value="ann"' in text and "Wrong username or password" in text
    assert 'value="/d/ops?from=now-1h"' in text  # still going back there
    response = log_in(client, "ann", next_path="/d/ops?from=now-1h")
    assert response.status_code == 302 and response.location.endswith("/d/ops?from=now-1h")


def test_the_login_link_comes_back_to_the_page() -> None:
    assert login_href("/") == "/login"
    assert login_href("/d/ops", "?from=now-1h") == "/login?next=%2Fd%2Fops%3Ffrom%3Dnow-1h"


def test_admin_writes_are_refused_to_anyone_but_admins(app: Flask) -> None:
    from callbacks.admin import administer
    from dashapp.commands.errors import Forbidden, Unauthenticated
    from layouts import ids
    from tests.dash_context import triggered_by

    args = {"add_user": 1, "roles": [], "active": [], "add_token": None, "revoke": [],
            "username": "mallory", "password": "long enough password", "role": "admin",
            "token_name": None, "scopes": [], "expires": "never"}  # fmt: skip
    refused = pytest.raises((Forbidden, Unauthenticated))
    with app.test_request_context(), triggered_by(ids.ADMIN_ADD_USER, "n_clicks", 1), refused:
        administer(**args)
    with app.app_context(), database.transaction() as session:
        assert [u.username for u in users.list_users(session)] == []


def test_a_user_keeps_a_time_zone_with_the_account(app: Flask) -> None:
    from flask_login import login_user

    from callbacks.router import render_page
    from dashapp.auth import SessionUser
    from dashapp.commands import users as user_commands
    from dashapp.core.permissions import Actor
    from tests.test_layouts import find

    add_user(app, "ann", "viewer")
    with app.app_context(), database.transaction() as session:
        dashboards.create_dashboard(session, "ops", parse_spec({"title": "Ops"}), "ann")
    with app.app_context():
        saved = user_commands.set_timezone(Actor.user("ann", "viewer"), "Asia/Tokyo")
    assert saved.timezone == "Asia/Tokyo"

    def zone_of(page: object) -> str:
        return find(page, lambda c: getattr(c, "id", None) == ids.TIME_RANGE).data["tz"]

    with app.test_request_context("/"):
        login_user(SessionUser(saved.id, "ann", "viewer", saved.session_version, "Asia/Tokyo"))
        assert zone_of(render_page("/d/ops", "")) == "Asia/Tokyo"
        assert zone_of(render_page("/d/ops", "?tz=UTC")) == "UTC"  # the URL wins
    with app.test_request_context("/"):
        assert zone_of(render_page("/d/ops", "")) == "UTC"  # anonymous: the dashboard's
