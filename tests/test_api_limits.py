"""Rate limits on real Redis, with Redis down, and CORS."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis
from flask import Flask

from tests.conftest import bearer, make_app


@pytest.fixture
def limited_app(database_url: str, redis_url: str) -> Iterator[Flask]:
    application = make_app(database_url, REDIS_URL=redis_url, API_RATE_LIMIT="3/minute")
    yield application
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter("*" + application.config["CACHE_KEY_PREFIX"] + "*"):
        client.delete(key)
    client.close()
    application.extensions["dashapp.db"].engine.dispose()


def test_limits_count_in_redis_per_token(limited_app: Flask, redis_url: str) -> None:
    client = limited_app.test_client()
    first, second = bearer(limited_app, "read"), bearer(limited_app, "read")
    statuses = [client.get("/api/v1/metrics", headers=first).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/v1/metrics", headers=first)
    assert refused.status_code == 429 and refused.mimetype == "application/problem+json"
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    assert client.get("/api/v1/dashboards", headers=first).status_code == 429  # one budget
    assert client.get("/api/v1/metrics", headers=second).status_code == 200  # its own budget
    assert client.get("/api/v1/health").status_code == 200  # probes are never limited
    prefix = limited_app.config["CACHE_KEY_PREFIX"]
    keys = redis.Redis.from_url(redis_url).keys(f"*{prefix}limits*")
    assert len(keys) == 2  # one counter per token, shared by every API route


def test_anonymous_clients_are_limited_by_address(limited_app: Flask) -> None:
    client = limited_app.test_client()
    statuses = [client.get("/api/v1/dashboards").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    other = client.get("/api/v1/dashboards", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200


def test_forged_tokens_count_against_their_address(limited_app: Flask) -> None:
    """A token's prefix is public: a forged token using it must not spend its owner's
    budget, and random forged tokens must not slip past the per-address limit."""
    client = limited_app.test_client()
    real = bearer(limited_app, "read")
    prefix = real["Authorization"].split("_")[1]
    forged = {"Authorization": f"Bearer dsh_{prefix}_{'A' * 43}"}
    statuses = [client.get("/api/v1/metrics", headers=forged).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    owner = limited_app.test_client()
    assert (
        owner.get(
            "/api/v1/metrics", headers=real, environ_base={"REMOTE_ADDR": "10.0.0.7"}
        ).status_code
        == 200
    )


def test_a_dead_redis_still_serves_and_limits_in_memory(database_url: str) -> None:
    app = make_app(database_url, REDIS_URL="redis://127.0.0.1:1/0", API_RATE_LIMIT="3/minute")
    client = app.test_client()
    headers = bearer(app, "ingest")
    started = time.monotonic()
    statuses = [
        client.post("/api/v1/metrics", json={"name": "m", "source": "s", "value": i},
                    headers=headers).status_code
        for i in range(4)
    ]  # fmt: skip
    assert statuses == [201, 201, 201, 429]
    assert time.monotonic() - started < 3  # connection refused costs milliseconds
    app.extensions["dashapp.db"].engine.dispose()


def test_cors_is_off_unless_configured(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/metrics", headers={"Origin": "https://example.org"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_cors_allows_configured_origins(database_url: str) -> None:
    app = make_app(database_url, CORS_ORIGINS="https://grafana.example, https://ops.example")
    client = app.test_client()
    preflight = client.options(
        "/api/v1/metrics",
        headers={
            "Origin": "https://ops.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://ops.example"
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()
    allowed = client.get("/api/v1/metrics", headers={"Origin": "https://grafana.example"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://grafana.example"
    assert "ETag" in allowed.headers["Access-Control-Expose-Headers"]
    other = client.get("/api/v1/metrics", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
    pages = client.get("/", headers={"Origin": "https://ops.example"})
    assert "Access-Control-Allow-Origin" not in pages.headers  # only the API
    app.extensions["dashapp.db"].engine.dispose()
