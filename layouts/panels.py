"""Panel frames: header with actions, a chart/table/text body, status, and stores."""

from __future__ import annotations

from typing import Any

import dash_snap_grid
from dash import dcc, html

from dashapp.core.spec import DashboardSpec, TablePanel, TextPanel
from layouts import ids
from layouts.tables import UNSORTED, table_frame

ROW_HEIGHT = 30
GRID_MARGIN = 10
GRAPH_CONFIG = {
    "displaylogo": False,
    # The toolbar covered the top right of every chart: it shows while the pointer is on
    # the panel (see .react-grid-item in assets/app.css), zoom and reset buttons included.
    "displayModeBar": "hover",
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"],
    # Plotly's "double-click to zoom back out" tip covered the toolbar; double-click
    # zooms out (see callbacks.view), and Zoom out / Back are in the toolbar.
    "showTips": False,
    "doubleClick": "reset",
}
# Drawn until the data arrives: no axes or grid, so a dozen of them cost little.
PLACEHOLDER_FIGURE = {
    "data": [],
    "layout": {
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
    },
}
STATIC_CONFIG = {"displayModeBar": False, "responsive": True, "staticPlot": False}


Stored = tuple[str, int]
"""A saved dashboard version, ``(slug, version)``, whose panels a page shows."""


def stored_source(slug: str, version: int, panel_id: str) -> dict[str, Any]:
    """A panel store's data on a dashboard page: a reference to a saved panel, never its
    queries (the server loads them, so the browser cannot choose what runs)."""
    return {"id": panel_id, "dashboard": slug, "version": version}


def draft_source(panel_document: dict[str, Any], stored: Stored | None = None) -> dict[str, Any]:
    """A panel store's data in the editor: the unsaved spec (runs for editors only), and
    the saved version it was edited from (an unchanged panel runs as the saved one)."""
    source = {"id": panel_document.get("id"), "draft": panel_document}
    if stored is not None:
        source.update(dashboard=stored[0], version=stored[1])
    return source


def panel_frame(
    panel: Any, editing: bool = False, stored: Stored | None = None, saved_id: str | None = None
) -> html.Div:
    """One panel in the grid: a titled card whose body a callback fills with data.

    ``stored`` (the saved version shown) makes its data callback load the panel from
    the server (the saved panel ``saved_id``, by default the panel's own id: a full-screen
    copy has an id of its own); while ``editing`` (or without it) the panel is a draft.
    """
    header = _edit_header(panel) if editing else _header(panel)
    if stored is not None and not editing:
        source = stored_source(*stored, saved_id or panel.id)
    else:
        source = draft_source(panel.model_dump(mode="json", by_alias=True), stored)
    return html.Div(
        id=ids.grid_item(panel.id),
        className=f"panel panel-{panel.type}",
        children=[header, html.Div(className="panel-body", children=_body(panel, source))],
    )


def _edit_header(panel: Any) -> html.Div:
    """In edit mode the title is the drag handle and the actions edit the panel."""

    def action(label: str, kind: str, title: str) -> html.Button:
        return html.Button(
            label, id=ids.panel_part(kind, panel.id), className="panel-action", title=title
        )

    note = (
        []
        if isinstance(panel, TextPanel)
        else [
            html.Span(
                id=ids.panel_part(ids.PANEL_NOTE, panel.id, _key(panel)), className="panel-note"
            )
        ]
    )
    return html.Div(
        className="panel-header editing",
        children=[
            html.Span(panel.title or "(untitled)", className="panel-title", title="Drag to move"),
            *note,
            action("Edit", ids.PANEL_EDIT, "Edit this panel"),
            action("Duplicate", ids.PANEL_DUPLICATE, "Duplicate this panel"),
            action("Remove", ids.PANEL_REMOVE, "Remove this panel"),
        ],
    )


def _key(panel: Any) -> str:
    return ids.TABLE_KEY if isinstance(panel, TablePanel) else ids.CHART_KEY


def _header(panel: Any) -> html.Div:
    actions = []
    if not isinstance(panel, TextPanel):
        actions = [
            html.Span(
                id=ids.panel_part(ids.PANEL_NOTE, panel.id, _key(panel)), className="panel-note"
            ),
            html.Button(
                "⤢",
                id=ids.panel_part(ids.PANEL_FULLSCREEN, panel.id),
                className="panel-action",
                title="View full screen",
            ),
            html.Button(
                "Inspect",
                id=ids.panel_part(ids.PANEL_INSPECT, panel.id),
                className="panel-action",
                title="Query, timing, points and CSV download",
            ),
        ]
    info = (
        html.Span("ⓘ", className="panel-info", title=panel.description)
        if panel.description
        else None
    )
    return html.Div(
        className="panel-header",
        children=[html.Span(panel.title, className="panel-title"), info, *actions],
    )


def _body(panel: Any, source: dict[str, Any]) -> list[Any]:
    if isinstance(panel, TextPanel):
        return [
            dcc.Markdown(
                panel.options.content,
                className="panel-text",
                dangerously_allow_html=False,
                link_target="_blank",
            )
        ]
    if isinstance(panel, TablePanel):
        content: Any = table_frame(panel)
    else:
        content = dcc.Graph(
            id=ids.panel_graph(panel.id),
            figure=PLACEHOLDER_FIGURE,
            config=GRAPH_CONFIG
            if panel.type in ("timeseries", "bar", "heatmap")
            else STATIC_CONFIG,
            className="panel-graph",
            style={"height": "100%"},
        )
    key = _key(panel)
    parts = [
        html.Div(content, className="panel-content"),
        # Dash marks a callback's outputs with ``data-dash-is-loading``; the stylesheet turns
        # that into a spinner on the status overlay (a dcc.Loading per panel cost a dozen
        # panels about a tenth of their drawing time).
        html.Div(id=ids.panel_status(panel.id, key), className="panel-status"),
        dcc.Store(id=ids.panel_spec(panel.id, key), data=source),
    ]
    if key == ids.CHART_KEY:
        parts.append(dcc.Store(id=ids.panel_part(ids.PANEL_META, panel.id)))
    else:
        parts.append(
            dcc.Store(id=ids.panel_part(ids.PANEL_SORT_STATE, panel.id, key), data=UNSORTED)
        )
    return parts


def grid_children(
    spec: DashboardSpec, editing: bool = False, stored: Stored | None = None
) -> list[html.Div]:
    """The grid's panels (of the saved version ``stored``; drafts of it while editing), in
    reading order (top to bottom, left to right): a phone shows them as one column in
    this order."""
    ordered = sorted(spec.panels, key=lambda p: (p.grid.y, p.grid.x))
    return [panel_frame(panel, editing, stored) for panel in ordered]


def grid_layout(spec: DashboardSpec) -> list[dict[str, Any]]:
    """The grid's layout prop: one ``{i, x, y, w, h}`` item per panel."""
    return [
        {"i": ids.grid_item(p.id), "x": p.grid.x, "y": p.grid.y, "w": p.grid.w, "h": p.grid.h}
        for p in spec.panels
    ]


def panel_grid(
    spec: DashboardSpec, editable: bool = False, stored: Stored | None = None
) -> dash_snap_grid.Grid:
    """Every panel on the 24-column grid; dragging and resizing only when ``editable``."""
    return dash_snap_grid.Grid(
        id=ids.EDIT_GRID if editable else ids.PANEL_GRID,
        cols=24,
        rowHeight=ROW_HEIGHT,
        margin=[GRID_MARGIN, GRID_MARGIN],
        containerPadding=[0, 0],
        layout=grid_layout(spec),
        isDraggable=editable,
        isResizable=editable,
        compactType="vertical",
        draggableHandle=".panel-title",
        draggableCancel=".panel-action",
        children=grid_children(spec, editable, stored),
    )
