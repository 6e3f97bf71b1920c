"""Every mutating Dash callback checks the role on the server.

Requests are crafted the way a curious viewer would: straight to
``/_dash-update-component``, with a valid session and CSRF token, bypassing the UI.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from callbacks.editor import editor_base
from dashapp.auth import hash_password
from dashapp.core.permissions import ROLES
from dashapp.core.spec import parse_spec
from dashapp.extensions import database
from db import dashboards, users
from tests.conftest import bearer
from tests.test_auth import PASSWORD, log_in

SPEC = parse_spec({"title": "Ops", "panels": []})


@pytest.fixture
def world(app: Flask) -> Flask:
    """An ops dashboard at version 1, a deleted one, and one user per role."""
    with app.app_context(), database.transaction() as session:
        dashboards.create_dashboard(session, "ops", SPEC, "seed")
        gone = dashboards.create_dashboard(session, "gone", SPEC, "seed")
        dashboards.delete_dashboard(session, "gone")
        for role in ROLES:
            users.create_user(session, role, hash_password(PASSWORD), role)
    app.config["GONE_ID"] = gone.id
    return app


def _client(app: Flask, role: str | None) -> tuple[FlaskClient, str]:
    client = app.test_client()
    if role:
        log_in(client, role)
    page = client.get("/")
    cookie = next(c for c in page.headers.getlist("Set-Cookie") if c.startswith("_csrf_token="))
    return client, cookie.split(";")[0].split("=", 1)[1]


def _id(component: Any) -> str:
    return (
        component
        if isinstance(component, str)
        else json.dumps(component, sort_keys=True, separators=(",", ":"))
    )


def call(
    client: FlaskClient, token: str, input_id: str, values: dict[str, Any], trigger: str
) -> int:
    """POST the callback with input ``input_id`` (``id.property``), given input values.

    ``values`` maps ``"<id>.<property>"`` (pattern ids as compact JSON) to a value; an
    ALL-pattern input takes a list of ``(id, value)`` pairs.
    """
    dependencies = client.get("/_dash-dependencies").json
    callback = next(
        d
        for d in dependencies
        if any(f"{i['id']}.{i['property']}".replace(" ", "") == input_id for i in d["inputs"])
    )

    def item(spec: dict[str, Any]) -> Any:
        component = spec["id"]
        key = f"{component}.{spec['property']}"
        if component.startswith("{") and '"ALL"' in component.replace(" ", ""):
            return [
                {"id": pid, "property": spec["property"], "value": value}
                for pid, value in values.get(key, [])
            ]
        parsed = json.loads(component) if component.startswith("{") else component
        return {"id": parsed, "property": spec["property"], "value": values.get(key)}

    outputs = [
        {"id": json.loads(o.split("@")[0].rsplit(".", 1)[0]) if o.startswith("{") else
         o.split("@")[0].rsplit(".", 1)[0], "property": o.split("@")[0].rsplit(".", 1)[1]}
        for o in callback["output"].strip(".").split("...")
    ]  # fmt: skip
    body = {
        "output": callback["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [item(spec) for spec in callback["inputs"]],
        "state": [item(spec) for spec in callback["state"]],
        "changedPropIds": [trigger],
    }
    response = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})
    return response.status_code


def base_of(app: Flask) -> dict[str, Any]:
    with app.app_context(), database.transaction() as session:
        return editor_base(dashboards.get_dashboard(session, "ops"))


# action: (an input of its callback, the role it needs)
ACTIONS = {
    "save": ("save.n_clicks", "editor"),
    "duplicate": ("duplicate-dashboard.n_clicks", "editor"),
    "delete": ("delete-confirm.submit_n_clicks", "editor"),
    "restore": ('{"type":"history-restore","version":["ALL"]}.n_clicks', "editor"),
    "create": ("create-submit.n_clicks", "editor"),
    "import": ("import-submit.n_clicks", "editor"),
    "undelete": ('{"dashboard":["ALL"],"type":"undelete"}.n_clicks', "admin"),
}
EXPECTED = {None: 401, "viewer": 403}


def values_for(action: str, app: Flask) -> tuple[dict[str, Any], str]:
    base = base_of(app)
    draft = {**base["spec"], "title": "Changed"}
    restore_id = _id({"type": "history-restore", "version": 1})
    undelete_id = _id({"dashboard": app.config["GONE_ID"], "type": "undelete"})
    table = {
        "save": {"save.n_clicks": 1, "editor-draft.data": draft, "editor-base.data": base,
                 "save-message.value": "by hand", _id({"name": "slug", "type": "setting"})
                 + ".value": "ops"},
        "duplicate": {"duplicate-dashboard.n_clicks": 1, "editor-base.data": base},
        "delete": {"delete-confirm.submit_n_clicks": 1, "editor-base.data": base},
        "restore": {'{"type":"history-restore","version":["ALL"]}.n_clicks':
                    [({"type": "history-restore", "version": 1}, 1)],
                    "history-slug.data": "ops"},
        "create": {"create-submit.n_clicks": 1, "create-title.value": "Made by hand",
                   "create-template.value": "blank"},
        "import": {"import-submit.n_clicks": 1,
                   "import-text.value": json.dumps({"title": "Imported by hand"})},
        "undelete": {'{"dashboard":["ALL"],"type":"undelete"}.n_clicks':
                     [({"dashboard": app.config["GONE_ID"], "type": "undelete"}, 1)]},
    }  # fmt: skip
    trigger = {"restore": f"{restore_id}.n_clicks", "undelete": f"{undelete_id}.n_clicks"}
    return table[action], trigger.get(action, ACTIONS[action][0])


@pytest.mark.parametrize("action", list(ACTIONS))
@pytest.mark.parametrize("role", [None, "viewer", "editor", "admin"])
def test_permission_matrix(world: Flask, action: str, role: str | None) -> None:
    input_id, needed = ACTIONS[action]
    client, token = _client(world, role)
    values, trigger = values_for(action, world)
    status = call(client, token, input_id, _normalise(values), trigger)
    allowed = role is not None and ROLES.index(role) >= ROLES.index(needed)
    if allowed:
        assert status in (200, 204), (action, role, status)
    else:
        assert status == EXPECTED.get(role, 403), (action, role, status)
    with world.app_context(), database.transaction() as session:
        ops = (
            dashboards.get_dashboard(session, "ops") if action != "delete" or not allowed else None
        )
        deleted = [d.slug for d in dashboards.list_deleted(session)]
        listed = [d.slug for d in dashboards.list_dashboards(session)]
    if not allowed:  # nothing changed
        assert ops is not None and ops.version == 1 and ops.title == "Ops"
        assert deleted == ["gone"] and sorted(listed) == ["ops"]
        return
    assert status == 200, (action, role, status)  # it did something, it did not just skip
    effects = {
        "save": lambda: ops.version == 2 and ops.title == "Changed",
        "duplicate": lambda: "ops-copy" in listed,
        "delete": lambda: "ops" in deleted and "ops" not in listed,
        "restore": lambda: ops.version == 2,
        "create": lambda: "made-by-hand" in listed,
        "import": lambda: "imported-by-hand" in listed,
        "undelete": lambda: "gone" in listed and "gone" not in deleted,
    }
    assert effects[action](), (action, listed, deleted)


def _normalise(values: dict[str, Any]) -> dict[str, Any]:
    """Keys as Dash's dependency list writes pattern ids (compact JSON, sorted keys)."""
    normalised = {}
    for key, value in values.items():
        component, _, prop = key.rpartition(".")
        if component.startswith("{"):
            component = json.dumps(json.loads(component), sort_keys=True, separators=(",", ":"))
        normalised[f"{component}.{prop}"] = value
    return normalised


API_WRITES = [
    ("post", "/api/v1/metrics", {"json": {"name": "m", "source": "s", "value": 1}}),
    ("post", "/api/v1/write", {"data": "m v=1"}),
    ("post", "/api/v1/dashboards", {"json": {"slug": "new", "spec": {"title": "New"}}}),
    ("put", "/api/v1/dashboards/ops", {"json": {"version": 1, "spec": {"title": "X"}}}),
    ("delete", "/api/v1/dashboards/ops", {"headers": {"If-Match": "1"}}),
]


@pytest.mark.parametrize(("method", "path", "body"), API_WRITES)
@pytest.mark.parametrize("role", [None, "viewer", "editor", "admin"])
def test_api_writes_need_a_token_whatever_the_session(
    world: Flask, role: str | None, method: str, path: str, body: dict[str, Any]
) -> None:
    """The REST API authenticates with tokens only: a browser session, even an admin's,
    cannot write through it (so it needs no CSRF defence)."""
    client, token = _client(world, role)
    headers = {**body.get("headers", {}), "X-CSRFToken": token}
    response = getattr(client, method)(path, **{**body, "headers": headers})
    assert response.status_code == 401, (role, path, response.status_code)
    assert response.mimetype == "application/problem+json"
    with world.app_context(), database.transaction() as session:
        assert [d.slug for d in dashboards.list_dashboards(session)] == ["ops"]
        assert dashboards.get_dashboard(session, "ops").version == 1


# One permission model: what each token scope may write through the API.
SCOPE_ROLE = {"ingest": None, "read": "viewer", "edit": "editor", "admin": "admin"}
NEEDS = {"/api/v1/metrics": "ingest", "/api/v1/write": "ingest"}  # the rest: editor


@pytest.mark.parametrize(("method", "path", "body"), API_WRITES)
@pytest.mark.parametrize("scope", list(SCOPE_ROLE))
def test_token_scopes_map_onto_roles(
    world: Flask, scope: str, method: str, path: str, body: dict[str, Any]
) -> None:
    """``read`` acts as a viewer, ``edit`` as an editor, ``admin`` as an admin; ``ingest``
    only pushes points (and ``admin`` may too)."""
    headers = {**body.get("headers", {}), **bearer(world, scope)}
    response = getattr(world.test_client(), method)(path, **{**body, "headers": headers})
    needed = NEEDS.get(path, "editor")
    if needed == "ingest":
        allowed = scope in ("ingest", "admin")
    else:
        role = SCOPE_ROLE[scope]
        allowed = role is not None and ROLES.index(role) >= ROLES.index(needed)
    if allowed:
        assert response.status_code in (200, 201, 204), (scope, path, response.json)
    else:
        assert response.status_code == 403, (scope, path, response.status_code)
        with world.app_context(), database.transaction() as session:
            assert [d.slug for d in dashboards.list_dashboards(session)] == ["ops"]
            assert dashboards.get_dashboard(session, "ops").version == 1


def test_ui_api_and_cli_create_dashboards_through_one_command(
    world: Flask, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    """The same command (counted) runs for the browser, a token and the shell, and each
    leaves the same audit record, naming who and through which channel."""
    from dashapp.commands import dashboards as commands
    from db import audit

    calls: list[str] = []
    original = commands.create

    def counted(actor: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(actor.channel)
        return original(actor, *args, **kwargs)

    monkeypatch.setattr(commands, "create", counted)
    client, token = _client(world, "editor")
    values, trigger = values_for("import", world)
    assert call(client, token, "import-submit.n_clicks", _normalise(values), trigger) == 200
    api = world.test_client().post(
        "/api/v1/dashboards", json={"spec": {"title": "By API"}}, headers=bearer(world, "edit")
    )
    assert api.status_code == 201, api.json
    exported = tmp_path / "shell.json"
    exported.write_text(json.dumps({"title": "From the shell"}))
    result = world.test_cli_runner().invoke(args=["dashboards", "import", str(exported)])
    assert result.exit_code == 0, result.output
    assert sorted(calls) == ["api", "cli", "ui"]
    with world.app_context(), database.transaction() as session:
        entries = audit.recent(session, action="dashboard.create")
    recorded = {(e.channel, e.actor, e.target) for e in entries}
    assert recorded == {
        ("ui", "editor", "imported-by-hand"),
        ("api", "token:test", "by-api"),
        ("cli", "cli", "from-the-shell"),
    }
