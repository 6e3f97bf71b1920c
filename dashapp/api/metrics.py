"""Metric routes: ingest (JSON, NDJSON, line protocol) and the series catalog."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from flask import Response, jsonify

from dashapp.api import blueprint
from dashapp.api.args import check_id, parse_args
from dashapp.api.auth import api_actor, requires
from dashapp.api.body import media_type, read_body
from dashapp.api.errors import ApiError
from dashapp.api.openapi import documented
from dashapp.api.schemas import (
    Accepted,
    CatalogArgs,
    IngestArgs,
    IngestBody,
    SeriesOut,
    SeriesPage,
    WriteArgs,
)
from dashapp.commands import ingest
from dashapp.core import lineprotocol, points
from dashapp.core.results import SeriesInfo
from dashapp.extensions import database
from dashapp.settings import current_settings
from db import tsdb

JSON_TYPES = ("application/json",)
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonlines")
INGEST_ERRORS = {400: None, 413: None, 415: None, 422: None}


def _refused(error: points.IngestError) -> ApiError:
    title = {400: "Malformed body", 413: "Content Too Large"}.get(error.status, "Invalid points")
    return ApiError(error.status, title, str(error), errors=error.errors)


@blueprint.post("/metrics")
@documented(
    "Push points",
    tag="metrics",
    query=IngestArgs,
    body={
        "application/json": IngestBody,
        "application/x-ndjson": {"type": "string", "description": "one point (JSON) per line"},
    },
    responses={201: Accepted, **INGEST_ERRORS},
    request_headers={"Content-Encoding": "gzip, or omit"},
    description=(
        'One point, an array of points, or `{"points": [...]}`; or NDJSON. The whole batch '
        "is validated before anything is written: a bad item refuses the batch, and errors "
        "name its index and field. The same series and timestamp again overwrite the value, "
        "so retries are safe."
    ),
)
@requires("ingest")
def post_metrics() -> tuple[Response, int]:
    """Store points atomically; 201 with the counts."""
    args = parse_args(IngestArgs)
    kind = media_type()
    if kind not in JSON_TYPES + NDJSON_TYPES:
        raise ApiError(
            415, "Unsupported Media Type", "send application/json or application/x-ndjson"
        )
    body = read_body()
    try:
        parse = points.parse_json if kind in JSON_TYPES else points.parse_ndjson
        result = ingest.ingest(api_actor(), parse(body), args.precision)
    except points.IngestError as error:
        raise _refused(error) from None
    return jsonify(accepted=result.accepted, series=result.series), 201


@blueprint.post("/write")
@documented(
    "Push points in InfluxDB line protocol",
    tag="metrics",
    query=WriteArgs,
    body={"text/plain": {"type": "string", "description": "InfluxDB line protocol"}},
    responses={204: None, **INGEST_ERRORS},
    request_headers={"Content-Encoding": "gzip, or omit"},
    description=(
        "`measurement[,tag=value...] field=value[,...] [timestamp]`: each numeric field "
        "becomes metric `measurement.field`; the `source` (else `host`) tag is the source, "
        "other tags are labels. Answers 204 like InfluxDB, so agents such as Telegraf can "
        "point their InfluxDB output here."
    ),
)
@requires("ingest")
def write_line_protocol() -> tuple[str, int]:
    """Store line-protocol points atomically; 204."""
    args = parse_args(WriteArgs)
    body = read_body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApiError(400, "Malformed body", f"the body is not UTF-8: {error}") from None
    try:
        raw, lines = lineprotocol.parse(text)
        valid = points.validate_points(raw, lines)
        ingest.ingest(api_actor(), valid, lineprotocol.precision(args.precision))
    except points.IngestError as error:
        raise _refused(error) from None
    return "", 204


def _encode_cursor(info: SeriesInfo) -> str:
    raw = orjson.dumps([info.name, info.source, info.id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tsdb.CatalogCursor:
    try:
        name, source, series_id = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * 4))
        if not (isinstance(name, str) and isinstance(source, str) and type(series_id) is int):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise ApiError(
            400,
            "Bad Request",
            "cursor is not one this API returned",
            errors=[{"field": "cursor", "message": "invalid cursor"}],
        ) from None
    return name, source, series_id


def labels_of(matchers: list[str]) -> dict[str, str]:
    """``["region=eu", "az=a"]`` -> ``{"region": "eu", "az": "a"}``."""
    return dict(matcher.split("=", 1) for matcher in matchers)


def series_out(info: SeriesInfo) -> dict[str, Any]:
    """A catalog item as JSON."""
    return SeriesOut(
        id=info.id,
        name=info.name,
        source=info.source,
        labels=info.labels,
        last_timestamp=info.last_ts,
        last_value=info.last_value,
        oldest_timestamp=info.oldest_ts,
        retention=current_settings().retention_policy.policy_for(info.name).describe(),
    ).model_dump(mode="json")


@blueprint.get("/metrics")
@documented("List series", tag="metrics", query=CatalogArgs, responses={200: SeriesPage})
@requires("read")
def list_metrics() -> Response:
    """The series catalog: filters, cursor pagination, each series with its newest point."""
    args = parse_args(CatalogArgs)
    after = _decode_cursor(args.cursor) if args.cursor else None
    with database.read_session() as session:
        items = tsdb.catalog(
            session,
            name=args.name,
            source=args.source,
            contains=args.q,
            labels=labels_of(args.label),
            after=after,
            limit=args.limit + 1,
        )
    page, more = items[: args.limit], len(items) > args.limit
    return jsonify(
        items=[series_out(info) for info in page],
        next_cursor=_encode_cursor(page[-1]) if more else None,
    )


@blueprint.get("/metrics/<int:series_id>")
@documented("Get one series", tag="metrics", responses={200: SeriesOut, 404: None})
@requires("read")
def get_metric(series_id: int) -> Response:
    """One series with its newest point."""
    with database.read_session() as session:
        info = tsdb.get_series(session, check_id(series_id, "series"))
    if info is None:
        raise ApiError(404, "Not Found", f"no series with id {series_id}")
    return jsonify(series_out(info))
