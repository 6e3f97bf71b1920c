"""Reading through the API: the catalog, one series, its points, and /query."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange
from dashapp.extensions import database
from db.cached import panel_query
from db.tsdb import metrics
from tests.conftest import bearer

START = datetime(2026, 3, 1, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture
def loaded(client: FlaskClient, app: Flask) -> FlaskClient:
    """Two metrics over three sources, one series with an extra label."""
    batch = []
    for minute in range(60):
        stamp = (START + timedelta(minutes=minute)).timestamp()
        for source, region in (("web-1", "eu"), ("web-2", "eu"), ("db-1", "us")):
            batch.append({"name": "cpu", "source": source, "value": minute,
                          "timestamp": stamp, "labels": {"region": region}})  # fmt: skip
        batch.append({"name": "cpu", "source": "web-1", "value": 1000 + minute,
                      "timestamp": stamp, "labels": {"region": "eu", "core": "7"}})  # fmt: skip
        batch.append({"name": "mem_used", "source": "web-1", "value": 2 * minute,
                      "timestamp": stamp})  # fmt: skip
    response = client.post("/api/v1/metrics", json=batch, headers=bearer(app, "ingest"))
    assert response.status_code == 201
    return client


def catalog(client: FlaskClient, query: str = "") -> list[tuple]:
    items = client.get(f"/api/v1/metrics{query}").json["items"]
    return [(s["name"], s["source"], s["labels"]) for s in items]


def test_catalog_lists_series_with_their_newest_point(loaded: FlaskClient) -> None:
    items = loaded.get("/api/v1/metrics").json["items"]
    assert [(s["name"], s["source"]) for s in items] == [
        ("cpu", "db-1"), ("cpu", "web-1"), ("cpu", "web-1"), ("cpu", "web-2"),
        ("mem_used", "web-1"),
    ]  # fmt: skip
    newest = START + timedelta(minutes=59)
    assert all(s["last_timestamp"] == iso(newest) for s in items)
    assert items[-1]["last_value"] == 118.0


def test_catalog_filters(loaded: FlaskClient) -> None:
    assert catalog(loaded, "?name=mem_used") == [("mem_used", "web-1", {})]
    assert [s for _, s, _ in catalog(loaded, "?name=cpu&source=web-1")] == ["web-1", "web-1"]
    assert [n for n, _, _ in catalog(loaded, "?q=EM_")] == ["mem_used"]
    assert catalog(loaded, "?q=%25") == [] and catalog(loaded, "?q=_") == catalog(loaded, "?q=m_")
    assert catalog(loaded, "?label=region=us") == [("cpu", "db-1", {"region": "us"})]
    assert catalog(loaded, "?label=region=eu&label=core=7") == [
        ("cpu", "web-1", {"core": "7", "region": "eu"})
    ]
    assert catalog(loaded, "?name=nothing") == []


def test_catalog_cursor_pagination(loaded: FlaskClient) -> None:
    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = loaded.get(f"/api/v1/metrics{query}").json
        assert len(page["items"]) <= 2
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [s["id"] for s in loaded.get("/api/v1/metrics").json["items"]]
    assert len(seen) == 5


@pytest.mark.parametrize(
    "query",
    ["?cursor=nonsense", "?cursor=WzFd", "?limit=0", "?limit=1001", "?label=noequals",
     "?name=%00"],
)  # fmt: skip
def test_catalog_bad_parameters(loaded: FlaskClient, query: str) -> None:
    response = loaded.get(f"/api/v1/metrics{query}")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert response.json["errors"]


def test_one_series_and_404(loaded: FlaskClient) -> None:
    first = loaded.get("/api/v1/metrics").json["items"][0]
    one = loaded.get(f"/api/v1/metrics/{first['id']}")
    assert one.status_code == 200 and one.json == first
    for missing in (999_999, 2**70):
        response = loaded.get(f"/api/v1/metrics/{missing}")
        assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_points_of_one_series_leave_out_series_with_more_labels(loaded: FlaskClient) -> None:
    items = loaded.get("/api/v1/metrics?name=cpu&source=web-1").json["items"]
    plain = next(s for s in items if s["labels"] == {"region": "eu"})
    end = START + timedelta(hours=1)
    response = loaded.get(
        f"/api/v1/metrics/{plain['id']}/points?start={iso(START)}"
        f"&end={iso(end)}&agg=max&interval=10m"
    )
    assert response.status_code == 200
    (line,) = response.json["series"]
    assert line["values"] == [9.0, 19.0, 29.0, 39.0, 49.0, 59.0]  # not the 1000+ series
    assert response.json["step_seconds"] == 600
    assert loaded.get("/api/v1/metrics/999999/points").status_code == 404
    bad = loaded.get(f"/api/v1/metrics/{plain['id']}/points?interval=soon")
    assert bad.status_code == 400


def test_query_matches_the_panel_engine(loaded: FlaskClient, app: Flask) -> None:
    end = START + timedelta(hours=1)
    response = loaded.get(
        f"/api/v1/query?metric=cpu&source=web-*&label=region=eu&agg=avg&group_by=source"
        f"&start={iso(START)}&end={iso(end)}&max_points=6"
    )
    assert response.status_code == 200
    body = response.json
    with app.app_context():
        engine = panel_query(
            Query(metric="cpu", source="web-*", labels={"region": "eu"}, group_by=["source"]),
            TimeRange(START, end),
            6,
        )
    assert [s["labels"] for s in body["series"]] == [{"source": "web-1"}, {"source": "web-2"}]
    assert [s["values"] for s in body["series"]] == [s.values for s in engine.series]
    assert body["series"][1]["values"] == [4.5, 14.5, 24.5, 34.5, 44.5, 54.5]
    assert body["total_series"] == 2 and body["mode"] == "buckets"
    assert body["start"] == "2026-03-01T00:00:00Z" and body["step_seconds"] == 600


def test_query_relative_times_and_cache(client: FlaskClient, app: Flask) -> None:
    now = datetime.now(UTC)
    point = {"name": "live", "source": "s", "value": 5, "timestamp": now.timestamp() - 60}
    client.post("/api/v1/metrics", json=point, headers=bearer(app, "ingest"))
    first = client.get("/api/v1/query?metric=live&start=now-1h&agg=max").json
    again = client.get("/api/v1/query?metric=live&start=now-1h&agg=max").json
    assert first["series"][0]["values"][-1] == 5.0
    assert not first["cached"] and again["cached"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("", "metric"),
        ("?metric=cpu&start=yesterday", "start"),
        ("?metric=cpu&start=now&end=now-1h", "start"),
        ("?metric=cpu&agg=median", "agg"),
        ("?metric=cpu&interval=often", "interval"),
        ("?metric=cpu&group_by=not%20a%20key", "group_by.0"),
        ("?metric=cpu&max_points=0", "max_points"),
        ("?metric=cpu&start=now-99999999999y", "start"),
    ],
)
def test_query_errors_name_the_parameter(client: FlaskClient, query: str, field: str) -> None:
    response = client.get(f"/api/v1/query{query}")
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert response.json["errors"][0]["field"] == field


def test_a_query_past_the_statement_timeout_is_503(postgresql_database: str) -> None:
    import psycopg

    from tests.conftest import POSTGRES_ADMIN, empty_tables, make_app

    empty_tables(postgresql_database)
    app = make_app(postgresql_database, STATEMENT_TIMEOUT_MS=100)
    client = app.test_client()
    point = {"name": "slow", "source": "s", "value": 1}
    assert (
        client.post("/api/v1/metrics", json=point, headers=bearer(app, "ingest")).status_code == 201
    )
    name = postgresql_database.rsplit("/", 1)[1]
    with psycopg.connect(f"{POSTGRES_ADMIN} dbname={name}") as locker:
        # Holding this lock makes the points query wait until its statement timeout.
        locker.execute("LOCK TABLE metric_points IN ACCESS EXCLUSIVE MODE")
        response = client.get("/api/v1/query?metric=slow&start=now-1h")
        locker.rollback()
    assert response.status_code == 503 and response.mimetype == "application/problem+json"
    assert "statement timeout" in response.json["detail"] and response.headers["Retry-After"]
    app.extensions["dashapp.db"].engine.dispose()


def test_each_transaction_runs_with_its_own_statement_timeout(postgresql_database: str) -> None:
    """Reads keep the dashboard limit as the connection's setting (no SET per read);
    writes on the same connection are not cut by it, even after a rolled-back change."""
    from sqlalchemy import text

    from tests.conftest import make_app

    app = make_app(postgresql_database, STATEMENT_TIMEOUT_MS=1234)

    def limit(context: Any) -> str:
        with context as session:
            return session.connection().execute(text("SHOW statement_timeout")).scalar_one()

    with app.app_context():
        assert limit(database.read_session()) == "1234ms"
        assert limit(database.transaction()) == "0"
        assert limit(database.read_session()) == "1234ms"
        assert limit(database.read_session(timeout_ms=50)) == "50ms"
        with pytest.raises(ZeroDivisionError), database.transaction(timeout_ms=70):
            1 / 0  # noqa: B018 - the SET of this transaction is rolled back
        assert limit(database.transaction()) == "0"
        assert limit(database.read_session()) == "1234ms"
        assert app.extensions["dashapp.db"].engine.pool.checkedin() == 1  # one connection


def test_values_that_would_overflow_a_sum_are_refused(client: FlaskClient, app: Flask) -> None:
    huge = [{"name": "big", "source": "s", "value": 1.5e308, "timestamp": 1_700_000_000}]
    response = client.post("/api/v1/metrics", json=huge, headers=bearer(app, "ingest"))
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "value"
    line = client.post("/api/v1/write", data="big v=1.5e308", headers=bearer(app, "ingest"))
    assert line.status_code in (400, 422) and "1e300" in line.get_data(as_text=True)


def test_an_overflowing_aggregation_of_older_data_is_422(client: FlaskClient, app: Flask) -> None:
    """Points stored before the ingest limit (or written around it) still get a clear error."""
    with app.app_context(), database.transaction() as session:
        ids = metrics.resolve_series(session, [metrics.series_key("big", "s", {})])
        start = datetime(2023, 11, 14, 22, tzinfo=UTC)
        metrics.write_points(
            session,
            [
                (sid, start + timedelta(seconds=i), 1.5e308)
                for sid in ids.values()
                for i in range(3)
            ],
        )
    window = "&start=2023-11-14T00:00:00Z&end=2023-11-15T00:00:00Z&max_points=1"
    summed = client.get(f"/api/v1/query?metric=big&agg=sum{window}")
    assert summed.status_code == 422 and "double precision" in summed.json["detail"]
    biggest = client.get(f"/api/v1/query?metric=big&agg=max{window}")
    assert biggest.status_code == 200, biggest.json
