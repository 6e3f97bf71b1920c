"""The Explore page: find metrics in the catalog, chart several with the panel engine,
and (editors) add the chart to a dashboard."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import dcc, html

from dashapp.core.explore import AGGREGATIONS, ExploreState
from dashapp.core.records import DashboardSummary
from dashapp.core.results import SeriesInfo
from layouts import ids
from layouts.timepicker import TIME_PRESETS, preset_range
from layouts.units import format_value

PICK = "explore-pick"


def explore_page(
    state: ExploreState,
    metrics: Sequence[str],
    label_keys: Sequence[str],
    dashboards: Sequence[DashboardSummary] | None,
) -> html.Div:
    """Search and results on top, the chart's controls and the chart below; a dashboard
    picker when ``dashboards`` is given (editors)."""
    presets = [
        {"label": label, "value": value}
        for label, value in TIME_PRESETS
        if preset_range(value)["to"] == "now"
    ]
    preset = state.time_from if state.time_to == "now" else None
    groupings = [
        {"label": "one line per source", "value": "source"},
        {"label": "one line per metric", "value": "none"},
        *({"label": f"one line per {k}", "value": k} for k in label_keys),
    ]
    return html.Div(
        className="explore",
        children=[
            dcc.Location(id=ids.EXPLORE_URL, refresh="callback-nav"),
            html.Div(className="toolbar", children=[html.H1("Explore")]),
            dcc.Input(
                id=ids.EXPLORE_SEARCH,
                type="search",
                debounce=0.3,
                className="home-search",
                placeholder="Search metrics: name, source:web-1, region=eu",
            ),
            html.Div(id=ids.EXPLORE_RESULTS, className="explore-results"),
            html.Div(
                className="explore-controls",
                children=[
                    dcc.Dropdown(
                        id=ids.EXPLORE_METRICS,
                        options=list(metrics),
                        value=state.metrics,
                        multi=True,
                        placeholder="metrics to chart",
                        className="explore-metrics",
                    ),
                    dcc.Input(
                        id=ids.EXPLORE_SOURCE,
                        value=state.source,
                        debounce=True,
                        placeholder="source (web-*)",
                        className="text-input",
                    ),
                    dcc.Dropdown(
                        id=ids.EXPLORE_AGG,
                        options=list(AGGREGATIONS),
                        value=state.agg,
                        clearable=False,
                        className="explore-agg",
                    ),
                    dcc.Dropdown(
                        id=ids.EXPLORE_GROUP,
                        options=groupings,
                        value=state.group_by,
                        clearable=False,
                        className="explore-group",
                    ),
                    dcc.Dropdown(
                        id=ids.EXPLORE_RANGE,
                        options=presets,
                        value=preset,
                        clearable=False,
                        placeholder="custom range",
                        className="time-preset",
                    ),
                ],
            ),
            html.Div(id=ids.EXPLORE_STATUS, className="explore-status"),
            html.Div(
                className="panel explore-chart",
                children=dcc.Graph(
                    id=ids.EXPLORE_GRAPH, className="panel-graph", config={"displaylogo": False}
                ),
            ),
            *([] if dashboards is None else [add_to_dashboard(dashboards)]),
        ],
    )


def add_to_dashboard(dashboards: Sequence[DashboardSummary]) -> html.Div:
    """Editors: the chart as a new panel of a chosen dashboard."""
    return html.Div(
        className="admin-form explore-add",
        children=[
            dcc.Dropdown(
                id=ids.EXPLORE_DASHBOARD,
                placeholder="dashboard",
                options=[{"label": d.title, "value": d.slug} for d in dashboards],
                className="explore-dashboard",
            ),
            html.Button("Add to dashboard", id=ids.EXPLORE_ADD, className="button primary"),
            html.Div(id=ids.EXPLORE_ADDED),
        ],
    )


def catalog_results(found: Sequence[SeriesInfo], query: str, more: bool) -> Any:
    """Matching series: metric, source, labels, newest value and when; "+ Chart" adds
    the metric to the chart."""
    if not query:
        return None
    if not found:
        return html.P(f"No series matches “{query}”.", className="muted")
    counts: dict[str, int] = {}
    for info in found:
        counts[info.name] = counts.get(info.name, 0) + 1
    rows = [
        html.Tr(
            [
                html.Td(
                    html.Button(
                        "+ Chart", id={"type": PICK, "metric": info.name}, className="button"
                    )
                ),
                html.Td(info.name),
                html.Td(info.source),
                html.Td(", ".join(f"{k}={v}" for k, v in sorted(info.labels.items()))),
                html.Td(format_value(info.last_value, "short"), className="numeric"),
                html.Td(info.last_ts.strftime("%Y-%m-%d %H:%M:%S UTC") if info.last_ts else "—"),
            ]
        )
        for info in found
    ]
    summary = ", ".join(f"{name}: {n} series" for name, n in counts.items())
    header = ["", "Metric", "Source", "Labels", "Last value", "Last seen"]
    return html.Div(
        children=[
            html.P(summary + (" (first matches only)" if more else ""), className="muted"),
            html.Div(
                className="table-scroll-x",
                children=html.Table(
                    className="data-table",
                    children=[html.Thead(html.Tr([html.Th(h) for h in header])), html.Tbody(rows)],
                ),
            ),
        ]
    )
