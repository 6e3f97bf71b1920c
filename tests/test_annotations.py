"""Annotations through the API and the repository, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from dashapp.core.spec import parse_spec
from dashapp.extensions import database
from db import annotations, dashboards
from tests.conftest import bearer

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)


def make_ops(app: Flask) -> None:
    with app.app_context(), database.transaction() as session:
        dashboards.create_dashboard(session, "ops", parse_spec({"title": "Ops"}), "ann")
        dashboards.create_dashboard(session, "web", parse_spec({"title": "Web"}), "ann")


def test_a_deploy_script_marks_an_event(app: Flask, client: FlaskClient) -> None:
    make_ops(app)
    headers = bearer(app, "annotate")
    response = client.post("/api/v1/annotations", headers=headers, json={
        "time": "2026-01-01T12:00:00Z", "text": "deploy v42", "tags": ["deploy"],
        "dashboard": "ops"})  # fmt: skip
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["dashboard"] == "ops" and body["created_by"] == "token:test"
    ranged = client.post("/api/v1/annotations", headers=headers, json={
        "time": T0.timestamp() * 1000 + 3600_000, "time_end": "2026-01-01T14:00:00Z",
        "text": "incident", "tags": ["incident"]})  # fmt: skip
    assert ranged.status_code == 201 and ranged.get_json()["dashboard"] is None
    with app.app_context(), database.transaction() as session:
        on_ops = annotations.list_annotations(session, "ops", T0, T0 + timedelta(hours=3))
        deploys = annotations.list_annotations(session, "ops", T0, T0 + timedelta(hours=3),
                                               ["deploy"])  # fmt: skip
        on_web = annotations.list_annotations(session, "web", T0, T0 + timedelta(hours=3))
        later = annotations.list_annotations(session, "ops", T0 + timedelta(hours=5),
                                             T0 + timedelta(hours=6))  # fmt: skip
    assert [a.text for a in on_ops] == ["deploy v42", "incident"]
    assert [a.text for a in deploys] == ["deploy v42"]
    assert [a.text for a in on_web] == ["incident"]  # global ones show everywhere
    assert later == []


def test_annotations_need_the_scope_and_a_valid_body(app: Flask, client: FlaskClient) -> None:
    make_ops(app)
    point = {"time": "now", "text": "x"}
    assert client.post("/api/v1/annotations", json=point).status_code == 401
    ingest = bearer(app, "ingest", name="agent")
    assert client.post("/api/v1/annotations", json=point, headers=ingest).status_code == 403
    editor = bearer(app, "edit", name="deployer")
    assert client.post("/api/v1/annotations", json=point, headers=editor).status_code == 201
    annotate = bearer(app, "annotate", name="ci")
    bad = client.post("/api/v1/annotations", headers=annotate,
                      json={"time": "yesterday", "text": "x"})  # fmt: skip
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "time"
    inverted = client.post("/api/v1/annotations", headers=annotate,
                           json={"time": "now", "time_end": "now-1h", "text": "x"})  # fmt: skip
    assert inverted.status_code in (400, 422)
    missing = client.post("/api/v1/annotations", headers=annotate,
                          json={"time": "now", "text": "x", "dashboard": "nope"})  # fmt: skip
    assert missing.status_code == 404
