"""The home page: every dashboard with its title, tags and a link."""

from __future__ import annotations

from collections.abc import Sequence

from dash import dcc, html

from db.dashboards import DashboardSummary


def dashboard_list(dashboards: Sequence[DashboardSummary]) -> html.Div:
    """Cards linking to each dashboard, or a hint when there is none yet."""
    if not dashboards:
        return html.Div(
            className="empty-state",
            children=[
                html.H1("No dashboards yet"),
                html.P("Run `dashapp seed-demo` or create one through POST /api/v1/dashboards."),
            ],
        )
    return html.Div(
        className="home",
        children=[
            html.H1("Dashboards"),
            html.Ul(
                className="dashboard-list",
                children=[_card(d) for d in dashboards],
            ),
        ],
    )


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
