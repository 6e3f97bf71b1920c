"""Issue 10 item 3: sessions end on the server. A cookie copied before logout (or before
a disable, role change or new password) opens nothing afterwards."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashapp.commands import users as user_commands
from dashapp.core.permissions import Actor
from dashapp.extensions import database
from db import audit, sessions, users
from tests.conftest import make_app
from tests.test_auth import add_user, csrf_from, log_in, whoami


def copy_of(client: FlaskClient, app: Flask, *names: str) -> FlaskClient:
    """Another browser holding copies of ``client``'s cookies (as a thief would)."""
    thief = app.test_client()
    for name in names:
        cookie = client.get_cookie(name)
        assert cookie is not None, name
        thief.set_cookie(name, cookie.value)
    return thief


def log_out(client: FlaskClient) -> None:
    assert client.post("/logout", data={"csrf_token": csrf_from(client)}).status_code == 302


def open_sessions(app: Flask, username: str) -> int:
    with app.app_context(), database.transaction() as session:
        user = next(u for u in users.list_users(session) if u.username == username)
        return sessions.count(session, user.id)


def test_logout_ends_copies_of_the_cookie(app: Flask, client: FlaskClient) -> None:
    add_user(app, "ann", "editor")
    log_in(client, "ann")
    thief = copy_of(client, app, "session")
    assert whoami(thief) == "ann · editor"
    log_out(client)
    assert whoami(client) == "anonymous"
    assert whoami(thief) == "anonymous"  # was still "ann · editor" before
    assert open_sessions(app, "ann") == 0


def test_logout_ends_copies_of_the_remember_cookie(app: Flask) -> None:
    add_user(app, "ann", "editor")
    client = app.test_client()
    token = csrf_from(client)
    client.post("/login", data={"username": "ann", "password": "correct horse battery",
                                "csrf_token": token, "remember": "1"})  # fmt: skip
    thief = copy_of(client, app, "remember_token")  # a new browser session, remembered
    assert whoami(thief) == "ann · editor"
    log_out(client)
    assert whoami(thief) == "anonymous"


def test_logout_ends_only_that_session(app: Flask) -> None:
    add_user(app, "ann", "editor")
    laptop, phone = app.test_client(), app.test_client()
    log_in(laptop, "ann")
    log_in(phone, "ann")
    assert open_sessions(app, "ann") == 2
    log_out(laptop)
    assert whoami(phone) == "ann · editor"
    with app.app_context(), database.transaction() as session:
        actions = [entry.action for entry in audit.recent(session)]
    assert actions.count("session.start") == 2 and actions.count("session.end") == 1


@pytest.mark.parametrize("change", ["role", "disable", "password"])
def test_account_changes_end_every_session(app: Flask, change: str) -> None:
    add_user(app, "bob", "editor")
    laptop, phone = app.test_client(), app.test_client()
    log_in(laptop, "bob")
    log_in(phone, "bob")
    thief = copy_of(laptop, app, "session")
    admin = Actor.cli("admin")
    with app.app_context():
        if change == "role":
            user_commands.set_role(admin, "bob", "viewer")
        elif change == "disable":
            user_commands.set_active(admin, "bob", False)
        else:
            user_commands.set_password(admin, "bob", "a new password!")
    assert [whoami(c) for c in (laptop, phone, thief)] == ["anonymous"] * 3
    assert open_sessions(app, "bob") == 0


def test_sessions_expire_on_the_server(database_url: str) -> None:
    app = make_app(database_url, SESSION_LIFETIME_DAYS=1.5 / 86400)  # 1.5 seconds
    add_user(app, "ann", "viewer")
    client = app.test_client()
    log_in(client, "ann")
    assert whoami(client) == "ann · viewer"
    time.sleep(2)
    assert whoami(client) == "anonymous"


def test_a_forged_identity_opens_nothing(app: Flask, client: FlaskClient) -> None:
    # The old identity format was "user id:session version"; guessing it must not work.
    add_user(app, "ann", "admin")
    with client.session_transaction() as cookie_session:
        cookie_session["_user_id"] = "1:1"
        cookie_session["_fresh"] = True
    assert whoami(client) == "anonymous"


def test_the_worker_prunes_expired_sessions(app: Flask) -> None:
    """Expired sessions leave the table (the worker's hourly job); live ones stay."""
    from datetime import timedelta

    from db import jobs

    add_user(app, "old", "viewer")
    add_user(app, "new", "viewer")
    with app.app_context(), database.transaction() as session:
        expired = users.credentials(session, "old").user
        live = users.credentials(session, "new").user
        sessions.start(session, expired, timedelta(seconds=-1))
        sessions.start(session, live, timedelta(days=1))
    with app.app_context():
        ran = jobs.run_due_jobs()
    assert ran["prune-sessions"] == 1
    with app.app_context(), database.transaction() as session:
        assert sessions.count(session, expired.id) == 0 and sessions.count(session, live.id) == 1
