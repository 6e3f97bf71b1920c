"""InfluxDB line protocol: the parser, and POST /api/v1/write on both databases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashapp.core.lineprotocol import parse, parse_line
from dashapp.core.points import IngestError
from tests.conftest import bearer
from tests.test_api_ingest import points_in, stored


def test_fields_tags_and_types() -> None:
    points = parse_line(
        'cpu,host=web-1,region=eu idle=97.5,user=2i,up=t,total=7u,msg="a b, c" 1700000000000000000'
    )
    assert [(p["name"], p["value"]) for p in points] == [
        ("cpu.idle", 97.5), ("cpu.user", 2.0), ("cpu.up", 1.0), ("cpu.total", 7.0),
    ]  # fmt: skip
    assert {p["source"] for p in points} == {"web-1"}
    assert all(p["labels"] == {"region": "eu"} for p in points)
    assert all(p["timestamp"] == 1_700_000_000_000_000_000 for p in points)


def test_source_tag_wins_over_host_and_default_source() -> None:
    (point,) = parse_line("m,host=h,source=s,az=a v=1")
    assert point["source"] == "s" and point["labels"] == {"host": "h", "az": "a"}
    (bare,) = parse_line("m v=1")
    assert bare["source"] == "default" and "labels" not in bare and bare["timestamp"] is None


def test_escapes() -> None:
    (point,) = parse_line(r"disk\ io,path=/var\,log,k\=x=v\ w read=1")
    assert point["name"] == "disk io.read"
    assert point["labels"] == {"path": "/var,log", "k=x": "v w"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("cpu", "expected"),
        ("cpu v=abc", "not a number"),
        ("cpu v=1 notatime", "timestamp"),
        ("cpu,host v=1", "key=value"),
        ('cpu s="open', "unterminated"),
        ("cpu v=nan", "finite"),
        ("cpu v=", "no value"),
    ],
)
def test_errors_name_the_line(body: str, message: str) -> None:
    with pytest.raises(IngestError) as raised:
        parse(f"# header\nok v=1\n{body}\n")
    error = raised.value.errors[0]
    assert error["line"] == 3 and message in error["message"] and raised.value.status == 400


def test_write_endpoint_answers_204_and_stores(client: FlaskClient, app: Flask) -> None:
    auth = bearer(app, "ingest")
    body = (
        "cpu,host=web-1,region=eu idle=97.5,user=2i 1700000000000000000\n"
        "cpu,host=web-2,region=eu idle=50 1700000000000000000\n"
    )
    response = client.post("/api/v1/write", data=body, content_type="text/plain", headers=auth)
    assert response.status_code == 204 and response.data == b""
    listed = client.get("/api/v1/metrics?name=cpu.idle").json["items"]
    assert [(s["source"], s["labels"], s["last_value"]) for s in listed] == [
        ("web-1", {"region": "eu"}, 97.5), ("web-2", {"region": "eu"}, 50.0),
    ]  # fmt: skip
    assert points_in(app) == 3
    # Same lines again: idempotent.
    client.post("/api/v1/write", data=body, headers=auth)
    assert points_in(app) == 3


@pytest.mark.parametrize(
    ("precision", "stamp"),
    [("s", "1700000000"), ("ms", "1700000000250"), ("u", "1700000000250000"),
     ("ns", "1700000000250000000"), ("n", "1700000000250000000")],
)  # fmt: skip
def test_write_precision(client: FlaskClient, app: Flask, precision: str, stamp: str) -> None:
    response = client.post(
        f"/api/v1/write?precision={precision}", data=f"m v=1 {stamp}", headers=bearer(app, "ingest")
    )
    assert response.status_code == 204
    micros = 0 if precision == "s" else 250_000
    assert stored(app, "m.v") == [(datetime(2023, 11, 14, 22, 13, 20, micros, tzinfo=UTC), 1.0)]


def test_write_refuses_bad_lines_atomically(client: FlaskClient, app: Flask) -> None:
    auth = bearer(app, "ingest")
    response = client.post("/api/v1/write", data="good v=1\nbad v=x\n", headers=auth)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"
    assert response.json["errors"][0]["line"] == 2
    invalid_name = client.post("/api/v1/write", data="ok v=1\nbad!name v=1\n", headers=auth)
    assert invalid_name.status_code == 422
    error = invalid_name.json["errors"][0]
    assert (error["line"], error["field"]) == (2, "name")
    not_utf8 = client.post("/api/v1/write", data=b"m v=1 \xff", headers=auth)
    assert not_utf8.status_code == 400
    bad_precision = client.post("/api/v1/write?precision=h", data="m v=1", headers=auth)
    assert bad_precision.status_code == 400
    assert points_in(app) == 0


def test_write_needs_an_ingest_token(client: FlaskClient, app: Flask) -> None:
    assert client.post("/api/v1/write", data="m v=1").status_code == 401
    reader = bearer(app, "read")
    assert client.post("/api/v1/write", data="m v=1", headers=reader).status_code == 403


def test_write_body_limits_and_encodings(database_url: str) -> None:
    import gzip

    from tests.conftest import make_app

    app = make_app(database_url, MAX_CONTENT_LENGTH=4096)
    client, auth = app.test_client(), bearer(app, "ingest")
    body = "".join(f"m v={i} {1_700_000_000 + i}\n" for i in range(400))
    assert len(body) > 4096
    too_big = client.post("/api/v1/write?precision=s", data=body, headers=auth)
    assert too_big.status_code == 413
    packed = gzip.compress(body.encode())
    assert len(packed) < 4096
    inflated = client.post("/api/v1/write?precision=s", data=packed,
                           headers={**auth, "Content-Encoding": "gzip"})  # fmt: skip
    assert inflated.status_code == 413  # 4 KiB is also the cap after decompression
    small = gzip.compress(b"m v=1 1700000000\n")
    ok = client.post("/api/v1/write?precision=s", data=small,
                     headers={**auth, "Content-Encoding": "gzip"})  # fmt: skip
    assert ok.status_code == 204
    brotli = client.post("/api/v1/write", data=b"x", headers={**auth, "Content-Encoding": "br"})
    assert brotli.status_code == 415 and brotli.mimetype == "application/problem+json"
    app.extensions["dashapp.db"].engine.dispose()
