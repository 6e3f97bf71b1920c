"""Errors on the agents' routes, each in the shape its clients log (issue 11).

InfluxDB clients read ``{"error": ...}`` (v1) or ``{"code", "message"}`` (v2);
Prometheus logs a plain-text body; OTLP exporters expect a ``google.rpc.Status`` in
the request's encoding; collectd only looks at the status. The protocol is told by
the path, so errors raised before a view runs (rate limits) are shaped too.
"""

from __future__ import annotations

from flask import Blueprint, Response, json, request
from google.protobuf import json_format
from google.rpc import code_pb2, status_pb2
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from dashapp.api.errors import ApiError
from dashapp.core.points import IngestError
from dashapp.core.protocols import BodyError, BodyTooLarge
from db.pacing import is_busy

INFLUX_VERSION = "1.8.10"
"""What ``X-Influxdb-Version`` says: the InfluxDB API these routes implement."""
INFLUX_HEADERS = {"X-Influxdb-Version": INFLUX_VERSION, "X-Influxdb-Build": "dashapp"}
V2_CODES = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not found",
    413: "request too large",
    415: "invalid",
    429: "too many requests",
    503: "unavailable",
}
RPC_CODES = {
    401: code_pb2.UNAUTHENTICATED,
    403: code_pb2.PERMISSION_DENIED,
    404: code_pb2.NOT_FOUND,
    413: code_pb2.RESOURCE_EXHAUSTED,
    429: code_pb2.RESOURCE_EXHAUSTED,
    503: code_pb2.UNAVAILABLE,
}
RETRY_AFTER_SECONDS = "5"
BASIC_CHALLENGE = 'Basic realm="dashapp", charset="UTF-8"'


def influx_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """An InfluxDB-shaped error: ``{"error", "code", "message"}`` and its headers."""
    body = {"error": message, "code": V2_CODES.get(status, "internal error"), "message": message}
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers.update({**INFLUX_HEADERS, "X-Influxdb-Error": message[:1000]})
    response.headers.update(headers or {})
    return response


def otlp_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """A ``google.rpc.Status`` body, JSON when the request was JSON, else protobuf."""
    detail = status_pb2.Status(code=RPC_CODES.get(status, code_pb2.INVALID_ARGUMENT))
    detail.message = message
    if (request.mimetype or "").lower() == "application/json":
        response = Response(json_format.MessageToJson(detail), mimetype="application/json")
    else:
        response = Response(detail.SerializeToString(), mimetype="application/x-protobuf")
    response.status_code = status
    response.headers.update(headers or {})
    return response


def text_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """A plain-text error (Prometheus logs the body as it is)."""
    response = Response(message + "\n", status=status, mimetype="text/plain")
    response.headers.update(headers or {})
    return response


def agent_error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    """The error response for this request's protocol (told by its path)."""
    if status == 401:
        # Agents on libcurl (collectd) send their user and password only when challenged.
        headers = {**(headers or {}), "WWW-Authenticate": BASIC_CHALLENGE}
    path = request.path
    if path.startswith("/api/v1/prom/"):
        return text_error(status, message, headers)
    if path.startswith("/v1/"):
        return otlp_error(status, message, headers)
    return influx_error(status, message, headers)


def register(blueprint: Blueprint) -> None:
    """Shape every error raised on ``blueprint``'s routes for the agent that called."""

    @blueprint.errorhandler(ApiError)
    def _api_error(error: ApiError) -> Response:
        return agent_error(error.status, error.detail or error.title, error.headers)

    @blueprint.errorhandler(IngestError)
    def _refused(error: IngestError) -> Response:
        return agent_error(error.status, str(error))

    @blueprint.errorhandler(BodyError)
    def _unreadable(error: BodyError) -> Response:
        return agent_error(413 if isinstance(error, BodyTooLarge) else 400, str(error))

    @blueprint.errorhandler(OperationalError)
    def _database_down(error: OperationalError) -> Response:
        state = "busy" if is_busy(error) else "unreachable"
        message = f"the database is {state}; retry later"
        return agent_error(503, message, {"Retry-After": RETRY_AFTER_SECONDS})

    @blueprint.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> Response:
        headers = {
            name: value
            for name, value in error.get_response().headers.items()
            if name in ("Retry-After", "Allow", "WWW-Authenticate")
        }
        return agent_error(error.code or 500, error.description or error.name, headers)
