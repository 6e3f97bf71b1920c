"""POST /api/v1/metrics then GET /api/v1/metrics, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask
from flask.testing import FlaskClient

from dashapp.extensions import database
from dashapp.spec import Query
from dashapp.timerange import TimeRange
from db import metrics
from db import query as engine


def points_in(app: Flask) -> int:
    with app.app_context(), database.transaction() as session:
        return metrics.count_points(session)


def test_post_one_point_then_list(client: FlaskClient, app: Flask) -> None:
    response = client.post(
        "/api/v1/metrics",
        json={"name": "cpu.usage", "source": "web-1", "value": 42.5, "labels": {"region": "eu"}},
    )
    assert response.status_code == 201
    assert response.json == {"accepted": 1, "series": 1}
    listed = client.get("/api/v1/metrics").json["items"]
    assert [(s["name"], s["source"], s["labels"]) for s in listed] == [
        ("cpu.usage", "web-1", {"region": "eu"})
    ]
    assert points_in(app) == 1


def test_post_a_batch_with_timestamps_and_query_it_back(client: FlaskClient, app: Flask) -> None:
    start = datetime(2026, 3, 1, tzinfo=UTC)
    batch = [
        {"name": "latency", "source": "api", "value": float(i), "timestamp": start.timestamp() + i}
        for i in range(60)
    ]
    batch.append({"name": "latency", "source": "api", "value": 99.0,
                  "timestamp": "2026-03-01T00:01:00Z"})  # fmt: skip
    assert client.post("/api/v1/metrics", json=batch).json == {"accepted": 61, "series": 1}
    with app.app_context(), database.transaction() as session:
        result = engine.query(
            session,
            Query(metric="latency", agg="max", interval="1m"),
            TimeRange(start, start + timedelta(minutes=2)),
            100,
        )
    assert result.series[0].values == [59.0, 99.0]


def test_a_bad_item_refuses_the_whole_batch(client: FlaskClient, app: Flask) -> None:
    batch = [
        {"name": "cpu", "source": "h", "value": 1},
        {"name": "cpu", "source": "h", "value": "high"},
        {"name": "cpu", "value": 3},
    ]
    response = client.post("/api/v1/metrics", json=batch)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    errors = response.json["errors"]
    assert {k: errors[0][k] for k in ("index", "field")} == {"index": 1, "field": "value"}
    assert {k: errors[1][k] for k in ("index", "field")} == {"index": 2, "field": "source"}
    assert points_in(app) == 0
    assert client.get("/api/v1/metrics").json["items"] == []


def test_bad_timestamps_name_the_item(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/metrics",
        json=[{"name": "a", "source": "b", "value": 1, "timestamp": "2026-01-01T00:00:00"}],
    )
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "timestamp"
    assert "time zone" in response.json["errors"][0]["message"]


def test_wrong_content_and_malformed_json(client: FlaskClient) -> None:
    as_text = client.post("/api/v1/metrics", data="cpu 1", content_type="text/plain")
    assert as_text.status_code == 415 and as_text.mimetype == "application/problem+json"
    broken = client.post("/api/v1/metrics", data="{", content_type="application/json")
    assert broken.status_code == 400 and broken.mimetype == "application/problem+json"


def test_retrying_a_batch_is_idempotent(client: FlaskClient, app: Flask) -> None:
    batch = [{"name": "m", "source": "s", "value": i, "timestamp": 1_700_000_000 + i}
             for i in range(100)]  # fmt: skip
    for _ in range(3):
        assert client.post("/api/v1/metrics", json=batch).status_code == 201
    assert points_in(app) == 100
