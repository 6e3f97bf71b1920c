"""HTTP status codes for Dash pages: a missing dashboard (or unknown path) is a 404.

Dash serves the same HTML shell for every path and draws the page in a callback, so
without this every address answered 200; crawlers, monitors and link checkers could
not tell a deleted dashboard from a live one.
"""

from __future__ import annotations

from flask import Flask, Response, request
from sqlalchemy.exc import SQLAlchemyError

from callbacks.router import DASHBOARD_PATH
from dashapp.extensions import database
from db import dashboards

STATIC_PAGES = frozenset({"/", "/new", "/import"})


def _page_exists(path: str) -> bool:
    if path in STATIC_PAGES:
        return True
    match = DASHBOARD_PATH.match(path)
    if match is None:
        return False
    try:
        with database.transaction() as session:
            dashboards.get_dashboard(session, match.group(1))
    except dashboards.DashboardNotFound:
        return False
    except SQLAlchemyError:
        return True  # the page itself says the database is down
    return True


def page_status(response: Response) -> Response:
    """404 for the HTML shell of a page that does not exist (its callback says so too)."""
    if (
        request.method == "GET"
        and response.status_code == 200
        and response.mimetype == "text/html"
        and not request.path.startswith(("/_", "/assets/", "/api/", "/login", "/logout"))
        and not _page_exists(request.path)
    ):
        response.status_code = 404
    return response


def init_app(app: Flask) -> None:
    """Give missing pages a 404 status."""
    app.after_request(page_status)
