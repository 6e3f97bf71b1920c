"""URL -> page. Thin: parse the path, read through repositories, build the layout."""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from dash import Dash, Input, Output, State, html
from sqlalchemy.exc import SQLAlchemyError

from callbacks import admin, explore
from callbacks.view import viewer_zones
from dashapp.auth import allowed, current_username
from dashapp.core.spec import SpecError, parse_spec
from dashapp.core.view_state import check_view, default_view, view_problem_message
from dashapp.core.zones import view_zone
from dashapp.extensions import database
from db import dashboards
from db.cached import catalog, variable_values
from db.migrate import is_unmigrated
from layouts import ids
from layouts.dashboard import dashboard_page
from layouts.history import history_page
from layouts.home import dashboard_cards, dashboard_list
from layouts.manage import create_page, deleted_section, import_page
from layouts.shell import error_page, forbidden, login_href, not_found

STATIC_PAGES = ("/", "/new", "/import", "/admin", "/explore")
DASHBOARD_PATH = re.compile(r"^/d/([a-z0-9][a-z0-9-]*)(/edit|/history)?/?$")


def register(app: Dash) -> None:
    """Route every path change to a page layout."""
    app.callback(
        Output(ids.PAGE, "children"),
        Input(ids.URL, "pathname"),
        State(ids.URL, "search"),
    )(render_page)
    app.callback(
        Output(ids.LOGIN_LINK, "href"),
        Input(ids.URL, "pathname"),
        Input(ids.URL, "search"),
    )(login_link)
    app.callback(
        Output(ids.HOME_LIST, "children"),
        Input(ids.HOME_SEARCH, "value"),
        prevent_initial_call=True,
    )(filter_dashboards)


def page_exists(path: str) -> bool:
    """Whether ``path`` names a page (for the HTTP status of the page's first load)."""
    if path in STATIC_PAGES:
        return True
    match = DASHBOARD_PATH.match(path)
    if not match:
        return False
    try:
        with database.transaction() as session:
            dashboards.get_dashboard(session, match.group(1))
    except dashboards.DashboardNotFound:
        return False
    except SQLAlchemyError:
        return True  # the page itself says the database is down
    return True


def login_link(pathname: str | None, search: str | None) -> str:
    """The header's "Log in" comes back to the page it was clicked on."""
    return login_href(pathname, search)


def filter_dashboards(search: str | None) -> object:
    """The home page's cards for the dashboards matching the search box."""
    try:
        with database.transaction() as session:
            listed = dashboards.list_dashboards(session, search or "")
    except SQLAlchemyError as error:
        return html.P(_database_problem(error))
    return dashboard_cards(listed, search or "")


def render_page(pathname: str | None, search: str | None) -> html.Div:
    """The page for ``pathname``; a dashboard's query string carries its view."""
    path = pathname or "/"
    try:
        if path == "/":
            return _home()
        if path == "/explore":
            return explore.page(search)
        if path == "/admin":
            if not allowed("admin"):
                return forbidden("admin", current_username(), path)
            return admin.page()
        if path in ("/new", "/import"):
            if not allowed("editor"):
                return forbidden("editor", current_username(), path)
            if path == "/import":
                return import_page()
            with database.transaction() as session:
                return create_page(dashboards.list_dashboards(session))
        match = DASHBOARD_PATH.match(path)
        if not match:
            return not_found(path)
        return _dashboard(match.group(1), match.group(2), search)
    except dashboards.DashboardNotFound:
        return not_found(path)
    except SpecError as error:
        return error_page(f"This dashboard's spec is invalid: {error}")
    except SQLAlchemyError as error:
        return error_page(_database_problem(error))


def _database_problem(error: SQLAlchemyError) -> str:
    if is_unmigrated(error):
        return "The database is not migrated: run `dashapp db upgrade`."
    return "The database is unreachable right now; try again in a moment."


def _home() -> html.Div:
    with database.transaction() as session:
        listed = dashboards.list_dashboards(session)
        deleted = dashboards.list_deleted(session) if allowed("admin") else []
    return dashboard_list(listed, can_edit=allowed("editor"), extra=deleted_section(deleted))


def _dashboard(slug: str, mode: str | None, search: str | None) -> html.Div:
    with database.transaction() as session:
        dashboard = dashboards.get_dashboard(session, slug)
        versions = dashboards.list_versions(session, slug) if mode == "/history" else []
    if mode == "/history":
        return history_page(dashboard, versions, allowed("editor"))
    editing = mode == "/edit"
    if editing and not allowed("editor"):
        return forbidden("editor", current_username(), f"/d/{slug}/edit")
    spec = parse_spec(dashboard.spec, stored=True)
    choices = {v.name: variable_values(v.key, v.metric) for v in spec.variables}
    view, problems = check_view(search, default_view(spec), choices)
    preference, browser = viewer_zones()
    return dashboard_page(
        dashboard,
        spec,
        view,
        choices,
        notice=view_problem_message(problems),
        zone=view_zone(view.tz, preference, spec.time.timezone, browser),
        browser_zone=browser,
        view_panel=parse_qs((search or "").lstrip("?")).get("viewPanel", [None])[0],
        can_edit=allowed("editor"),
        editing=editing,
        metrics=catalog()["metrics"] if editing else None,
    )
