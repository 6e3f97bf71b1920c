"""The home page: every dashboard with its title, tags and a link."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import dcc, html

from dashapp.core.records import DashboardSummary
from layouts import ids


def dashboard_list(
    dashboards: Sequence[DashboardSummary], can_edit: bool = False, extra: Any = None
) -> html.Div:
    """Cards linking to each dashboard (or a hint when there is none), with the editors'
    New and Import buttons and, for admins, the deleted dashboards."""
    actions = (
        [
            dcc.Link("New dashboard", href="/new", className="button primary", id="new-dashboard"),
            dcc.Link("Import", href="/import", className="button", id="import-dashboard"),
        ]
        if can_edit
        else []
    )
    header = html.Div(className="toolbar", children=[html.H1("Dashboards"), *actions])
    if not dashboards:
        body: Any = html.Div(
            className="empty-state",
            children=[
                html.H2("No dashboards yet"),
                html.P("Create one, import a JSON file, or run `dashapp seed-demo`."),
            ],
        )
        return html.Div(className="home", children=[header, body, extra])
    search = dcc.Input(
        id=ids.HOME_SEARCH,
        type="search",
        placeholder="Filter by title or tag",
        debounce=0.2,
        autoComplete="off",
        className="home-search",
    )
    body = html.Div(id=ids.HOME_LIST, children=dashboard_cards(dashboards))
    return html.Div(className="home", children=[header, search, body, extra])


def dashboard_cards(dashboards: Sequence[DashboardSummary], search: str = "") -> Any:
    """The list of dashboard cards, or a line saying nothing matches ``search``."""
    if not dashboards and search.strip():
        return html.P(f"No dashboard matches “{search.strip()}”.", className="muted")
    if not dashboards:
        return html.P("No dashboards yet.", className="muted")
    return html.Ul(className="dashboard-list", children=[_card(d) for d in dashboards])


def _card(dashboard: DashboardSummary) -> html.Li:
    return html.Li(
        className="dashboard-card",
        children=[
            dcc.Link(dashboard.title, href=f"/d/{dashboard.slug}", className="dashboard-link"),
            html.Div(
                className="tags",
                children=[html.Span(tag, className="tag") for tag in dashboard.tags],
            ),
            html.Div(
                f"{dashboard.panel_count} panels · version {dashboard.version}",
                className="muted",
            ),
        ],
    )
