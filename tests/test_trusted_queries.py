"""Issue 10 item 1: the server, not the browser, chooses what a panel queries.

Callback requests are forged the way a curious viewer would send them: straight to
``/_dash-update-component`` with a valid session and CSRF token.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from callbacks.panel_editor import _draw
from dashapp.auth import hash_password
from dashapp.commands.seed import seed_demo
from dashapp.core.demo import DEMO_SLUG, dashboard_spec
from dashapp.core.permissions import ROLES
from dashapp.core.spec import parse_spec
from dashapp.dash_app import limit_callbacks
from dashapp.extensions import database
from db import users
from layouts.panels import draft_source, stored_source
from tests.conftest import bearer, make_app
from tests.test_auth import PASSWORD, log_in

LAST_HOUR = {"from": "now-1h", "to": "now"}
CPU = next(p for p in dashboard_spec()["panels"] if p["id"] == "cpu")
# What a forged spec could ask for: every series of every metric, over ten years.
GREEDY = {**CPU, "queries": [{"metric": "cpu.usage", "source": "*", "group_by": ["source"]}]}


def seeded(app: Flask) -> Flask:
    with app.app_context():
        seed_demo(days=0.05)
        with database.transaction() as session:
            for role in ROLES:
                users.create_user(session, role, hash_password(PASSWORD), role)
    return app


@pytest.fixture
def demo(app: Flask) -> Flask:
    return seeded(app)


def client_as(app: Flask, role: str | None) -> tuple[FlaskClient, str]:
    client = app.test_client()
    if role:
        log_in(client, role)
    page = client.get("/")
    cookie = next(c for c in page.headers.getlist("Set-Cookie") if c.startswith("_csrf_token="))
    return client, cookie.split(";")[0].split("=", 1)[1]


def _concrete(component: str, panel_id: str) -> Any:
    if not component.startswith("{"):
        return component
    parsed = json.loads(component)
    return {k: panel_id if v == ["MATCH"] else v for k, v in parsed.items()}


def forge_chart(
    client: FlaskClient,
    token: str,
    source: Any,
    *,
    variables: Any = None,
    viewport: int = 1600,
    panel_id: str = "cpu",
) -> tuple[int, dict[str, Any] | None]:
    """POST the chart panel callback for ``panel_id`` with ``source`` in its store."""
    dependencies = client.get("/_dash-dependencies").json
    callback = next(d for d in dependencies if '"type":"panel-graph"' in d["output"])
    values = {
        "time-range.data": LAST_HOUR,
        "variables.data": variables,
        "theme.data": "light",
        "viewport.data": viewport,
        "panel-spec.data": source,
    }

    def item(spec: dict[str, Any]) -> dict[str, Any]:
        component = _concrete(spec["id"], panel_id)
        name = component["type"] if isinstance(component, dict) else component
        return {"id": component, "property": spec["property"],
                "value": values.get(f"{name}.{spec['property']}")}  # fmt: skip

    outputs = []
    for output in callback["output"].strip(".").split("..."):
        component, _, prop = output.split("@")[0].rpartition(".")
        outputs.append({"id": _concrete(component, panel_id), "property": prop})
    body = {
        "output": callback["output"],
        "outputs": outputs,
        "inputs": [item(spec) for spec in callback["inputs"]],
        "state": [item(spec) for spec in callback["state"]],
        "changedPropIds": ["time-range.data"],
    }
    response = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})
    return response.status_code, response.get_json(silent=True)


def outcome(answer: dict[str, Any] | None, panel_id: str = "cpu") -> str:
    """ "drawn" when the chart got data, else the message the panel shows."""
    assert answer is not None
    status_key = json.dumps({"panel": panel_id, "type": "panel-status"}, separators=(",", ":"))
    status = answer["response"][status_key]["children"]
    if status is None:
        graph_key = json.dumps({"panel": panel_id, "type": "panel-graph"}, separators=(",", ":"))
        assert answer["response"][graph_key]["figure"]["data"], "no traces"
        return "drawn"
    return status["props"]["children"]


@pytest.mark.parametrize("role", [None, "viewer", "editor", "admin"])
def test_permission_matrix_on_forged_panel_requests(demo: Flask, role: str | None) -> None:
    client, token = client_as(demo, role)
    stored = stored_source(DEMO_SLUG, 1, "cpu")
    assert outcome(forge_chart(client, token, stored)[1]) == "drawn"  # anyone may view
    drafted = outcome(forge_chart(client, token, draft_source(GREEDY))[1])
    if role in ("editor", "admin"):
        assert drafted == "drawn"
    else:  # before: any spec the browser sent ran, for anonymous viewers too
        assert drafted.startswith("Only editors can run unsaved panels")
    raw = outcome(forge_chart(client, token, GREEDY)[1])  # the old store format
    assert raw.startswith("This panel's reference is malformed")


def test_references_must_name_a_stored_panel(demo: Flask) -> None:
    client, token = client_as(demo, None)
    for source, message in [
        (stored_source(DEMO_SLUG, 1, "no-such-panel"), "not part of the dashboard"),
        (stored_source(DEMO_SLUG, 99, "cpu"), "no longer exists"),
        (stored_source("no-such-dashboard", 1, "cpu"), "no longer exists"),
        ({"id": "cpu", "dashboard": DEMO_SLUG, "version": "1"}, "malformed"),
        (None, "no query reference"),
    ]:
        status, answer = forge_chart(client, token, source)
        assert status == 200 and message in outcome(answer), source


def test_variables_take_only_their_offered_values(demo: Flask) -> None:
    client, token = client_as(demo, "viewer")
    stored = stored_source(DEMO_SLUG, 1, "cpu")
    assert outcome(forge_chart(client, token, stored, variables={"host": ["web-1"]})[1]) == (
        "drawn"
    )
    assert outcome(forge_chart(client, token, stored, variables={"host": ["*"]})[1]) == "drawn"
    for forged in (["web-*"], ["nope"], ["web-1", "%"], ["x"] * 101):
        message = outcome(forge_chart(client, token, stored, variables={"host": forged})[1])
        assert message.startswith("Variable host:"), (forged, message)
    ignored = outcome(forge_chart(client, token, stored, variables={"other": ["*x*"]})[1])
    assert ignored == "drawn"  # not a variable of this dashboard: it reaches no query


def test_a_value_a_new_series_brings_is_offered_at_once(demo: Flask) -> None:
    """The process keeps the values it read for a variable; one it has not seen is
    checked against the current catalog, so a host that starts writing can be picked
    at once, and a value no series has is still refused."""
    client, token = client_as(demo, "viewer")
    stored = stored_source(DEMO_SLUG, 1, "cpu")
    assert outcome(forge_chart(client, token, stored, variables={"host": ["web-1"]})[1]) == (
        "drawn"
    )
    refused = outcome(forge_chart(client, token, stored, variables={"host": ["web-9"]})[1])
    assert refused.startswith("Variable host:")
    body = {"name": "cpu.usage", "source": "web-9", "value": 42.0}
    assert (
        client.post("/api/v1/metrics", json=body, headers=bearer(demo, "ingest")).status_code == 201
    )
    assert outcome(forge_chart(client, token, stored, variables={"host": ["web-9"]})[1]) == (
        "drawn"
    )


def test_a_panel_over_the_cost_cap_says_so(database_url: str) -> None:
    app = seeded(make_app(database_url, CALLBACK_COST_LIMIT=5000))
    client, token = client_as(app, None)
    message = outcome(forge_chart(client, token, stored_source(DEMO_SLUG, 1, "cpu"))[1])
    assert "asks for too much at once" in message and "5000" in message
    small = outcome(forge_chart(client, token, stored_source(DEMO_SLUG, 1, "cpu"), viewport=300)[1])
    assert small == "drawn"  # 20 series x a narrow chart fits


def test_callback_routes_have_a_rate_limit(database_url: str) -> None:
    app = seeded(make_app(database_url, DASH_RATE_LIMIT="3/minute"))
    client, token = client_as(app, None)
    stored = stored_source(DEMO_SLUG, 1, "cpu")
    statuses = [forge_chart(client, token, stored)[0] for _ in range(3)]
    assert statuses == [200, 200, 200]
    dependencies = client.get("/_dash-dependencies").json
    body = {"output": dependencies[0]["output"], "outputs": [], "inputs": [], "state": [],
            "changedPropIds": []}  # fmt: skip
    refused = client.post("/_dash-update-component", json=body, headers={"X-CSRFToken": token})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    other, other_token = client_as(app, "viewer")  # its own budget
    assert forge_chart(other, other_token, stored)[0] == 200


def test_callback_limits_on_redis_count_every_window_in_one_round_trip(
    database_url: str, redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two windows (per second, per minute) shared through Redis: a request counts
    against both in one round trip, and the tighter one refuses with its Retry-After."""
    import redis

    app = seeded(make_app(database_url, REDIS_URL=redis_url, DASH_RATE_LIMIT="100/second;3/minute"))
    client, token = client_as(app, None)
    stored = stored_source(DEMO_SLUG, 1, "cpu")
    assert forge_chart(client, token, stored)[0] == 200
    elsewhere = {"REMOTE_ADDR": "10.0.0.9"}  # another client: its own budget
    with app.test_request_context("/_dash-update-component", "POST", environ_base=elsewhere):
        trips: list[int] = []
        sent = redis.connection.AbstractConnection.send_packed_command

        def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
            trips.append(1)
            return sent(self, *args, **kwargs)

        monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
        assert limit_callbacks() is None
        monkeypatch.undo()
    assert len(trips) == 1
    assert [forge_chart(client, token, stored)[0] for _ in range(3)] == [200, 200, 429]


def test_ad_hoc_panels_have_their_own_limit(database_url: str) -> None:
    app = seeded(make_app(database_url, ADHOC_RATE_LIMIT="2/minute"))
    client, token = client_as(app, "editor")
    drafted = [outcome(forge_chart(client, token, draft_source(GREEDY))[1]) for _ in range(3)]
    assert drafted[:2] == ["drawn", "drawn"] and drafted[2].startswith("Too many ad-hoc queries")
    stored = stored_source(DEMO_SLUG, 1, "cpu")
    assert outcome(forge_chart(client, token, stored)[1]) == "drawn"  # saved panels still run


def test_the_panel_editor_preview_is_for_editors(demo: Flask) -> None:
    panel = parse_spec({"title": "x", "panels": [GREEDY]}).panels[0]
    with demo.test_request_context():
        refused = _draw(panel, LAST_HOUR, 1600)
    assert refused.children.startswith("Only editors can run unsaved panels")


def test_unchanged_drafts_run_as_the_saved_panel(database_url: str) -> None:
    # Opening a big dashboard in the editor must not be a burst of ad-hoc queries.
    app = seeded(make_app(database_url, ADHOC_RATE_LIMIT="1/minute"))
    saved = draft_source(CPU, stored=(DEMO_SLUG, 1))
    changed = draft_source(GREEDY, stored=(DEMO_SLUG, 1))
    editor, editor_token = client_as(app, "editor")
    assert [outcome(forge_chart(editor, editor_token, saved)[1]) for _ in range(3)] == ["drawn"] * 3
    assert outcome(forge_chart(editor, editor_token, changed)[1]) == "drawn"  # its one
    assert outcome(forge_chart(editor, editor_token, changed)[1]).startswith("Too many")
    viewer, viewer_token = client_as(app, "viewer")
    assert outcome(forge_chart(viewer, viewer_token, saved)[1]) == "drawn"
    assert outcome(forge_chart(viewer, viewer_token, changed)[1]).startswith("Only editors")
