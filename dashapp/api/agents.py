"""Routes for standard agents, at the paths their own docs use (issue 11).

Each route is thin: check the token, read the body, decode it with a wire-format
decoder from ``dashapp.core.protocols``, store the points in one transaction, answer
as the agent expects. Decoders reject bad items one by one, so a valid point is
never refused because of its neighbour; a body that cannot be read stores nothing.
"""

from __future__ import annotations

from flask import Blueprint, Response, json, request
from sqlalchemy.exc import SQLAlchemyError

from dashapp.api import agent_errors
from dashapp.api.agent_errors import INFLUX_HEADERS, INFLUX_VERSION, influx_error
from dashapp.api.auth import api_actor, authorize_agent
from dashapp.api.body import body_limit, media_type, read_body
from dashapp.api.errors import ApiError
from dashapp.commands import ingest
from dashapp.core.points import within_limits
from dashapp.core.protocols import Decoded, collectd, influx, otlp, prometheus, telegraf
from dashapp.extensions import database
from db.health import ping as ping_database

blueprint = Blueprint("agents", __name__)
agent_errors.register(blueprint)
INFLUX_PRECISIONS = ("ns", "n", "us", "u", "ms", "s", "m", "h")
INFLUX_V2_PRECISIONS = ("ns", "us", "ms", "s")
PROTOBUF = "application/x-protobuf"
MAX_MESSAGES = 10


def _no_content(headers: dict[str, str] | None = None) -> Response:
    """204 without a body or a content type."""
    response = Response(status=204)
    del response.headers["Content-Type"]
    response.headers.update(headers or {})
    return response


def _store(decoded: Decoded) -> int:
    """Write the decoded points (all or none of them); how many were stored."""
    return ingest.write_plain(api_actor(), decoded.points).accepted


def _summary(decoded: Decoded) -> str:
    """The rejected items, for a log line: the first few messages and the count."""
    messages = [item.message for item in decoded.rejected[:MAX_MESSAGES]]
    more = len(decoded.rejected) - len(messages)
    return "; ".join(messages) + (f"; and {more} more" if more > 0 else "")


def _unsupported(expected: str) -> ApiError:
    found = request.headers.get("Content-Type", "none")
    return ApiError(415, "Unsupported Media Type", f"send {expected}, not {found}")


# --- Prometheus remote write 1.0 ----------------------------------------------------------


@blueprint.post("/api/v1/prom/write")
def prometheus_write() -> Response:
    """Store a remote-write ``WriteRequest``; 204, or 400 naming refused samples."""
    authorize_agent("ingest")
    if media_type() != PROTOBUF:
        raise _unsupported(PROTOBUF)
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding != "snappy":
        raise ApiError(415, "Unsupported Media Type", "send Content-Encoding: snappy")
    decoded = within_limits(prometheus.decode(request.get_data(cache=False), body_limit()))
    stored = _store(decoded)
    if decoded.rejected:
        message = f"stored {stored} samples; refused {len(decoded.rejected)}: {_summary(decoded)}"
        return agent_errors.text_error(400, message)
    return _no_content()


# --- OTLP/HTTP metrics ----------------------------------------------------------------------


@blueprint.post("/v1/metrics")
def otlp_metrics() -> Response:
    """Store an ``ExportMetricsServiceRequest`` (protobuf or JSON, gzip welcome)."""
    authorize_agent("ingest")
    kind = media_type()
    if kind not in (PROTOBUF, "application/json"):
        raise _unsupported(f"{PROTOBUF} or application/json")
    body = read_body()
    decode = otlp.decode_json if kind == "application/json" else otlp.decode_protobuf
    decoded = within_limits(decode(body))
    _store(decoded)
    message = _summary(decoded) if decoded.rejected else ""
    payload, content_type = otlp.response(
        len(decoded.rejected), message, as_json=kind == "application/json"
    )
    return Response(payload, status=200, content_type=content_type)


# --- InfluxDB v1 and v2 ---------------------------------------------------------------------


def _line_protocol(precision: str, labels: dict[str, str]) -> Response:
    body = read_body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ApiError(400, "Bad Request", f"the body is not UTF-8: {error}") from None
    decoded = within_limits(influx.decode(text, precision, labels))
    stored = _store(decoded)
    if decoded.rejected:
        # InfluxDB's partial write: the valid lines are stored, the answer names the others.
        message = (
            f"partial write: {_summary(decoded)} dropped={len(decoded.rejected)} "
            f"(stored {stored} points)"
        )
        return influx_error(400, message)
    return _no_content(INFLUX_HEADERS)


def _precision(allowed: tuple[str, ...], default: str = "ns") -> str:
    precision = request.args.get("precision") or default
    if precision not in allowed:
        raise ApiError(400, "Bad Request", f"precision must be one of {', '.join(allowed)}")
    return precision


@blueprint.post("/write")
def influx_v1_write() -> Response:
    """InfluxDB 1.x ``/write?db=&rp=&precision=``; the database becomes label ``db``."""
    authorize_agent("ingest")
    database_name = request.args.get("db", "")
    if not database_name:
        raise ApiError(400, "Bad Request", "database is required")
    labels = {"db": database_name}
    if request.args.get("rp"):
        labels["rp"] = request.args["rp"]
    return _line_protocol(_precision(INFLUX_PRECISIONS), labels)


@blueprint.post("/api/v2/write")
def influx_v2_write() -> Response:
    """InfluxDB 2.x ``/api/v2/write?org=&bucket=&precision=``; bucket -> ``db``, org -> ``org``."""
    authorize_agent("ingest")
    bucket = request.args.get("bucket", "")
    if not bucket:
        raise ApiError(400, "Bad Request", "bucket is required")
    labels = {"db": bucket}
    org = request.args.get("org") or request.args.get("orgID")
    if org:
        labels["org"] = org
    return _line_protocol(_precision(INFLUX_V2_PRECISIONS), labels)


@blueprint.route("/query", methods=["GET", "POST"])
def influx_v1_query() -> Response:
    """InfluxDB 1.x ``/query``, for ``CREATE DATABASE`` only (Telegraf sends it at start).

    Databases are a label here, so creating one has nothing to do; reads go through
    ``/api/v1/query``.
    """
    authorize_agent("ingest")
    statement = (request.values.get("q") or "").strip()
    if not statement.upper().startswith("CREATE DATABASE"):
        message = "only CREATE DATABASE is supported here; read with GET /api/v1/query"
        raise ApiError(400, "Bad Request", message)
    body = json.dumps({"results": [{"statement_id": 0}]})
    response = Response(body, status=200, mimetype="application/json")
    response.headers.update(INFLUX_HEADERS)
    return response


@blueprint.route("/ping", methods=["GET", "HEAD"])
def ping() -> Response:
    """InfluxDB's liveness check: 204 with ``X-Influxdb-Version`` (200 JSON when verbose)."""
    if request.args.get("verbose", "").lower() in ("true", "1"):
        response = Response(json.dumps({"version": INFLUX_VERSION}), mimetype="application/json")
    else:
        response = _no_content()
    response.headers.update(INFLUX_HEADERS)
    return response


@blueprint.get("/health")
def health() -> Response:
    """InfluxDB 2's health document; 503 with ``"status": "fail"`` when the database is down."""
    try:
        with database.transaction() as session:
            ping_database(session)
        status, message, code = "pass", "ready for queries and writes", 200
    except SQLAlchemyError:
        status, message, code = "fail", "the database is unreachable", 503
    document = {
        "name": "dashapp",
        "message": message,
        "status": status,
        "checks": [],
        "version": INFLUX_VERSION,
        "commit": "dashapp",
    }
    response = Response(json.dumps(document), status=code, mimetype="application/json")
    response.headers.update(INFLUX_HEADERS)
    return response


# --- collectd write_http (JSON) -----------------------------------------------------------


def _counts(decoded: Decoded, stored: int) -> Response:
    """200 with what was stored, skipped and refused (so the agent does not resend it)."""
    document: dict = {"accepted": stored, "skipped": decoded.skipped}
    if decoded.rejected:
        document["rejected"] = [
            {"index": item.index, "message": item.message} for item in decoded.rejected
        ]
    return Response(json.dumps(document), status=200, mimetype="application/json")


@blueprint.post("/collectd")
def collectd_write() -> Response:
    """Store collectd ``write_http`` JSON; 200 with counts and any refused value lists."""
    authorize_agent("ingest")
    if media_type() != "application/json":
        raise _unsupported('application/json (write_http Format "JSON")')
    decoded = within_limits(collectd.decode(read_body()))
    stored = _store(decoded)
    return _counts(decoded, stored)


# --- Telegraf outputs.http, data_format = "json" -------------------------------------------


@blueprint.post("/telegraf")
def telegraf_json() -> Response:
    """Store Telegraf's JSON serializer output; ``?precision=`` its json_timestamp_units."""
    authorize_agent("ingest")
    if media_type() != "application/json":
        raise _unsupported('application/json (data_format = "json")')
    precision = _precision(INFLUX_V2_PRECISIONS, default="s")
    decoded = within_limits(telegraf.decode(read_body(), precision))
    stored = _store(decoded)
    return _counts(decoded, stored)
