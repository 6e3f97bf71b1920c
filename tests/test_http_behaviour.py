"""Issue 10 item 8: behind a proxy (TRUSTED_PROXIES), Retry-After of at least 1 s,
weak ETags refused in If-Match, and a missing dashboard page answered 404."""

from __future__ import annotations

from flask import Flask

from tests.conftest import bearer, make_app
from tests.test_api_dashboards import SPEC

PROXY = {"REMOTE_ADDR": "10.0.0.2"}


def _statuses(app: Flask, forwarded_for: str, count: int) -> list[int]:
    client = app.test_client()
    headers = {"X-Forwarded-For": forwarded_for}
    return [
        client.get("/api/v1/metrics", headers=headers, environ_base=PROXY).status_code
        for _ in range(count)
    ]


def test_trusted_proxies_give_rate_limits_the_client_address(database_url: str) -> None:
    behind = make_app(database_url, API_RATE_LIMIT="2/minute", TRUSTED_PROXIES=1)
    assert _statuses(behind, "203.0.113.1", 3) == [200, 200, 429]
    assert _statuses(behind, "203.0.113.2", 1) == [200]  # another client, its own budget
    # A client cannot pick its address: only the hop the proxy added counts.
    assert _statuses(behind, "198.51.100.9, 203.0.113.1", 1) == [429]


def test_without_trusted_proxies_forwarded_headers_are_ignored(database_url: str) -> None:
    direct = make_app(database_url, API_RATE_LIMIT="2/minute")
    assert _statuses(direct, "203.0.113.1", 2) == [200, 200]
    assert _statuses(direct, "203.0.113.2", 1) == [429]  # same proxy address, same budget


def test_retry_after_is_at_least_one_second(database_url: str) -> None:
    app = make_app(database_url, API_RATE_LIMIT="1/second")
    client = app.test_client()
    for _ in range(20):
        allowed = client.get("/api/v1/metrics")
        refused = client.get("/api/v1/metrics")
        if refused.status_code == 429:
            break
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "Retry-After" not in allowed.headers  # only where retrying later helps


def test_a_weak_etag_in_if_match_is_refused(app: Flask) -> None:
    client, admin = app.test_client(), bearer(app, "admin")
    client.post("/api/v1/dashboards", json={"spec": SPEC}, headers=admin)
    changed = {"spec": {**SPEC, "title": "Changed"}}
    weak = client.put("/api/v1/dashboards/service-health", json=changed,
                      headers={**admin, "If-Match": 'W/"1"'})  # fmt: skip
    assert weak.status_code == 412
    assert client.get("/api/v1/dashboards/service-health").json["version"] == 1
    deleted = client.delete("/api/v1/dashboards/service-health",
                            headers={**admin, "If-Match": 'W/"1"'})  # fmt: skip
    assert deleted.status_code == 412
    strong = client.put("/api/v1/dashboards/service-health", json=changed,
                        headers={**admin, "If-Match": '"1"'})  # fmt: skip
    assert strong.status_code == 200


def test_a_missing_dashboard_page_is_a_404(app: Flask) -> None:
    client = app.test_client()
    client.post("/api/v1/dashboards", json={"spec": SPEC}, headers=bearer(app, "admin"))
    assert client.get("/d/service-health").status_code == 200
    assert client.get("/d/service-health/history").status_code == 200
    assert client.get("/").status_code == 200
    missing = client.get("/d/no-such-dashboard")
    assert missing.status_code == 404 and missing.mimetype == "text/html"  # the app shell
    assert client.get("/no/such/page").status_code == 404
    client.delete("/api/v1/dashboards/service-health", headers=bearer(app, "admin"))
    assert client.get("/d/service-health").status_code == 404


def test_security_headers_on_pages_and_the_api(app: Flask) -> None:
    # Issue 10 item 2: none of these were sent before.
    client = app.test_client()
    for path in ("/", "/login", "/d/anything", "/api/v1/health", "/api/docs"):
        headers = client.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy, path
        script_src = next(p for p in policy.split("; ") if p.startswith("script-src"))
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
        assert "'sha256-" in script_src  # Dash's inline scripts, by hash
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in headers  # dev: plain HTTP
    secure = make_app(app.config["DATABASE_URL"], SECURE_COOKIES=True)
    response = secure.test_client().get("/", base_url="https://dashapp.example")
    assert "max-age=" in response.headers["Strict-Transport-Security"]
