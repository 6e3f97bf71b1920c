"""The Dash app, mounted on the Flask server at ``/``."""

from __future__ import annotations

import math
import time

from dash import Dash
from flask import Flask, Response, current_app, request
from flask_wtf.csrf import generate_csrf
from limits import parse_many

from callbacks import register_all
from callbacks.router import page_exists
from dashapp import PROJECT_ROOT
from dashapp.api.limits import hit_all, limit_scope
from dashapp.auth import current_role, current_username
from dashapp.security import init_security_headers
from dashapp.settings import current_settings
from layouts.shell import app_shell


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
    )
    app.layout = _shell_for_request
    register_all(app)
    server.after_request(_missing_page_status)
    _finish_setup(app, server)
    # After every callback is registered: the hashes cover Dash's inline scripts.
    init_security_headers(server, server.extensions["dashapp.settings"], app.csp_hashes())
    server.before_request(limit_callbacks)
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
