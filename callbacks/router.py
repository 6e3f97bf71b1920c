"""URL -> page. Thin: parse the path, read through repositories, build the layout."""

from __future__ import annotations

import re

from dash import Dash, Input, Output, State, html
from sqlalchemy.exc import SQLAlchemyError

from dashapp.extensions import database
from dashapp.spec import SpecError, parse_spec
from dashapp.view_state import default_view, parse_view
from db import dashboards
from db.cached import variable_values
from layouts import ids
from layouts.dashboard import dashboard_page
from layouts.home import dashboard_list
from layouts.shell import error_page, not_found

DASHBOARD_PATH = re.compile(r"^/d/([a-z0-9][a-z0-9-]*)/?$")


def register(app: Dash) -> None:
    """Route every path change to a page layout."""
    app.callback(
        Output(ids.PAGE, "children"),
        Input(ids.URL, "pathname"),
        State(ids.URL, "search"),
    )(render_page)


def render_page(pathname: str | None, search: str | None) -> html.Div:
    """The page for ``pathname``; the query string carries the view (range, variables)."""
    path = pathname or "/"
    try:
        if path == "/":
            with database.transaction() as session:
                return dashboard_list(dashboards.list_dashboards(session))
        match = DASHBOARD_PATH.match(path)
        if not match:
            return not_found(path)
        with database.transaction() as session:
            dashboard = dashboards.get_dashboard(session, match.group(1))
        spec = parse_spec(dashboard.spec)
        choices = {v.name: variable_values(v.key, v.metric) for v in spec.variables}
    except dashboards.DashboardNotFound:
        return not_found(path)
    except SpecError as error:
        return error_page(f"This dashboard's spec is invalid: {error}")
    except SQLAlchemyError:
        return error_page("The database is unreachable right now; try again in a moment.")
    view = parse_view(search, default_view(spec))
    return dashboard_page(dashboard, spec, view, choices)
