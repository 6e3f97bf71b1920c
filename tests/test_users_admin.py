"""Resetting passwords, deleting accounts and reading the audit log (issue 28, item 12),
on SQLite and PostgreSQL, through the commands the admin page and the CLI share."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashapp.auth import authenticate, hash_password
from dashapp.commands import dashboards as dashboard_commands
from dashapp.commands import users as commands
from dashapp.commands.errors import Conflict, Invalid, NotFound
from dashapp.core.permissions import Actor
from dashapp.core.spec import parse_spec
from dashapp.extensions import database
from db import audit, dashboards, users
from tests.test_auth import PASSWORD, add_user, log_in, whoami

ADA = Actor.cli("ada")


def test_a_reset_password_works_once_handed_over_and_ends_sessions(
    app: Flask, client: FlaskClient
) -> None:
    add_user(app, "bob", "editor")
    log_in(client, "bob")
    assert whoami(client) == "bob · editor"
    with app.app_context():
        password = commands.reset_password(ADA, "bob")
        assert len(password) >= 12
        assert authenticate("bob", password) is not None
        assert authenticate("bob", PASSWORD) is None
        with pytest.raises(NotFound):
            commands.reset_password(ADA, "nobody")
    assert whoami(client) == "anonymous"


def test_a_deleted_account_is_gone_but_its_name_keeps_its_history(
    app: Flask, client: FlaskClient
) -> None:
    """Delete, not anonymise: the history that names bob must keep meaning bob, so the
    name stays with its tombstone and nobody can take it over."""
    add_user(app, "bob", "editor")
    log_in(client, "bob")
    with app.app_context():
        bob = Actor.cli("bob")
        dashboard_commands.create(bob, parse_spec({"title": "Bob's"}), "bobs")
        commands.delete(ADA, "bob")
        assert whoami(client) == "anonymous"  # the session ended at once
        assert authenticate("bob", PASSWORD) is None
        with database.transaction() as session:
            assert "bob" not in [u.username for u in users.list_users(session)]
            assert users.deleted_names(session) == {"bob"}
            assert dashboards.get_dashboard(session, "bobs").updated_by == "bob"
            entries = audit.search(session, actor="bob").entries
            assert [e.action for e in entries] == ["dashboard.create", "session.start"]
            deleted = audit.search(session, action="user.delete").entries
            assert [(e.actor, e.target) for e in deleted] == [("ada", "bob")]
        with pytest.raises(Conflict, match="deleted account"):
            commands.create(ADA, "bob", "another long password", "admin")
        with pytest.raises(NotFound):
            commands.delete(ADA, "bob")
        with pytest.raises(NotFound):
            commands.set_role(ADA, "bob", "admin")
    assert log_in(client, "bob").status_code == 401


def test_nobody_deletes_their_own_account_from_the_page(app: Flask) -> None:
    add_user(app, "ada", "admin")
    with app.app_context(), pytest.raises(Invalid, match="your own account"):
        commands.delete(Actor("ada", "admin", "ui"), "ada")


def test_the_audit_log_filters_by_actor_action_and_time_a_page_at_a_time(app: Flask) -> None:
    now = datetime.now(UTC)
    with app.app_context(), database.transaction() as session:
        for n in range(7):
            audit.record(session, "ada", "ui", "user.create", f"user{n}")
        audit.record(session, "bob", "api", "dashboard.save", "ops")
        audit.record(session, None, "cli", "user.create", "admin")
    with app.app_context(), database.transaction() as session:
        everything = audit.search(session, limit=3)
        assert (everything.total, len(everything.entries)) == (9, 3)
        assert everything.entries[0].target == "admin"  # newest first
        second = audit.search(session, limit=3, offset=3)
        assert [e.target for e in second.entries] == ["user5", "user4", "user3"]
        assert audit.search(session, actor="bob").total == 1
        assert audit.search(session, action="user.create").total == 8
        assert audit.search(session, actor="ada", action="dashboard.save").total == 0
        assert audit.search(session, since=now - timedelta(minutes=5)).total == 9
        assert audit.search(session, until=now - timedelta(minutes=5)).total == 0
        assert audit.search(session, since=now + timedelta(minutes=5)).total == 0
        assert audit.facets(session) == (["ada", "bob"], ["dashboard.save", "user.create"])


def test_the_cli_resets_and_deletes(app: Flask) -> None:
    with app.app_context(), database.transaction() as session:
        users.create_user(session, "carol", hash_password(PASSWORD), "viewer")
    runner = app.test_cli_runner()
    reset = runner.invoke(args=["users", "reset-password", "carol"])
    assert reset.exit_code == 0 and "shown once" in reset.output
    new_password = reset.output.rsplit(": ", 1)[1].strip()
    with app.app_context():
        assert authenticate("carol", new_password) is not None
    refused = runner.invoke(args=["users", "delete", "carol"], input="n\n")
    assert refused.exit_code != 0 and "Delete carol?" in refused.output
    deleted = runner.invoke(args=["users", "delete", "carol", "--yes"])
    assert deleted.exit_code == 0, deleted.output
    assert "carol" not in runner.invoke(args=["users", "list"]).output
    assert "no user" in runner.invoke(args=["users", "delete", "carol", "--yes"]).output
