"""Answers for when the database is down: a clear 503, never a 500 with a traceback.

Anything outside the API's own handlers can meet a dead database: the login form,
and Flask-Login's user loader, which queries on every request of a logged-in user
(``/_dash-layout``, callbacks). They all get "database unavailable" with Retry-After.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from sqlalchemy.exc import OperationalError

from dashapp.api.errors import API_PREFIX, problem
from dashapp.auth import safe_next

log = logging.getLogger(__name__)
MESSAGE = "The database is unavailable right now; try again in a moment."
RETRY_AFTER_SECONDS = "5"


def database_unavailable(error: OperationalError) -> Response | tuple[str, int]:
    """503 in the shape the requester reads: problem+json, the login page, or plain text."""
    log.warning("database unavailable for %s %s: %s", request.method, request.path, error.orig)
    if request.path.startswith(API_PREFIX):
        response = problem(503, "Service Unavailable", "the database is unreachable; retry later")
    elif request.path.startswith("/login"):
        page = render_template(
            "login.html", error=MESSAGE, next=safe_next(request.values.get("next"))
        )
        response = Response(page, status=503, mimetype="text/html")
    else:
        response = Response(MESSAGE, status=503, mimetype="text/plain")
    response.headers["Retry-After"] = RETRY_AFTER_SECONDS
    return response


def init_app(app: Flask) -> None:
    """Answer database outages anywhere in the app with 503."""
    app.register_error_handler(OperationalError, database_unavailable)
