"""Per-panel views: inspect (query, timing, points, CSV) and full screen."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from callbacks.panels import PanelProblem, guard_query, panel_request
from callbacks.trusted import resolve
from dashapp.core.export import panel_csv, panel_csv_wide, panel_unit
from db.panels import load_panel
from layouts import ids
from layouts.inspect import inspect_body
from layouts.panels import GRAPH_CONFIG
from layouts.tables import static_table

OPEN, CLOSED = "modal", "modal hidden"


def register(app: Dash) -> None:
    """Wire each panel's Inspect and full-screen buttons to the page's two modals."""
    app.callback(
        Output(ids.INSPECT_MODAL, "className"),
        Output(ids.INSPECT_BODY, "children"),
        Output(ids.INSPECT_PANEL, "data"),
        Input({"type": ids.PANEL_INSPECT, "panel": ALL}, "n_clicks"),
        Input(ids.INSPECT_CLOSE, "n_clicks"),
        State({"type": ids.PANEL_SPEC, ids.CHART_KEY: ALL}, "data"),
        State({"type": ids.PANEL_SPEC, ids.TABLE_KEY: ALL}, "data"),
        State(ids.TIME_RANGE, "data"),
        State(ids.VARIABLES, "data"),
        State(ids.VIEWPORT, "data"),
        prevent_initial_call=True,
    )(inspect)
    app.callback(
        Output(ids.INSPECT_DOWNLOAD, "data"),
        Input(ids.INSPECT_CSV, "n_clicks"),
        Input(ids.INSPECT_CSV_WIDE, "n_clicks"),
        State(ids.INSPECT_PANEL, "data"),
        State(ids.TIME_RANGE, "data"),
        State(ids.VARIABLES, "data"),
        State(ids.VIEWPORT, "data"),
        prevent_initial_call=True,
    )(download_csv)
    app.callback(
        Output(ids.FULLSCREEN_MODAL, "className"),
        Output(ids.FULLSCREEN_BODY, "children"),
        Output(ids.FULLSCREEN_TITLE, "children"),
        Input({"type": ids.PANEL_FULLSCREEN, "panel": ALL}, "n_clicks"),
        Input(ids.FULLSCREEN_CLOSE, "n_clicks"),
        State({"type": ids.PANEL_GRAPH, "panel": ALL}, "figure"),
        State({"type": ids.PANEL_TABLE, ids.TABLE_KEY: ALL}, "children"),
        State({"type": ids.PANEL_SPEC, ids.CHART_KEY: ALL}, "data"),
        State({"type": ids.PANEL_SPEC, ids.TABLE_KEY: ALL}, "data"),
        State(ids.VIEW_URL, "pathname"),
        State(ids.VIEW_URL, "search"),
        prevent_initial_call=True,
    )(fullscreen)


def _clicked_panel() -> str:
    """The panel whose button fired, or PreventUpdate when nothing was really clicked."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not ctx.triggered[0]["value"]:
        raise PreventUpdate
    return trigger["panel"]


def inspect(
    _clicks: list[int | None],
    _close: int | None,
    chart_documents: list[dict[str, Any]],
    table_documents: list[dict[str, Any]],
    time_range: dict[str, str],
    variables: dict[str, list[str]] | None,
    viewport: int | None,
) -> tuple[str, Any, Any]:
    """Open the inspect view for the clicked panel (its data comes from the cache)."""
    if ctx.triggered_id == ids.INSPECT_CLOSE:
        return CLOSED, [], no_update
    panel_id = _clicked_panel()
    documents = [*chart_documents, *table_documents]
    document = next((d for d in documents if isinstance(d, dict) and d.get("id") == panel_id), None)
    try:
        panel, window, variables = panel_request(document, time_range, variables, viewport)
        data = guard_query(lambda: load_panel(panel, window, variables, viewport))
    except PanelProblem as problem:
        return OPEN, [str(problem)], document
    return OPEN, inspect_body(panel, data), document


def download_csv(
    _clicks: int | None,
    _wide_clicks: int | None,
    document: dict[str, Any] | None,
    time_range: dict[str, str],
    variables: dict[str, list[str]] | None,
    viewport: int | None,
) -> dict[str, Any]:
    """The inspected panel's data as CSV: long (time, series, value) or wide (a column
    per series), by the button clicked."""
    if not document or not ctx.triggered or not ctx.triggered[0]["value"]:
        raise PreventUpdate
    try:
        panel, window, variables = panel_request(document, time_range, variables, viewport)
        data = guard_query(lambda: load_panel(panel, window, variables, viewport))
    except PanelProblem:
        raise PreventUpdate from None
    unit = panel_unit(panel)
    if ctx.triggered_id == ids.INSPECT_CSV_WIDE:
        wide = panel_csv_wide(data, unit)
        return dcc.send_string(wide, f"{panel.id}-wide.csv", type="text/csv")
    return dcc.send_string(panel_csv(data, unit), f"{panel.id}.csv", type="text/csv")


def fullscreen(
    _clicks: list[int | None],
    _close: int | None,
    figures: list[dict[str, Any] | None],
    table_bodies: list[Any],
    chart_documents: list[dict[str, Any]],
    table_documents: list[dict[str, Any]],
    pathname: str | None,
    search: str | None,
) -> tuple[str, Any, Any]:
    """Show the clicked panel's current chart or table at full size, titled, with a link
    (``?viewPanel=``) that opens it so."""
    if ctx.triggered_id == ids.FULLSCREEN_CLOSE:
        return CLOSED, [], ""
    panel_id = _clicked_panel()
    document = next((d for d in [*chart_documents, *table_documents] if d["id"] == panel_id), {})
    title = _title_with_link(_panel_title(document) or panel_id, pathname, search, panel_id)
    graph_ids = [s["id"]["panel"] for s in ctx.states_list[0]]
    if panel_id in graph_ids:
        figure = figures[graph_ids.index(panel_id)] or {}
        graph = dcc.Graph(
            figure=figure, config=GRAPH_CONFIG, className="fullscreen-graph", responsive=True
        )
        return OPEN, graph, title
    table_ids = [s["id"][ids.TABLE_KEY] for s in ctx.states_list[1]]
    body = html.Tbody(table_bodies[table_ids.index(panel_id)] or [])
    return OPEN, html.Div(static_table(body), className="fullscreen-table"), title


def _panel_title(source: dict[str, Any]) -> str | None:
    """The title of the panel a store refers to (stores hold references, not specs)."""
    if isinstance(source.get("draft"), dict):
        return source["draft"].get("title")
    try:
        panel, _ = resolve(source, None)
    except PanelProblem:
        return None
    return panel.title


def _title_with_link(title: str, pathname: str | None, search: str | None, panel: str) -> Any:
    params = [(k, v) for k, v in parse_qsl((search or "").lstrip("?")) if k != "viewPanel"]
    href = f"{pathname or '/'}?{urlencode([*params, ('viewPanel', panel)])}"
    return [title, " ", html.A("Link to this panel", href=href, className="fullscreen-link")]
