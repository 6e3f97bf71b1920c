"""Issue 10 item 5: strict ingest types and series limits, answered 4xx, never 5xx."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashapp.core.points import SERIES_LIMITS, series_limit_errors
from dashapp.extensions import database
from db.tsdb import metrics
from tests.conftest import bearer


@pytest.fixture
def auth(app: Flask) -> dict[str, str]:
    return bearer(app, "ingest")


def points_in(app: Flask) -> int:
    with app.app_context(), database.transaction() as session:
        return metrics.count_points(session)


def point(**fields: object) -> dict[str, object]:
    return {"name": "cpu", "source": "web-1", "value": 1.0, **fields}


STRICT_CASES = {
    "value as a string": point(value="42"),
    "value true": point(value=True),
    "value null": point(value=None),
    "timestamp true": point(timestamp=True),
    "value beyond int64": point(value=2**63),
    "timestamp beyond int64": point(timestamp=-(2**63) - 1),
    "digit separators": point(timestamp="2026-01-01T00:00:00_000Z"),
    "non-ASCII digits": point(timestamp="\u0662\u0660\u0662\u0666-01-01T00:00:00Z"),
    "epoch as a string": point(timestamp="1767225600"),
}


@pytest.mark.parametrize("kind", ["json", "json-array", "envelope", "ndjson"])
@pytest.mark.parametrize("case", sorted(STRICT_CASES))
def test_types_are_strict(client: FlaskClient, app: Flask, auth: dict, case: str, kind: str):
    item = STRICT_CASES[case]
    good = point(name="ok")
    # The standard library writes integers of any size (orjson stops at 64 bits).
    if kind == "ndjson":
        body = f"{json.dumps(good)}\n{json.dumps(item)}".encode()
        content_type = "application/x-ndjson"
    else:
        document = {"json": item, "json-array": [good, item], "envelope": {"points": [good, item]}}
        body, content_type = json.dumps(document[kind]).encode(), "application/json"
    response = client.post("/api/v1/metrics", data=body, content_type=content_type, headers=auth)
    assert response.status_code == 422, response.json
    (error,) = response.json["errors"]
    assert error["field"] in ("value", "timestamp")
    assert error["index"] == (0 if kind == "json" else 1)
    assert points_in(app) == 0


def test_integers_beyond_64_bits_in_a_single_object(client: FlaskClient, app: Flask, auth: dict):
    # orjson reads 2**64 as a float; the strict check must still see the integer.
    bodies = (
        b'{"name":"a","source":"b","value":18446744073709551616}',
        b'{"name":"a","source":"b","value":1,"timestamp":99999999999999999999}',
    )
    for body in bodies:
        response = client.post(
            "/api/v1/metrics", data=body, headers=auth, content_type="application/json"
        )
        assert response.status_code == 422
        assert "int64" in response.json["errors"][0]["message"]
    assert points_in(app) == 0


@pytest.mark.parametrize(
    ("labels", "limit"),
    [
        (
            {f"k{i}": "v" for i in range(SERIES_LIMITS["labels_per_series"] + 1)},
            "labels_per_series",
        ),
        ({"k" * 101: "v"}, "label_key_bytes"),
        ({"k": "é" * 101}, "label_value_bytes"),  # 101 characters, 202 bytes
        ({f"k{i}": "v" * 190 for i in range(6)}, "labels_total_bytes"),
    ],
)
def test_series_limits_are_a_422_naming_the_limit(
    client: FlaskClient, app: Flask, auth: dict, labels: dict, limit: str
) -> None:
    batch = [point(name="ok"), point(labels=labels)]
    response = client.post("/api/v1/metrics", json=batch, headers=auth)
    assert response.status_code == 422, response.json
    errors = response.json["errors"]
    assert any(e["limit"] == limit and e["index"] == 1 for e in errors), errors
    assert limit in response.json["detail"]
    assert points_in(app) == 0


def test_a_large_label_set_was_a_503_on_postgresql(
    client: FlaskClient, app: Flask, auth: dict
) -> None:
    # 20 labels of 200-byte values: over PostgreSQL's index row limit without the check.
    labels = {f"label{i:02d}": "x" * 200 for i in range(20)}
    response = client.post("/api/v1/metrics", json=point(labels=labels), headers=auth)
    assert response.status_code == 422
    lines = client.post(
        "/api/v1/write",
        data="cpu," + ",".join(f"{k}={v}" for k, v in labels.items()) + " v=1",
        headers=auth,
    )
    assert lines.status_code == 422
    assert points_in(app) == 0


def test_source_bytes_counted_in_utf8() -> None:
    assert series_limit_errors("cpu", "ü" * 100, {}) == []
    (error,) = series_limit_errors("cpu", "ü" * 101, {})
    assert error["limit"] == "source_bytes" and error["max"] == 200


@pytest.mark.parametrize(
    "line",
    [
        "cpu v=1" + "0" * 400 + "i",  # was a 500 (OverflowError)
        "cpu v=9223372036854775808i",
        "cpu v=-1u",
        "cpu v=18446744073709551616u",
        "cpu v=1_000i",
        "cpu v=1_000.5",
        "cpu v=\u0661\u0662",
        "cpu v=1e400",
        "cpu v=1 1_700_000_000",
        "cpu v=1 \u0661\u0667\u0660\u0660",
        "cpu v=1 99999999999999999999",
    ],
)
def test_line_protocol_numbers_are_strict(
    client: FlaskClient, app: Flask, auth: dict, line: str
) -> None:
    response = client.post("/api/v1/write", data=f"ok v=1\n{line}\n".encode(), headers=auth)
    assert response.status_code == 400, response.json
    assert response.json["errors"][0]["line"] == 2
    assert points_in(app) == 0


def test_line_protocol_integer_limits_are_accepted(
    client: FlaskClient, app: Flask, auth: dict
) -> None:
    body = "cpu a=9223372036854775807i,b=-9223372036854775808i,c=18446744073709551615u"
    assert client.post("/api/v1/write", data=body, headers=auth).status_code == 204
    assert points_in(app) == 3


def test_accepted_counts_stored_points(client: FlaskClient, app: Flask, auth: dict) -> None:
    same = [point(value=1.0, timestamp=1767225600), point(value=2.0, timestamp=1767225600)]
    response = client.post("/api/v1/metrics", json=[*same, point(timestamp=1767225601)],
                           headers=auth)  # fmt: skip
    assert response.json == {"accepted": 2, "series": 1}
    assert points_in(app) == 2


@pytest.mark.parametrize(
    "number",
    ["0", "-0.0", "1.5", "123456789012345678", "-123456789012345678", "1e300", "-1e300",
     "1e301", "-1e301", "1.7976931348623157e308", "9223372036854775807", "9223372036854775808",
     "-9223372036854775809", "18446744073709551616", "1e19", "true", "null", '"1767225600"'],
)  # fmt: skip
def test_the_fast_validation_accepts_and_refuses_what_the_strict_one_does(number: str) -> None:
    """Batches without long numbers skip a Python check per number; the answer (points or
    the errors' fields and messages) is the same either way."""
    from pydantic import ValidationError

    from dashapp.core import points

    def outcome(validate: Callable[[bytes], object], body: bytes) -> object:
        try:
            return ("stored", validate(body))
        except ValidationError as error:
            return ("refused", points.validation_errors(error))

    for field in ("value", "timestamp"):
        body = f'[{{"name": "cpu", "source": "a", "value": 1, "{field}": {number}}}]'.encode()
        either = partial(points._validate_json, points.POINTS)
        assert outcome(either, body) == outcome(points.POINTS.validate_json, body)
