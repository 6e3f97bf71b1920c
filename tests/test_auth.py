"""Accounts, login sessions, roles and CSRF, through real requests."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashapp.auth import hash_password
from dashapp.extensions import database
from db import users
from tests.conftest import make_app

PASSWORD = "correct horse battery"


def add_user(app: Flask, name: str, role: str, password: str = PASSWORD) -> None:
    with app.app_context(), database.transaction() as session:
        users.create_user(session, name, hash_password(password), role)


def csrf_from(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def log_in(client: FlaskClient, name: str, password: str = PASSWORD, next_path: str = "/"):  # type: ignore[no-untyped-def]
    token = csrf_from(client)
    return client.post(
        "/login",
        data={"username": name, "password": password, "csrf_token": token, "next": next_path},
    )


def whoami(client: FlaskClient) -> str:
    """Who the page shell says is logged in ("anonymous" when nobody is)."""
    layout = client.get("/_dash-layout").get_data(as_text=True)
    found = re.search(r'"([\w.@-]+ · (viewer|editor|admin))"', layout)
    return found.group(1) if found else "anonymous"


def test_login_logout_and_wrong_passwords(app: Flask, client: FlaskClient) -> None:
    add_user(app, "ann", "editor")
    assert log_in(client, "ann", "wrong password").status_code == 401
    assert log_in(client, "nobody").status_code == 401
    assert whoami(client) == "anonymous"
    response = log_in(client, "ann", next_path="/d/ops")
    assert response.status_code == 302 and response.location.endswith("/d/ops")
    assert whoami(client) == "ann · editor"
    token = csrf_from(client)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert whoami(client) == "anonymous"


def test_login_never_redirects_off_site(app: Flask, client: FlaskClient) -> None:
    add_user(app, "ann", "viewer")
    for target in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)"):
        response = log_in(client, "ann", next_path=target)
        assert response.location.endswith("/") and "evil" not in response.location


def test_session_cookie_flags(app: Flask, client: FlaskClient) -> None:
    add_user(app, "ann", "viewer")
    response = log_in(client, "ann")
    session_cookie = next(c for c in response.headers.getlist("Set-Cookie") if "session=" in c)
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    secure_app = make_app(app.config["DATABASE_URL"], SECURE_COOKIES=True)
    assert secure_app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("change", ["role", "disable", "password"])
def test_changing_a_user_ends_their_sessions(app: Flask, client: FlaskClient, change: str) -> None:
    add_user(app, "bob", "editor")
    log_in(client, "bob")
    assert whoami(client) == "bob · editor"
    with app.app_context(), database.transaction() as session:
        if change == "role":
            users.set_role(session, "bob", "viewer")
        elif change == "disable":
            users.set_active(session, "bob", False)
        else:
            users.set_password_hash(session, "bob", hash_password("a new password!"))
    assert whoami(client) == "anonymous"


def test_disabled_users_cannot_log_in(app: Flask, client: FlaskClient) -> None:
    add_user(app, "eve", "admin")
    with app.app_context(), database.transaction() as session:
        users.set_active(session, "eve", False)
    assert log_in(client, "eve").status_code == 401


def test_without_anonymous_view_every_page_asks_to_log_in(database_url: str) -> None:
    app = make_app(database_url, ANONYMOUS_VIEW=False)
    client = app.test_client()
    page = client.get("/d/service-health")
    assert page.status_code == 302 and "/login?next=/d/service-health" in page.location
    assert client.get("/_dash-layout").status_code == 401
    assert client.get("/login").status_code == 200
    add_user(app, "ann", "viewer")
    log_in(client, "ann")
    assert client.get("/").status_code == 200
    assert client.get("/d/service-health").status_code == 404  # logged in: now it is honest
    app.extensions["dashapp.db"].engine.dispose()


def test_dash_callbacks_need_the_csrf_header(client: FlaskClient) -> None:
    page = client.get("/")
    cookie = next(c for c in page.headers.getlist("Set-Cookie") if c.startswith("_csrf_token="))
    token = cookie.split(";")[0].split("=", 1)[1]
    body = {
        "output": "theme.data", "outputs": {"id": "theme", "property": "data"},
        "inputs": [{"id": "theme-toggle", "property": "n_clicks", "value": 1}],
        "state": [{"id": "theme", "property": "data", "value": "light"}],
        "changedPropIds": ["theme-toggle.n_clicks"],
    }  # fmt: skip
    refused = client.post("/_dash-update-component", json=body)
    assert refused.status_code == 400 and "CSRF" in refused.get_data(as_text=True)
    accepted = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})
    assert accepted.status_code == 200 and '"dark"' in accepted.get_data(as_text=True)


def test_cli_manages_users(app: Flask) -> None:
    runner = app.test_cli_runner()
    created = runner.invoke(args=["users", "create", "carol", "--role", "editor",
                                  "--password-stdin"], input="long enough secret\n")  # fmt: skip
    assert created.exit_code == 0, created.output
    short = runner.invoke(args=["users", "create", "dan", "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "8 characters" in short.output
    again = runner.invoke(args=["users", "create", "carol", "--password-stdin"],
                          input="long enough secret\n")  # fmt: skip
    assert again.exit_code != 0 and "carol" in again.output
    assert runner.invoke(args=["users", "set-role", "carol", "admin"]).exit_code == 0
    assert runner.invoke(args=["users", "disable", "carol"]).exit_code == 0
    listed = runner.invoke(args=["users", "list"]).output
    assert re.search(r"carol\s+admin\s+disabled", listed)
    assert "no user" in runner.invoke(args=["users", "disable", "zed"]).output


def test_ensure_admin_creates_one_admin_once(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["users", "ensure-admin"])
    password = first.output.rsplit(": ", 1)[1].strip()
    assert "shown once" in first.output and len(password) >= 12
    assert runner.invoke(args=["users", "ensure-admin"]).output == ""
    client = app.test_client()
    assert log_in(client, "admin", password).status_code == 302
    assert whoami(client) == "admin · admin"


def test_ensure_admin_takes_the_password_from_the_environment(database_url: str) -> None:
    app = make_app(database_url, ADMIN_PASSWORD="from-the-environment")
    output = app.test_cli_runner().invoke(args=["users", "ensure-admin"]).output
    assert "ADMIN_PASSWORD" in output and "from-the-environment" not in output
    assert log_in(app.test_client(), "admin", "from-the-environment").status_code == 302
    app.extensions["dashapp.db"].engine.dispose()


def test_login_attempts_are_throttled_per_address(database_url: str) -> None:
    app = make_app(database_url, LOGIN_RATE_LIMIT="3/minute")
    client = app.test_client()
    statuses = [log_in(client, "nobody", "guess").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert "Too many attempts" in log_in(client, "nobody", "guess").get_data(as_text=True)
    assert client.get("/login").status_code == 200  # only POSTs count
    app.extensions["dashapp.db"].engine.dispose()


def test_cookies_are_secure_by_default_in_production(database_url: str) -> None:
    production = make_app(database_url, DASHAPP_ENV="production")
    assert production.config["SESSION_COOKIE_SECURE"] is True
    assert production.config["REMEMBER_COOKIE_SECURE"] is True
    development = make_app(database_url, DASHAPP_ENV="development")
    assert development.config["SESSION_COOKIE_SECURE"] is False
    for app in (production, development):
        app.extensions["dashapp.db"].engine.dispose()
