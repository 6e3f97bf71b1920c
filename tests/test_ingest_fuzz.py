"""Property-based fuzz of every ingest format (hypothesis): JSON, NDJSON and InfluxDB
line protocol bodies shaped like the OpenAPI document and the protocol, plus plain junk.

Whatever arrives, the answer is never a 5xx, and a refused request stores nothing.
"""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dashapp.extensions import database
from db.tsdb import metrics
from tests.conftest import bearer

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
texts = st.text(max_size=40) | st.sampled_from(
    ["cpu", "web-1", "", " ", "a" * 300, "é" * 150, "\x00", "<a href='x'>y</a>", "٣", "1_0"]
)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 1, -1, 2**63 - 1, 2**63, -(2**63) - 1, 1e300, 1e301, 1.5]),
)
values = numbers | st.booleans() | st.none() | texts
timestamps = (
    numbers
    | st.booleans()
    | st.none()
    | texts
    | st.sampled_from(
        ["2026-01-01T00:00:00Z", "2026-01-01T00:00:00", "2026-01-01T00:00:00+01:00", "1767225600"]
    )
)
labels = st.dictionaries(texts, texts | numbers, max_size=40) | st.none() | texts


@st.composite
def points(draw: st.DrawFn) -> dict[str, Any]:
    point = {
        "name": draw(st.sampled_from(["cpu.usage", "mem", "a/b:c-d_e"]) | texts),
        "source": draw(texts),
        "value": draw(values),
    }
    if draw(st.booleans()):
        point["timestamp"] = draw(timestamps)
    if draw(st.booleans()):
        point["labels"] = draw(labels)
    if draw(st.integers(0, 9)) == 0:
        point[draw(texts)] = draw(values)  # an unknown field
    if draw(st.integers(0, 9)) == 0:
        del point[draw(st.sampled_from(["name", "source", "value"]))]
    return point


json_documents = st.one_of(
    points(),
    st.lists(points(), max_size=8),
    st.fixed_dictionaries({"points": st.lists(points(), max_size=8)}),
    st.recursive(
        st.none() | st.booleans() | numbers | texts,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
        max_leaves=8,
    ),
)

line_tokens = st.sampled_from(
    ["cpu", "disk\\ io", ",", "=", " ", "host=web-1", "region=eu", "v=1", "v=1i", "v=-1u",
     "v=1" + "0" * 30 + "i", "v=1e400", "v=1_000", 'v="text"', "v=t", "v=nan", "\\", '"',
     "1700000000000000000", "99999999999999999999", "v=١٢", "x=0.5", "#", "\n", "\t"]
)  # fmt: skip
lines = st.lists(line_tokens | st.text(max_size=10), max_size=12).map("".join)


def stored_count(app: Flask) -> int:
    with app.app_context(), database.transaction() as session:
        return metrics.count_points(session)


def check(app: Flask, client: FlaskClient, path: str, body: bytes, headers: dict) -> None:
    before = stored_count(app)
    response = client.post(path, data=body, headers=headers)
    assert response.status_code < 500, (response.status_code, body[:300], response.data[:300])
    after = stored_count(app)
    if response.status_code >= 300:
        assert after == before, (response.status_code, body[:300])  # nothing half-written
    elif response.status_code == 201:
        assert 0 <= after - before <= response.json["accepted"]


@pytest.fixture
def ingest_client(app: Flask) -> tuple[Flask, FlaskClient, dict[str, str]]:
    return app, app.test_client(), bearer(app, "ingest")


def _dumps(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, allow_nan=False).encode(
        "utf-8", "surrogatepass"
    )


@FUZZ
@given(document=json_documents, compress=st.booleans())
@example(document={"name": "a", "source": "\ud800", "value": 1}, compress=False)
@example(document={"name": "a", "source": "s", "value": 1, "labels": {"k": "\x00"}}, compress=True)
def test_json_never_5xx(ingest_client: tuple, document: Any, compress: bool) -> None:
    app, client, auth = ingest_client
    body = _dumps(document)
    headers = {**auth, "Content-Type": "application/json"}
    if compress:
        body, headers = gzip.compress(body), {**headers, "Content-Encoding": "gzip"}
    check(app, client, "/api/v1/metrics", body, headers)


@FUZZ
@given(items=st.lists(points() | json_documents, max_size=6), junk=st.binary(max_size=20))
def test_ndjson_never_5xx(ingest_client: tuple, items: list, junk: bytes) -> None:
    app, client, auth = ingest_client
    body = b"\n".join(_dumps(item) for item in items) + (b"\n" + junk if junk else b"")
    check(app, client, "/api/v1/metrics", body,
          {**auth, "Content-Type": "application/x-ndjson"})  # fmt: skip


@FUZZ
@given(
    body=st.lists(lines, max_size=6).map("\n".join),
    precision=st.sampled_from(["", "ns", "u", "ms", "s", "h", "x"]),
)
@example(body="cpu v=1" + "0" * 400 + "i", precision="")
def test_line_protocol_never_5xx(ingest_client: tuple, body: str, precision: str) -> None:
    app, client, auth = ingest_client
    path = "/api/v1/write" + (f"?precision={precision}" if precision else "")
    check(app, client, path, body.encode("utf-8", "surrogatepass"), auth)


@FUZZ
@given(body=st.binary(max_size=200), kind=st.sampled_from(
    ["application/json", "application/x-ndjson", "text/plain", "application/xml", ""]))  # fmt: skip
def test_junk_bytes_never_5xx(ingest_client: tuple, body: bytes, kind: str) -> None:
    app, client, auth = ingest_client
    headers = {**auth, "Content-Type": kind} if kind else auth
    check(app, client, "/api/v1/metrics", body, headers)
    check(app, client, "/api/v1/write", body, headers)
