"""RFC 9457 problem details (``application/problem+json``) for every API error."""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

from dashapp.api import blueprint, unknown
from dashapp.commands.errors import CommandError

PROBLEM_TYPE = "application/problem+json"
API_PREFIX = "/api/"


def problem(status: int, title: str, detail: str = "", **extra: Any) -> Response:
    """A problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)


class ApiError(Exception):
    """Raise from a route to answer with a problem: status, title, detail, field errors."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str = "",
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail
        self.errors, self.headers, self.extra = errors, headers or {}, extra

    def response(self) -> Response:
        """The problem+json response for this error."""
        answer = problem(self.status, self.title, self.detail, errors=self.errors, **self.extra)
        answer.headers.update(self.headers)
        return answer


@blueprint.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    return error.response()


def _http_problem(error: HTTPException) -> Response:
    response = problem(error.code or 500, error.name, error.description or "")
    for header in ("Retry-After", "WWW-Authenticate", "Allow"):
        value = error.get_response().headers.get(header)
        if value:
            response.headers[header] = value
    return response


TITLES = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict"}


@blueprint.errorhandler(CommandError)
def _command_error(error: CommandError) -> Response:
    title = TITLES.get(error.status, "Invalid request")
    details = {key: value for key, value in error.details.items() if key != "expected"}
    return problem(error.status, title, str(error), **details)


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    return _http_problem(error)


@blueprint.get("/<path:unknown>")
def _unknown_path(unknown: str) -> Response:
    # Without this, the Dash page catch-all would answer unknown API paths with HTML.
    return problem(404, "Not Found", f"no API resource at /api/v1/{unknown}")


def init_app(app: Flask) -> None:
    """Answer routing errors (404, 405) under ``/api/`` with problems too, not HTML.

    Unknown paths are 404 for every method, and only page GETs get HTML (issue 11).
    """

    def routing_error(error: HTTPException) -> Response | HTTPException:
        error = unknown.as_not_found(error)
        if request.path.startswith(API_PREFIX) or not _page_request():
            return _http_problem(error)
        return error

    def _page_request() -> bool:
        return request.method in ("GET", "HEAD") and not unknown.machine_path(request.path)

    unknown.init_app(app)

    for status in (404, 405):
        app.register_error_handler(status, routing_error)
