"""The Dash app, mounted on the Flask server at ``/``."""

from __future__ import annotations

import logging
import math
import time
from typing import Any, NoReturn

from dash import Dash
from dash.exceptions import DashException
from flask import Flask, Response, abort, current_app, request
from flask_wtf.csrf import generate_csrf
from limits import parse_many

from callbacks import register_all
from callbacks.router import page_exists
from dashapp import PROJECT_ROOT
from dashapp.api.limits import hit_all, limit_scope
from dashapp.auth import current_role, current_username
from dashapp.commands.errors import CommandError
from dashapp.security import init_security_headers
from dashapp.settings import current_settings
from db.dashboards import DashboardNotFound
from layouts.shell import app_shell

log = logging.getLogger(__name__)
BAD_INPUT = (TypeError, ValueError, LookupError, AttributeError, OverflowError, RecursionError)
"""What a callback raises on input the page never sends (pydantic's errors are
ValueErrors, a missing dashboard or version a LookupError): the request is refused
with 400, not answered with 500."""


def _shell_for_request() -> object:
    """The shell, showing who is logged in (Dash calls this for every page load)."""
    return app_shell(current_username(), current_role(), generate_csrf())


def _missing_page_status(response: Response) -> Response:
    """A page load of a path with no page (or no such dashboard) answers 404; the
    shell still renders its friendly "Not found"."""
    if (
        request.method == "GET"
        and response.status_code == 200
        and response.mimetype == "text/html"
        and not request.path.startswith(("/_dash", "/assets/", "/api/", "/login"))
        and not page_exists(request.path)
    ):
        response.status_code = 404
    return response


def init_dash(server: Flask) -> Dash:
    """Create the Dash app on ``server`` (assets served locally) and register its callbacks."""
    app = Dash(
        __name__,
        server=server,
        url_base_pathname="/",
        assets_folder=str(PROJECT_ROOT / "assets"),
        serve_locally=True,
        title="dashapp",
        update_title=None,
        suppress_callback_exceptions=True,
        on_error=_refuse_bad_input,
    )
    app.layout = _shell_for_request
    register_all(app)
    server.after_request(_missing_page_status)
    _finish_setup(app, server)
    # After every callback is registered: the hashes cover Dash's inline scripts.
    init_security_headers(server, server.extensions["dashapp.settings"], app.csp_hashes())
    server.before_request(limit_callbacks)
    server.before_request(check_callback_body)
    server.register_error_handler(DashException, _refuse_mismatch)
    server.extensions["dashapp.dash"] = app
    return app


def _finish_setup(app: Dash, server: Flask) -> None:
    """Do Dash's one-time server setup now rather than on the first request.

    Dash sets its "done" flag before it registers the script paths it will serve, so on
    a fresh threaded worker the first concurrent requests for scripts raced the setup
    and failed with 500s (a blank page for whoever opened it first).
    """
    with server.test_request_context("/"):
        app._setup_server()


CALLBACK_PATH = "/_dash-update-component"


def limit_callbacks() -> Response | None:
    """DASH_RATE_LIMIT on Dash's callback route, per user (else client address): every
    panel request is a query, so scripts cannot hammer the database through the page."""
    if request.path != CALLBACK_PATH:
        return None
    limiter = current_app.extensions["dashapp.limiter"].limiter
    key = current_username() or request.remote_addr or "unknown"
    try:
        limits = parse_many(current_settings().dash_rate_limit)
        exceeded = hit_all(limiter, limits, limit_scope("dash"), key)
        if exceeded is None:
            return None
        reset_at, _ = limiter.get_window_stats(exceeded, limit_scope("dash"), key)
    except Exception:  # the limit store is down: the page keeps working
        return None
    response = Response("Too many requests: wait a moment.", 429, mimetype="text/plain")
    response.headers["Retry-After"] = str(max(1, math.ceil(reset_at - time.time())))
    return response


def check_callback_body(app: Dash | None = None) -> Response | None:
    """Refuse (400) a callback request whose body is not the renderer's shape or names a
    callback the app does not have; Dash itself would fail on it with a 500."""
    if request.path != CALLBACK_PATH or request.method != "POST":
        return None
    body = request.get_json(silent=True)
    callbacks = (app or current_app.extensions["dashapp.dash"]).callback_map
    problem = None
    if not isinstance(body, dict):
        problem = "the body is not a JSON object"
    elif "callback" not in callbacks.get(str(body.get("output")), {}):
        problem = "no such callback on the server"  # unknown, or one run in the browser
    elif not isinstance(body.get("outputs"), dict | list):
        problem = "outputs is missing"
    elif any(not isinstance(body.get(key, []), list) for key in ("inputs", "state")):
        problem = "inputs and state must be lists"
    elif not isinstance(changed := body.get("changedPropIds", []), list) or not all(
        isinstance(item, str) for item in changed
    ):
        problem = "changedPropIds must be a list of names"
    if problem is None:
        return None
    return Response(f"Bad callback request: {problem}.", 400, mimetype="text/plain")


def _refuse_bad_input(error: Exception) -> Any:
    """A callback failed on input the page never sends (a crafted request): 400, logged.
    Anything else (a database failure, a bug) still fails loudly."""
    if isinstance(error, CommandError):
        _refuse(error, error.status)
    if isinstance(error, BAD_INPUT):
        _refuse(error, 404 if isinstance(error, DashboardNotFound) else 400)
    raise error


def _refuse(error: Exception, status: int) -> NoReturn:
    log.warning(
        "callback %s refused: %s: %s",
        (request.get_json(silent=True) or {}).get("output", "?"),
        type(error).__name__,
        str(error)[:200],
    )
    abort(Response(f"Refused: {type(error).__name__}.", status, mimetype="text/plain"))


def _refuse_mismatch(error: DashException) -> Response:
    """Dash found the request and the callback's answer disagree (a crafted request
    naming fewer outputs than the page has): 400."""
    log.warning("callback request refused by Dash: %s", str(error)[:200])
    return Response(f"Refused: {type(error).__name__}.", 400, mimetype="text/plain")
