"""The dashboard page: toolbar with time controls, then the panel grid."""

from __future__ import annotations

from dash import dcc, html

from dashapp.spec import DashboardSpec
from db.dashboards import Dashboard
from layouts import ids
from layouts.panels import panel_grid

TIME_PRESETS = [
    ("Last 15 minutes", "now-15m"),
    ("Last 1 hour", "now-1h"),
    ("Last 6 hours", "now-6h"),
    ("Last 24 hours", "now-24h"),
    ("Last 7 days", "now-7d"),
    ("Last 30 days", "now-30d"),
]


def time_preset_options(current_from: str) -> list[dict[str, str]]:
    """Preset choices, plus the current range when it is not one of them."""
    options = [{"label": label, "value": value} for label, value in TIME_PRESETS]
    if current_from not in {value for _, value in TIME_PRESETS}:
        options.append({"label": current_from, "value": current_from})
    return options


def dashboard_page(
    dashboard: Dashboard, spec: DashboardSpec, time_from: str, time_to: str
) -> html.Div:
    """A dashboard: title, tags, time picker, refresh, and its panels on the grid."""
    return html.Div(
        className="dashboard",
        children=[
            dcc.Store(id=ids.DASHBOARD_SLUG, data=dashboard.slug),
            dcc.Store(id=ids.TIME_RANGE, data={"from": time_from, "to": time_to}),
            html.Div(
                className="toolbar",
                children=[
                    html.Div(
                        className="toolbar-title",
                        children=[
                            html.H1(spec.title),
                            html.Div(
                                className="tags",
                                children=[html.Span(t, className="tag") for t in spec.tags],
                            ),
                        ],
                    ),
                    html.Div(
                        className="toolbar-controls",
                        children=[
                            dcc.Dropdown(
                                id=ids.TIME_PRESET,
                                options=time_preset_options(time_from),
                                value=time_from,
                                clearable=False,
                                searchable=False,
                                className="time-preset",
                            ),
                            html.Button("Refresh", id=ids.REFRESH_BUTTON, className="button"),
                        ],
                    ),
                ],
            ),
            panel_grid(spec),
        ],
    )
