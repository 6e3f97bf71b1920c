"""Answers for when the database is down: a clear 503, never a 500 with a traceback.

Anything can meet a dead database: the API, the login form, and Flask-Login's user
loader, which queries on every request of a logged-in user (``/_dash-layout``,
callbacks). They all get "database unavailable" with Retry-After, or, when dashapp's
tables do not exist yet, "run `dashapp db upgrade`".
"""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

from dashapp.api.errors import API_PREFIX, problem
from dashapp.auth import safe_next
from db.migrate import is_unmigrated
from db.pacing import is_busy

log = logging.getLogger(__name__)
MESSAGE = "The database is unavailable right now; try again in a moment."
UNMIGRATED = "The database is not migrated: run `dashapp db upgrade`."
RETRY_AFTER_SECONDS = "5"


def database_unavailable(error: DBAPIError) -> Response:
    """503 in the shape the requester reads: problem+json, the login page, or plain text."""
    unmigrated = is_unmigrated(error)
    if isinstance(error, ProgrammingError) and not unmigrated:
        raise error  # a bug, not an outage: a 500 with its traceback in the log
    message = UNMIGRATED if unmigrated else MESSAGE
    log.warning("database unavailable for %s %s: %s", request.method, request.path, error.orig)
    if request.path.startswith(API_PREFIX):
        detail = message if unmigrated else _unavailable(error)
        response = problem(503, "Service Unavailable", detail)
    elif request.path.startswith("/login"):
        next_path = safe_next(request.values.get("next"))
        page = render_template("login.html", error=message, next=next_path)
        response = Response(page, status=503, mimetype="text/html")
    else:
        response = Response(message, status=503, mimetype="text/plain")
    response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def _unavailable(error: DBAPIError) -> str:
    if is_busy(error):
        return "the database is busy; retry later"
    return "the database is unreachable; retry later"


def init_app(app: Flask) -> None:
    """Answer database outages anywhere in the app with 503."""
    app.register_error_handler(OperationalError, database_unavailable)
    app.register_error_handler(ProgrammingError, database_unavailable)  # PostgreSQL's kind
