"""Ingest through the API (JSON, NDJSON, gzip, precision), on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange
from dashapp.extensions import database
from db.tsdb import metrics
from db.tsdb import query as engine
from db.tsdb.models import PointRow
from tests.conftest import bearer


@pytest.fixture
def auth(app: Flask) -> dict[str, str]:
    return bearer(app, "ingest")


def points_in(app: Flask) -> int:
    with app.app_context(), database.transaction() as session:
        return metrics.count_points(session)


def stored(app: Flask, metric: str) -> list[tuple[datetime, float]]:
    """Every stored (timestamp, value) of ``metric``, oldest first."""
    with app.app_context(), database.transaction() as session:
        (series,) = metrics.find_series(session, metric)
        rows = session.execute(
            select(PointRow.ts, PointRow.value)
            .where(PointRow.series_id == series.id)
            .order_by(PointRow.ts)
        )
        return [(row.ts, row.value) for row in rows]


def test_post_one_point_then_list(client: FlaskClient, app: Flask, auth: dict) -> None:
    response = client.post(
        "/api/v1/metrics",
        json={"name": "cpu.usage", "source": "web-1", "value": 42.5, "labels": {"region": "eu"}},
        headers=auth,
    )
    assert response.status_code == 201
    assert response.json == {"accepted": 1, "series": 1}
    listed = client.get("/api/v1/metrics").json["items"]
    assert [(s["name"], s["source"], s["labels"], s["last_value"]) for s in listed] == [
        ("cpu.usage", "web-1", {"region": "eu"}, 42.5)
    ]
    assert points_in(app) == 1


def test_post_a_batch_with_timestamps_and_query_it_back(
    client: FlaskClient, app: Flask, auth: dict
) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    batch = [
        {"name": "latency", "source": "api", "value": float(i), "timestamp": start.timestamp() + i}
        for i in range(60)
    ]
    batch.append({"name": "latency", "source": "api", "value": 99.0,
                  "timestamp": "2026-03-01T00:01:00Z"})  # fmt: skip
    response = client.post("/api/v1/metrics", json=batch, headers=auth)
    assert response.json == {"accepted": 61, "series": 1}
    with app.app_context(), database.transaction() as session:
        result = engine.query(
            session,
            Query(metric="latency", agg="max", interval="1m"),
            TimeRange(start, start + timedelta(minutes=2)),
            100,
        )
    assert result.series[0].values == [59.0, 99.0]


def test_envelope_ndjson_and_gzip(client: FlaskClient, app: Flask, auth: dict) -> None:
    envelope = {"points": [{"name": "a", "source": "s", "value": 1, "timestamp": 1_700_000_000}]}
    assert client.post("/api/v1/metrics", json=envelope, headers=auth).status_code == 201

    lines = b'{"name": "a", "source": "s", "value": 2, "timestamp": 1700000001}\n\n'
    lines += b'{"name": "a", "source": "t", "value": 3, "timestamp": 1700000002}\n'
    response = client.post(
        "/api/v1/metrics", data=lines, content_type="application/x-ndjson", headers=auth
    )
    assert response.status_code == 201 and response.json == {"accepted": 2, "series": 2}

    packed = gzip.compress(orjson.dumps([{"name": "b", "source": "s", "value": 4}]))
    response = client.post(
        "/api/v1/metrics",
        data=packed,
        content_type="application/json",
        headers={**auth, "Content-Encoding": "gzip"},
    )
    assert response.status_code == 201
    gzipped_ndjson = gzip.compress(lines)
    response = client.post(
        "/api/v1/metrics",
        data=gzipped_ndjson,
        content_type="application/x-ndjson",
        headers={**auth, "Content-Encoding": "gzip"},
    )
    assert response.status_code == 201
    assert points_in(app) == 4


@pytest.mark.parametrize(
    ("precision", "stamp"),
    [
        (None, 1_700_000_000.5),
        ("s", 1_700_000_000.5),
        ("ms", 1_700_000_000_500),
        ("us", 1_700_000_000_500_000),
        ("ns", 1_700_000_000_500_000_000),
    ],
)
def test_precision_of_numeric_timestamps(
    client: FlaskClient, app: Flask, auth: dict, precision: str | None, stamp: float
) -> None:
    query = f"?precision={precision}" if precision else ""
    point = {"name": "p", "source": "s", "value": 1, "timestamp": stamp}
    assert client.post(f"/api/v1/metrics{query}", json=point, headers=auth).status_code == 201
    expected = datetime(2023, 11, 14, 22, 13, 20, 500_000, tzinfo=UTC)
    assert stored(app, "p") == [(expected, 1.0)]


def test_rfc3339_and_missing_timestamps(client: FlaskClient, app: Flask, auth: dict) -> None:
    before = datetime.now(UTC)
    batch = [
        {"name": "r", "source": "s", "value": 1, "timestamp": "2026-01-02T03:04:05.25+01:00"},
        {"name": "r", "source": "s", "value": 2},
    ]
    assert client.post("/api/v1/metrics", json=batch, headers=auth).status_code == 201
    (first, one), (second, two) = stored(app, "r")
    assert (first, one) == (datetime(2026, 1, 2, 2, 4, 5, 250_000, tzinfo=UTC), 1.0)
    assert before - timedelta(seconds=1) <= second <= datetime.now(UTC) and two == 2.0


def test_a_bad_item_refuses_the_whole_batch(client: FlaskClient, app: Flask, auth: dict) -> None:
    batch = [
        {"name": "cpu", "source": "h", "value": 1},
        {"name": "cpu", "source": "h", "value": "high"},
        {"name": "cpu", "value": 3},
    ]
    response = client.post("/api/v1/metrics", json=batch, headers=auth)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = response.json["errors"]
    assert {k: errors[0][k] for k in ("index", "field")} == {"index": 1, "field": "value"}
    assert {k: errors[1][k] for k in ("index", "field")} == {"index": 2, "field": "source"}
    assert points_in(app) == 0
    assert client.get("/api/v1/metrics").json["items"] == []


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "bad name!", "source": "s", "value": 1}, "name", "pattern"),
        ({"name": "n", "source": "s", "value": 1, "extra": 1}, "extra", "Extra inputs"),
        ({"name": "n", "source": "s", "value": 1, "labels": {"k": 5}}, "labels.k", "string"),
        ({"name": "n", "source": "s", "value": 1, "timestamp": 1e12}, "timestamp", "2200"),
        ({"name": "n", "source": "s\u0000", "value": 1}, "source", "NUL"),
        ({"points": [{"name": "n", "source": "s"}]}, "value", "Field required"),
    ],
)
def test_field_errors_name_item_and_field(
    client: FlaskClient, app: Flask, auth: dict, body: dict, field: str, message: str
) -> None:
    response = client.post("/api/v1/metrics", json=body, headers=auth)
    assert response.status_code == 422, response.json
    error = response.json["errors"][0]
    assert error["index"] == 0 and error["field"] == field and message in error["message"]
    assert points_in(app) == 0


def test_ndjson_errors_name_the_line(client: FlaskClient, app: Flask, auth: dict) -> None:
    lines = b'{"name": "a", "source": "s", "value": 1}\n\n{"name": "a", "source": "s"}\n'
    response = client.post(
        "/api/v1/metrics", data=lines, content_type="application/x-ndjson", headers=auth
    )
    assert response.status_code == 422
    assert response.json["errors"][0] == {
        "index": 1, "line": 3, "field": "value", "message": "Field required",
    }  # fmt: skip
    two = b'{"name": "a", "source": "s", "value": "x", "extra": 1}\n{"name": "a", "value": 1}\n'
    response = client.post(
        "/api/v1/metrics", data=two, content_type="application/x-ndjson", headers=auth
    )
    assert [(e["index"], e["line"], e["field"]) for e in response.json["errors"]] == [
        (0, 1, "value"), (0, 1, "extra"), (1, 2, "source"),
    ]  # fmt: skip
    broken = client.post(
        "/api/v1/metrics", data=b"{\n", content_type="application/x-ndjson", headers=auth
    )
    assert broken.status_code == 400 and broken.json["errors"][0]["line"] == 1
    assert points_in(app) == 0


def test_bad_timestamps_name_the_item(client: FlaskClient, auth: dict) -> None:
    response = client.post(
        "/api/v1/metrics",
        json=[{"name": "a", "source": "b", "value": 1, "timestamp": "2026-01-01T00:00:00"}],
        headers=auth,
    )
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "timestamp"
    assert "time zone" in response.json["errors"][0]["message"]


def test_wrong_content_and_malformed_bodies(client: FlaskClient, auth: dict) -> None:
    as_text = client.post("/api/v1/metrics", data="cpu 1", content_type="text/plain", headers=auth)
    assert as_text.status_code == 415 and as_text.mimetype == "application/problem+json"
    for broken in ("{", "[1,", "[{]"):
        response = client.post(
            "/api/v1/metrics", data=broken, content_type="application/json", headers=auth
        )
        assert response.status_code == 400 and response.mimetype == "application/problem+json"
    deflate = client.post(
        "/api/v1/metrics",
        data=b"x",
        content_type="application/json",
        headers={**auth, "Content-Encoding": "br"},
    )
    assert deflate.status_code == 415
    not_gzip = client.post(
        "/api/v1/metrics",
        data=b"not gzip",
        content_type="application/json",
        headers={**auth, "Content-Encoding": "gzip"},
    )
    assert not_gzip.status_code == 400
    bad_precision = client.post("/api/v1/metrics?precision=h", json=[], headers=auth)
    assert bad_precision.status_code == 400
    assert bad_precision.json["errors"][0]["field"] == "precision"


def test_body_limits(database_url: str) -> None:
    from tests.conftest import make_app

    app = make_app(database_url, MAX_CONTENT_LENGTH=64 * 1024)
    client, auth = app.test_client(), bearer(app, "ingest")
    big = orjson.dumps([{"name": "m", "source": "s", "value": i} for i in range(5000)])
    assert len(big) > 64 * 1024
    response = client.post("/api/v1/metrics", data=big, content_type="application/json",
                           headers=auth)  # fmt: skip
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    # A gzip bomb: 40 KiB on the wire, 40 MiB inflated; refused without inflating it all.
    bomb = gzip.compress(b"[" + b" " * (40 * 1024 * 1024) + b"]", 9)
    assert len(bomb) < 64 * 1024
    response = client.post(
        "/api/v1/metrics",
        data=bomb,
        content_type="application/json",
        headers={**auth, "Content-Encoding": "gzip"},
    )
    assert response.status_code == 413 and "decompressed" in response.json["detail"]
    app.extensions["dashapp.db"].engine.dispose()


def test_too_many_points_in_one_batch(client: FlaskClient, auth: dict, monkeypatch) -> None:
    from dashapp.core import points as ingest

    monkeypatch.setattr(ingest, "MAX_BATCH", 10)
    batch = [{"name": "m", "source": "s", "value": i} for i in range(11)]
    response = client.post("/api/v1/metrics", json=batch, headers=auth)
    assert response.status_code == 413 and response.json["errors"][0]["field"] == "(batch)"


def test_retrying_a_batch_is_idempotent(client: FlaskClient, app: Flask, auth: dict) -> None:
    batch = [{"name": "m", "source": "s", "value": i, "timestamp": 1_700_000_000 + i}
             for i in range(100)]  # fmt: skip
    for _ in range(3):
        assert client.post("/api/v1/metrics", json=batch, headers=auth).status_code == 201
    assert points_in(app) == 100
    # Last write wins, also within one batch.
    again = [{"name": "m", "source": "s", "value": v, "timestamp": 1_700_000_000} for v in (7, 8)]
    assert client.post("/api/v1/metrics", json=again, headers=auth).status_code == 201
    assert points_in(app) == 100
    assert stored(app, "m")[0][1] == 8.0


def test_empty_batch_is_accepted(client: FlaskClient, app: Flask, auth: dict) -> None:
    response = client.post("/api/v1/metrics", json=[], headers=auth)
    assert response.status_code == 201 and response.json == {"accepted": 0, "series": 0}
