"""The agents' routes: status codes, error shapes, auth schemes; refused bodies store nothing."""

from __future__ import annotations

import base64
import gzip
import math

import cramjam
import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from google.rpc import status_pb2
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceResponse,
)

from dashapp.extensions import database
from db import tokens
from db.tsdb import metrics
from tests.test_protocols import T0_NS, otlp_request, remote_write, value_list

PROTOBUF = "application/x-protobuf"
MS = T0_NS // 1_000_000


@pytest.fixture
def token(app: Flask) -> str:
    """An ingest token."""
    with app.app_context(), database.transaction() as session:
        return tokens.create_token(session, "agent", ["ingest"]).token


def stored(app: Flask) -> int:
    """Points in the database."""
    with app.app_context(), database.transaction() as session:
        return metrics.count_points(session)


def prom(client: FlaskClient, body: bytes, token: str, **headers: str):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": PROTOBUF, "Content-Encoding": "snappy", **headers}
    if token:
        headers.setdefault("Authorization", f"Bearer {token}")
    return client.post("/api/v1/prom/write", data=body, headers=headers)


# --- Prometheus -------------------------------------------------------------------------


def test_prometheus_write_stores_and_skips_nan(app: Flask, client: FlaskClient, token: str) -> None:
    body = remote_write(({"__name__": "up", "job": "node"}, [(1, MS), (math.nan, MS + 1)]))
    response = prom(client, body, token)
    assert response.status_code == 204
    assert stored(app) == 1
    basic = base64.b64encode(f"prometheus:{token}".encode()).decode()
    assert prom(client, body, "", Authorization=f"Basic {basic}").status_code == 204
    assert stored(app) == 1  # the same sample again overwrites: retries are safe


def test_prometheus_stores_valid_samples_and_names_refused_ones(
    app: Flask, client: FlaskClient, token: str
) -> None:
    body = remote_write(({"__name__": "up"}, [(1, MS), (2, -5)]), ({"job": "x"}, [(1, MS)]))
    response = prom(client, body, token)
    assert response.status_code == 400  # Prometheus does not retry it
    assert response.mimetype == "text/plain"
    assert "stored 1 samples; refused 2" in response.get_data(as_text=True)
    assert stored(app) == 1


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"\x05corrupt", {}, 400),
        (bytes(cramjam.snappy.compress_raw(b"\x0a\x05\x0a")), {}, 400),  # truncated protobuf
        (b"", {"Content-Type": "application/json"}, 415),
        (b"", {"Content-Encoding": "gzip"}, 415),
        (b"\xff\xff\xff\xff\x0f", {}, 413),  # declares 4 GiB once decompressed
    ],
)
def test_prometheus_bad_bodies_store_nothing(
    app: Flask, client: FlaskClient, token: str, body: bytes, headers: dict, status: int
) -> None:
    response = prom(client, body, token, **headers)
    assert response.status_code == status
    assert response.mimetype == "text/plain" and response.get_data(as_text=True).strip()
    assert stored(app) == 0


def test_prometheus_needs_an_ingest_token(app: Flask, client: FlaskClient) -> None:
    body = remote_write(({"__name__": "up"}, [(1, MS)]))
    assert prom(client, body, "").status_code == 401
    assert prom(client, body, "dsh_bad_token").status_code == 401
    with app.app_context(), database.transaction() as session:
        reader = tokens.create_token(session, "reader", ["read"]).token
    assert prom(client, body, reader).status_code == 403


# --- OTLP -------------------------------------------------------------------------------


def otlp_post(client: FlaskClient, body: bytes, token: str, kind: str = PROTOBUF, **headers: str):  # type: ignore[no-untyped-def]
    headers = {"Content-Type": kind, "Authorization": f"Bearer {token}", **headers}
    return client.post("/v1/metrics", data=body, headers=headers)


def test_otlp_protobuf_answers_partial_success(app: Flask, client: FlaskClient, token: str) -> None:
    response = otlp_post(client, otlp_request().SerializeToString(), token)
    assert response.status_code == 200 and response.mimetype == PROTOBUF
    answer = ExportMetricsServiceResponse.FromString(response.data)
    assert answer.partial_success.rejected_data_points == 1
    assert "NaN" in answer.partial_success.error_message
    assert stored(app) == 10


def test_otlp_json_gzip(app: Flask, client: FlaskClient, token: str) -> None:
    from google.protobuf import json_format

    body = gzip.compress(json_format.MessageToJson(otlp_request()).encode())
    response = otlp_post(client, body, token, "application/json", **{"Content-Encoding": "gzip"})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.json["partialSuccess"]["rejectedDataPoints"] == "1"
    assert stored(app) == 10


def test_otlp_bad_bodies_answer_a_status_and_store_nothing(
    app: Flask, client: FlaskClient, token: str
) -> None:
    truncated = otlp_post(client, otlp_request().SerializeToString()[:-3], token)
    assert truncated.status_code == 400
    assert status_pb2.Status.FromString(truncated.data).message.startswith("the body is not")
    bad_json = otlp_post(client, b"{not json", token, "application/json")
    assert bad_json.status_code == 400 and bad_json.json["code"] == 3
    wrong_type = otlp_post(client, b"x", token, "text/plain")
    assert wrong_type.status_code == 415
    bad_gzip = otlp_post(client, b"not gzip", token, **{"Content-Encoding": "gzip"})
    assert bad_gzip.status_code == 400
    assert otlp_post(client, b"", "dsh_nope").status_code == 401
    assert stored(app) == 0


# --- InfluxDB ---------------------------------------------------------------------------


def test_influx_v1_token_as_password_or_p(app: Flask, client: FlaskClient, token: str) -> None:
    line = b"cpu,host=web-1 usage=1 1767225600000000000"
    assert client.post(f"/write?db=telegraf&u=me&p={token}", data=line).status_code == 204
    basic = base64.b64encode(f"me:{token}".encode()).decode()
    response = client.post(
        "/write?db=telegraf&precision=s",
        data=b"cpu,host=web-1 usage=2 1767225601",
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 204
    assert response.headers["X-Influxdb-Version"]
    assert stored(app) == 2


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/write", 400, "database is required"),
        ("/write?db=x&precision=d", 400, "precision must be one of"),
        ("/api/v2/write?org=o", 400, "bucket is required"),
        ("/api/v2/write?bucket=b&precision=h", 400, "precision must be one of"),
    ],
)
def test_influx_errors_are_json_error_objects(
    client: FlaskClient, token: str, path: str, status: int, message: str
) -> None:
    response = client.post(path, data=b"m v=1", headers={"Authorization": f"Token {token}"})
    assert response.status_code == status
    assert message in response.json["error"] and response.json["code"] == "invalid"


def test_influx_partial_write(app: Flask, client: FlaskClient, token: str) -> None:
    body = b"m,host=a v=1\nm,host=a v=oops\nm,host=b v=2\n"
    response = client.post(
        "/api/v2/write?bucket=b&org=o", data=body, headers={"Authorization": f"Token {token}"}
    )
    assert response.status_code == 400
    assert response.json["error"].startswith("partial write: unable to parse 'm,host=a v=oops'")
    assert "dropped=1" in response.json["message"]
    assert stored(app) == 2


def test_agent_series_over_the_limits_are_refused_alone(
    app: Flask, client: FlaskClient, token: str
) -> None:
    """A series breaking the limits (here 40 tags: too long names and values are
    normalised, too many labels cannot be) is named in the answer; its neighbours are
    stored (never a database error, never the whole batch)."""
    many = ",".join(f"t{i}=v" for i in range(40))
    body = f"m,host=a v=1\nm,host=a,{many} v=2\nm,host=b v=3\n".encode()
    response = client.post(
        "/api/v2/write?bucket=b&org=o", data=body, headers={"Authorization": f"Token {token}"}
    )
    assert response.status_code == 400 and "labels_per_series" in response.json["message"]
    assert stored(app) == 2


def test_influx_unreadable_bodies_store_nothing(
    app: Flask, client: FlaskClient, token: str
) -> None:
    auth = {"Authorization": f"Token {token}"}
    not_utf8 = client.post("/write?db=x", data=b"m v=1\xff", headers=auth)
    assert not_utf8.status_code == 400 and "UTF-8" in not_utf8.json["error"]
    bad_gzip = client.post("/write?db=x", data=b"zz", headers={**auth, "Content-Encoding": "gzip"})
    assert bad_gzip.status_code == 400 and "gzip" in bad_gzip.json["error"]
    unknown = client.post("/write?db=x", data=b"m v=1", headers={"Authorization": "Token dsh_x"})
    assert unknown.status_code == 401 and unknown.json["code"] == "unauthorized"
    assert stored(app) == 0


def test_query_answers_create_database_only(client: FlaskClient, token: str) -> None:
    auth = {"Authorization": f"Token {token}"}
    created = client.post("/query", data={"q": "CREATE DATABASE mydb"}, headers=auth)
    assert created.status_code == 200 and created.json["results"] == [{"statement_id": 0}]
    select = client.get("/query?q=SELECT+*+FROM+cpu", headers=auth)
    assert select.status_code == 400 and "/api/v1/query" in select.json["error"]
    assert client.post("/query", data={"q": "CREATE DATABASE x"}).status_code == 401


def test_ping_and_health_answer_like_influxdb(client: FlaskClient) -> None:
    for method in (client.get, client.head):
        response = method("/ping")
        assert response.status_code == 204 and response.headers["X-Influxdb-Version"]
    assert client.get("/ping?verbose=true").json["version"]
    health = client.get("/health")
    assert health.status_code == 200 and health.json["status"] == "pass"
    assert health.mimetype == "application/json"


# --- collectd ---------------------------------------------------------------------------


def test_collectd_stores_valid_value_lists(app: Flask, client: FlaskClient, token: str) -> None:
    body = orjson.dumps([value_list(), value_list(values=["x"]), value_list(type_instance="idle")])
    response = client.post(
        "/collectd", data=body, content_type="application/json", auth=("collectd", token)
    )
    assert response.status_code == 200
    assert response.json["accepted"] == 2 and response.json["rejected"][0]["index"] == 1
    assert stored(app) == 2


def test_collectd_bad_bodies_store_nothing(app: Flask, client: FlaskClient, token: str) -> None:
    auth = ("collectd", token)
    wrong = client.post("/collectd", data=b"[]", content_type="text/plain", auth=auth)
    assert wrong.status_code == 415
    broken = client.post("/collectd", data=b"[{", content_type="application/json", auth=auth)
    assert broken.status_code == 400 and "JSON" in broken.json["error"]
    anonymous = client.post("/collectd", data=b"[]", content_type="application/json")
    assert anonymous.status_code == 401 and anonymous.headers["WWW-Authenticate"].startswith(
        "Basic"
    )
    assert stored(app) == 0


# --- unknown paths ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/nope"),
        ("put", "/d/some-dashboard"),
        ("delete", "/api/nope"),
        ("post", "/api/v1/nope"),
        ("post", "/api/v2/nope"),
        ("get", "/api/v2/nope"),
        ("get", "/v1/traces"),
        ("get", "/healthz"),
        ("get", "/metrics"),
    ],
)
def test_unknown_paths_are_404_for_any_method(client: FlaskClient, method: str, path: str) -> None:
    response = getattr(client, method)(path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize(
    ("path", "allowed"),
    [("/write", "POST"), ("/v1/metrics", "POST"), ("/api/v1/prom/write", "POST")],
)
def test_known_paths_with_the_wrong_method_are_405(
    client: FlaskClient, path: str, allowed: str
) -> None:
    response = client.get(path)
    assert response.status_code == 405 and response.headers["Allow"] == allowed
    assert response.mimetype == "application/problem+json"


def test_pages_still_render_for_browsers(client: FlaskClient) -> None:
    assert client.get("/no-such-page").mimetype == "text/html"  # the app shows "Not found"
    missing = client.get("/d/anything")  # a page, answered 404 (issue 10) but still HTML
    assert missing.status_code == 404 and missing.mimetype == "text/html"


def test_agents_are_rate_limited_in_their_own_shape(database_url: str) -> None:
    from tests.conftest import make_app

    limited = make_app(database_url, API_RATE_LIMIT="2/minute")
    client = limited.test_client()
    with limited.app_context(), database.transaction() as session:
        auth = {"Authorization": f"Token {tokens.create_token(session, 'a', ['ingest']).token}"}
    statuses = [
        client.post("/write?db=x", data=b"m v=1", headers=auth).status_code for _ in range(3)
    ]
    assert statuses == [204, 204, 429]
    refused = client.post("/api/v2/write?bucket=x", data=b"m v=1", headers=auth)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.json["code"] == "too many requests"
    prometheus = prom(client, b"", "")
    assert prometheus.status_code == 429 and prometheus.mimetype == "text/plain"
    assert [client.get("/ping").status_code for _ in range(3)] == [204] * 3  # probes: unlimited


def test_a_database_down_is_503_with_retry_after_so_agents_retry() -> None:
    from tests.conftest import make_app

    down = make_app("postgresql+psycopg://postgres@127.0.0.1:1/nothing")
    client = down.test_client()
    token = "dsh_abcd1234_" + "x" * 43  # well formed: checking it needs the database
    body = remote_write(({"__name__": "up"}, [(1, MS)]))
    prometheus = prom(client, body, token)
    assert prometheus.status_code == 503 and prometheus.headers["Retry-After"]
    assert prometheus.mimetype == "text/plain"
    influx = client.post(
        "/api/v2/write?bucket=b", data=b"m v=1", headers={"Authorization": f"Token {token}"}
    )
    assert influx.status_code == 503 and influx.json["code"] == "unavailable"
    otlp = otlp_post(client, b"", token)
    assert otlp.status_code == 503
    assert status_pb2.Status.FromString(otlp.data).code == 14  # UNAVAILABLE
    health = client.get("/health")
    assert health.status_code == 503 and health.json["status"] == "fail"
    down.extensions["dashapp.db"].engine.dispose()
