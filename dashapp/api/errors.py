"""RFC 9457 problem details (``application/problem+json``) for every API error."""

from __future__ import annotations

from typing import Any

from flask import Response, json
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from dashapp.api import blueprint

PROBLEM_TYPE = "application/problem+json"


def problem(status: int, title: str, detail: str = "", **extra: Any) -> Response:
    """A problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_TYPE)


@blueprint.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    response = problem(error.code or 500, error.name, error.description or "")
    for header in ("Retry-After", "WWW-Authenticate", "Allow"):
        value = error.get_response().headers.get(header)
        if value:
            response.headers[header] = value
    return response


@blueprint.errorhandler(OperationalError)
def _database_down(error: OperationalError) -> Response:
    response = problem(503, "Service Unavailable", "the database is unreachable; retry later")
    response.headers["Retry-After"] = "5"
    return response
