"""Service tokens (CLI, hashing, scopes, revocation, expiry), anonymous reads, probes, docs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from dashapp.extensions import database
from db import tokens
from db.models import ApiTokenRow
from db.types import utcnow
from tests.conftest import bearer, make_app

POINT = {"name": "cpu", "source": "h", "value": 1.0}


def cli_token(app: Flask, *args: str) -> str:
    result = app.test_cli_runner().invoke(args=["tokens", "create", *args])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def test_cli_create_list_revoke(app: Flask, client: FlaskClient) -> None:
    token = cli_token(app, "collector", "--scope", "ingest")
    prefix = tokens.parse_token(token)[0]
    with app.app_context(), database.transaction() as session:
        row = session.scalar(select(ApiTokenRow))
        assert row.prefix == prefix and row.scopes == ["ingest"]
        assert token.split("_", 2)[2] not in row.secret_hash  # only a hash is stored
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["tokens", "list"])
    assert "collector" in listed.output and prefix in listed.output and "active" in listed.output
    assert token not in listed.output

    headers = {"Authorization": f"Bearer {token}"}
    assert client.post("/api/v1/metrics", json=POINT, headers=headers).status_code == 201
    assert "active" in runner.invoke(args=["tokens", "list"]).output

    revoked = runner.invoke(args=["tokens", "revoke", prefix])
    assert revoked.exit_code == 0 and f"revoked {prefix}" in revoked.output
    refused = client.post("/api/v1/metrics", json=POINT, headers=headers)
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert "revoked" in runner.invoke(args=["tokens", "list"]).output
    assert runner.invoke(args=["tokens", "revoke", prefix]).exit_code != 0


def test_cli_revoke_by_name_scopes_and_expiry(app: Flask) -> None:
    runner = app.test_cli_runner()
    cli_token(app, "twice", "--scope", "read")
    cli_token(app, "twice", "--scope", "read", "--scope", "admin", "--expires-in", "30d")
    assert runner.invoke(args=["tokens", "revoke", "twice"]).output.count("revoked") == 2
    bad_scope = runner.invoke(args=["tokens", "create", "x", "--scope", "root"])
    assert bad_scope.exit_code != 0
    bad_expiry = runner.invoke(
        args=["tokens", "create", "x", "--scope", "read", "--expires-in", "soon"]
    )
    assert bad_expiry.exit_code != 0
    with app.app_context(), database.transaction() as session:
        expiring = [t for t in tokens.list_tokens(session) if t.expires_at]
    assert len(expiring) == 1 and expiring[0].scopes == ["read", "admin"]
    assert timedelta(days=29) < expiring[0].expires_at - utcnow() <= timedelta(days=30)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer not-a-token",
        "Bearer dsh_abcdefgh_" + "x" * 43,
    ],
)
def test_writes_without_a_valid_token_are_401(
    client: FlaskClient, app: Flask, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = client.post("/api/v1/metrics", json=POINT, headers=headers)
    assert response.status_code == 401 and response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_secret_and_expired_tokens_are_refused(client: FlaskClient, app: Flask) -> None:
    good = bearer(app, "ingest")["Authorization"]
    prefix = tokens.parse_token(good.split()[1])[0]
    wrong = f"Bearer dsh_{prefix}_{'y' * 43}"
    assert (
        client.post("/api/v1/metrics", json=POINT, headers={"Authorization": wrong}).status_code
        == 401
    )
    assert (
        client.post("/api/v1/metrics", json=POINT, headers={"Authorization": good}).status_code
        == 201
    )
    with app.app_context(), database.transaction() as session:
        session.execute(update(ApiTokenRow).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert (
        client.post("/api/v1/metrics", json=POINT, headers={"Authorization": good}).status_code
        == 401
    )


def test_scopes(client: FlaskClient, app: Flask) -> None:
    reader, ingester, admin = bearer(app, "read"), bearer(app, "ingest"), bearer(app, "admin")
    forbidden = client.post("/api/v1/metrics", json=POINT, headers=reader)
    assert forbidden.status_code == 403 and "ingest" in forbidden.json["detail"]
    assert client.post("/api/v1/metrics", json=POINT, headers=ingester).status_code == 201
    assert client.post("/api/v1/metrics", json=POINT, headers=admin).status_code == 201
    with app.app_context(), database.transaction() as session:
        used = [t for t in tokens.list_tokens(session) if t.last_used_at]
    assert {t.scopes[0] for t in used} == {"read", "ingest", "admin"}


def test_reads_need_a_read_token_when_anonymous_view_is_off(database_url: str) -> None:
    app = make_app(database_url, ANONYMOUS_VIEW=False)
    client = app.test_client()
    for url in ("/api/v1/metrics", "/api/v1/query?metric=cpu", "/api/v1/dashboards",
                "/api/v1/metrics/1", "/api/v1/dashboards/x/versions"):  # fmt: skip
        assert client.get(url).status_code == 401, url
    assert client.get("/api/v1/metrics", headers=bearer(app, "ingest")).status_code == 403
    assert client.get("/api/v1/metrics", headers=bearer(app, "read")).status_code == 200
    assert client.get("/api/v1/dashboards", headers=bearer(app, "admin")).status_code == 200
    assert client.get("/api/v1/health").status_code == 200
    assert client.get("/api/v1/openapi.json").status_code == 200
    app.extensions["dashapp.db"].engine.dispose()


def test_anonymous_reads_with_a_bad_token_are_still_401(client: FlaskClient) -> None:
    response = client.get("/api/v1/metrics", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401


def test_health_and_ready(client: FlaskClient) -> None:
    assert client.get("/api/v1/health").json == {"status": "ok"}
    assert client.get("/api/v1/ready").json == {"status": "ok", "database": "ok"}


def test_database_down_is_503() -> None:
    app = make_app("postgresql+psycopg://postgres@127.0.0.1:1/nothing")
    client = app.test_client()
    assert client.get("/api/v1/health").status_code == 200
    ready = client.get("/api/v1/ready")
    assert ready.status_code == 503 and ready.headers["Retry-After"]
    assert ready.mimetype == "application/problem+json"
    listed = client.get("/api/v1/metrics")
    assert listed.status_code == 503 and listed.mimetype == "application/problem+json"
    app.extensions["dashapp.db"].engine.dispose()


def test_unknown_paths_and_methods_are_problems(client: FlaskClient) -> None:
    missing = client.get("/api/v1/nothing/here")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    wrong = client.patch("/api/v1/metrics")
    assert wrong.status_code == 405 and wrong.mimetype == "application/problem+json"
    assert "GET" in wrong.headers["Allow"]


def test_docs_page_is_served_locally(client: FlaskClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "http://" not in html and "https://" not in html  # no CDN
    for asset in ("swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui.css", "docs.js"):
        assert f"/api/docs/static/{asset}" in html
        response = client.get(f"/api/docs/static/{asset}")
        assert response.status_code == 200 and len(response.data) > 100
        response.close()
    assert 'data-spec-url="/api/v1/openapi.json"' in html


def test_openapi_document(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"] == "3.1.0"
    operations = {(m.upper(), p) for p, item in spec["paths"].items() for m in item}
    assert operations == {
        ("POST", "/metrics"), ("GET", "/metrics"), ("GET", "/metrics/{series_id}"),
        ("GET", "/metrics/{series_id}/points"), ("POST", "/write"), ("GET", "/query"),
        ("GET", "/dashboards"), ("POST", "/dashboards"), ("GET", "/dashboards/{slug}"),
        ("PUT", "/dashboards/{slug}"), ("DELETE", "/dashboards/{slug}"),
        ("GET", "/dashboards/{slug}/versions"), ("GET", "/dashboards/{slug}/versions/{version}"),
        ("GET", "/health"), ("GET", "/ready"), ("POST", "/annotations"),
    }  # fmt: skip
    post = spec["paths"]["/metrics"]["post"]
    assert post["security"] == [{"bearer": []}]
    assert set(post["responses"]) >= {"201", "400", "401", "403", "413", "415", "422", "429"}
    assert spec["paths"]["/metrics"]["get"]["security"] == [{}, {"bearer": []}]
    put = spec["paths"]["/dashboards/{slug}"]["put"]
    assert {"409", "428"} <= set(put["responses"])
    # Every $ref resolves.
    text = client.get("/api/v1/openapi.json").get_data(as_text=True)
    import re

    for name in set(re.findall(r'"#/components/schemas/([^"]+)"', text)):
        assert name in spec["components"]["schemas"], name
    assert "DashboardSpec" in spec["components"]["schemas"]
