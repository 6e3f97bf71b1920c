"""Dashboards through the API: CRUD, optimistic versions (If-Match / body), history."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import bearer

SPEC = {
    "title": "Service health",
    "tags": ["web"],
    "panels": [
        {
            "id": "p1",
            "title": "CPU",
            "type": "timeseries",
            "grid": {"x": 0, "y": 0, "w": 12, "h": 8},
            "queries": [{"metric": "cpu", "source": "web-*", "agg": "avg"}],
        },
    ],
}


@pytest.fixture
def admin(app: Flask) -> dict[str, str]:
    return bearer(app, "admin", name="data-team")


def create(client: FlaskClient, admin: dict, **body: object) -> dict:
    response = client.post("/api/v1/dashboards", json={"spec": SPEC, **body}, headers=admin)
    assert response.status_code == 201, response.json
    return response.json


def test_create_read_list(client: FlaskClient, admin: dict) -> None:
    created = client.post("/api/v1/dashboards", json={"spec": SPEC}, headers=admin)
    assert created.status_code == 201
    assert created.headers["Location"] == "/api/v1/dashboards/service-health"
    assert created.headers["ETag"] == '"1"'
    body = created.json
    assert body["slug"] == "service-health" and body["version"] == 1
    assert body["updated_by"] == "token:data-team"
    assert body["spec"]["panels"][0]["queries"][0]["metric"] == "cpu"

    fetched = client.get("/api/v1/dashboards/service-health")
    assert fetched.status_code == 200 and fetched.json == body and fetched.headers["ETag"] == '"1"'
    listed = client.get("/api/v1/dashboards").json["items"]
    assert [(d["slug"], d["title"], d["tags"], d["panel_count"], d["version"]) for d in listed] == [
        ("service-health", "Service health", ["web"], 1, 1)
    ]
    searched = [d["slug"] for d in client.get("/api/v1/dashboards?q=HEALTH%20web").json["items"]]
    assert searched == ["service-health"]
    assert client.get("/api/v1/dashboards?q=billing").json["items"] == []
    too_long = client.get("/api/v1/dashboards?q=" + "x" * 201)
    assert too_long.status_code == 400 and too_long.json["errors"][0]["field"] == "q"


def test_version_1_specs_are_upgraded_on_import(client: FlaskClient, admin: dict) -> None:
    old = {"schema_version": 1, "title": "Old", "refresh": "30s"}
    created = client.post("/api/v1/dashboards", json={"spec": old}, headers=admin)
    assert created.status_code == 201, created.json
    spec = created.json["spec"]
    assert spec["schema_version"] == 2 and spec["time"]["refresh"] == "30s"


def test_create_with_slug_and_conflicts(client: FlaskClient, admin: dict) -> None:
    assert create(client, admin, slug="ops")["slug"] == "ops"
    taken = client.post("/api/v1/dashboards", json={"spec": SPEC, "slug": "ops"}, headers=admin)
    assert taken.status_code == 409 and taken.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"spec": {"title": ""}}, "spec.title"),
        ({"spec": {**SPEC, "panels": [{"id": "p", "type": "pie"}]}}, "spec.panels.0"),
        ({"spec": {**SPEC, "colour": "red"}}, "spec.colour"),
        ({"spec": SPEC, "slug": "Not A Slug"}, "slug"),
        ({"title": "no spec"}, "spec"),
        ({"spec": {"title": "nul \u0000"}}, "(body)"),
        ({"spec": {"title": "t", "time": {"to": "9" * 30}}}, "spec.time.to"),
        ({"spec": {"title": "t", "time": {"from": "now-99999999999y"}}}, "spec.time.from"),
        ({"spec": {"title": "t", "time": {"refresh": "99999999999999y"}}}, "spec.time.refresh"),
    ],
)
def test_invalid_specs_name_the_field(
    client: FlaskClient, admin: dict, body: dict, field: str
) -> None:
    response = client.post("/api/v1/dashboards", json=body, headers=admin)
    assert response.status_code == 422, response.json
    assert any(e["field"].startswith(field) for e in response.json["errors"]), response.json
    assert client.get("/api/v1/dashboards").json["items"] == []


def test_update_with_if_match_or_body_version(client: FlaskClient, admin: dict) -> None:
    create(client, admin)
    renamed = {**SPEC, "title": "Service health v2"}
    by_header = client.put(
        "/api/v1/dashboards/service-health",
        json={"spec": renamed, "message": "retitle"},
        headers={**admin, "If-Match": '"1"'},
    )
    assert by_header.status_code == 200 and by_header.json["version"] == 2
    assert by_header.headers["ETag"] == '"2"'
    by_body = client.put(
        "/api/v1/dashboards/service-health", json={"spec": SPEC, "version": 2}, headers=admin
    )
    assert by_body.status_code == 200 and by_body.json["version"] == 3
    assert by_body.json["title"] == "Service health"


def test_stale_version_is_a_conflict_and_changes_nothing(client: FlaskClient, admin: dict) -> None:
    create(client, admin)
    client.put("/api/v1/dashboards/service-health", json={"spec": SPEC, "version": 1},
               headers=admin)  # fmt: skip
    stale = client.put(
        "/api/v1/dashboards/service-health",
        json={"spec": {**SPEC, "title": "Mine"}},
        headers={**admin, "If-Match": '"1"'},
    )
    assert stale.status_code == 409 and stale.mimetype == "application/problem+json"
    assert stale.json["current_version"] == 2
    current = client.get("/api/v1/dashboards/service-health").json
    assert current["version"] == 2 and current["title"] == "Service health"


def test_update_needs_a_version(client: FlaskClient, admin: dict) -> None:
    create(client, admin)
    url = "/api/v1/dashboards/service-health"
    missing = client.put(url, json={"spec": SPEC}, headers=admin)
    assert missing.status_code == 428
    disagree = client.put(url, json={"spec": SPEC, "version": 1},
                          headers={**admin, "If-Match": '"2"'})  # fmt: skip
    assert disagree.status_code == 400
    garbage = client.put(url, json={"spec": SPEC}, headers={**admin, "If-Match": "soon"})
    assert garbage.status_code == 400
    not_json = client.put(url, data="x", content_type="text/plain", headers=admin)
    assert not_json.status_code == 415
    broken = client.put(url, data="{", content_type="application/json", headers=admin)
    assert broken.status_code == 400
    nowhere = client.put("/api/v1/dashboards/nope", json={"spec": SPEC, "version": 1},
                         headers=admin)  # fmt: skip
    assert nowhere.status_code == 404


def test_rename_via_put(client: FlaskClient, admin: dict) -> None:
    create(client, admin)
    create(client, admin, slug="other")
    url = "/api/v1/dashboards/service-health"
    taken = client.put(url, json={"spec": SPEC, "version": 1, "slug": "other"}, headers=admin)
    assert taken.status_code == 409
    moved = client.put(url, json={"spec": SPEC, "version": 1, "slug": "health"}, headers=admin)
    assert moved.status_code == 200 and moved.json["slug"] == "health"
    assert client.get(url).status_code == 404
    assert client.get("/api/v1/dashboards/health").status_code == 200


def test_versions_history(client: FlaskClient, admin: dict) -> None:
    create(client, admin)
    client.put("/api/v1/dashboards/service-health",
               json={"spec": {**SPEC, "title": "Two"}, "version": 1, "message": "second"},
               headers=admin)  # fmt: skip
    history = client.get("/api/v1/dashboards/service-health/versions").json["items"]
    assert [(v["version"], v["message"], v["author"]) for v in history] == [
        (2, "second", "token:data-team"), (1, "Created", "token:data-team"),
    ]  # fmt: skip
    first = client.get("/api/v1/dashboards/service-health/versions/1").json
    assert first["spec"]["title"] == "Service health" and first["version"] == 1
    for path in ("service-health/versions/3", "service-health/versions/99999999999",
                 "nope/versions", "nope/versions/1"):  # fmt: skip
        assert client.get(f"/api/v1/dashboards/{path}").status_code == 404


def test_delete(client: FlaskClient, admin: dict) -> None:
    create(client, admin)
    url = "/api/v1/dashboards/service-health"
    stale = client.delete(url, headers={**admin, "If-Match": '"7"'})
    assert stale.status_code == 409
    assert client.delete(url, headers={**admin, "If-Match": '"1"'}).status_code == 204
    assert client.get(url).status_code == 404
    assert client.delete(url, headers=admin).status_code == 404
    assert client.get("/api/v1/dashboards").json["items"] == []
    # The slug is free again.
    assert create(client, admin)["version"] == 1


def test_unknown_and_odd_slugs_are_404(client: FlaskClient) -> None:
    for slug in ("missing", "Upper", "x" * 200, "a%00b"):
        response = client.get(f"/api/v1/dashboards/{slug}")
        assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_dashboard_writes_need_admin(client: FlaskClient, app: Flask, admin: dict) -> None:
    create(client, admin)
    url = "/api/v1/dashboards/service-health"
    for scope in ("ingest", "read"):
        headers = bearer(app, scope)
        assert (
            client.post("/api/v1/dashboards", json={"spec": SPEC}, headers=headers).status_code
            == 403
        )
        assert (
            client.put(url, json={"spec": SPEC, "version": 1}, headers=headers).status_code == 403
        )
        assert client.delete(url, headers=headers).status_code == 403
    assert client.post("/api/v1/dashboards", json={"spec": SPEC}).status_code == 401
    assert client.put(url, json={"spec": SPEC, "version": 1}).status_code == 401
    assert client.delete(url).status_code == 401
    assert client.get(url).json["version"] == 1


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"y_min": 100, "y_max": 10}, "spec.panels.0.timeseries.options.y_max"),
        ({"colors": {"web-1": "notacolor"}}, "spec.panels.0.timeseries.options.colors.web-1"),
    ],
)
def test_imports_refuse_what_the_editor_refuses(
    client: FlaskClient, admin: dict, options: dict, field: str
) -> None:
    """Issue 28, item 8: the API refuses the same nonsense, as problem+json naming the field."""
    panel = {**SPEC["panels"][0], "options": options}
    response = client.post(
        "/api/v1/dashboards", json={"spec": {**SPEC, "panels": [panel]}}, headers=admin
    )
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert [e["field"] for e in response.json["errors"]] == [field]
    assert client.get("/api/v1/dashboards").json["items"] == []
