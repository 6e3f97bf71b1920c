"""Panel frames: header, chart or text body, status line, and the stored spec."""

from __future__ import annotations

from typing import Any

import dash_snap_grid
from dash import dcc, html

from dashapp.spec import DashboardSpec, TextPanel
from layouts import ids

ROW_HEIGHT = 30
GRID_MARGIN = 10
GRAPH_CONFIG = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["lasso2d", "select2d"],
}


def panel_frame(panel: Any) -> html.Div:
    """One panel in the grid: a titled card whose body a callback fills with data."""
    return html.Div(
        id=ids.grid_item(panel.id),
        className=f"panel panel-{panel.type}",
        children=[
            html.Div(
                className="panel-header",
                children=[
                    html.Span(panel.title, className="panel-title"),
                    html.Span("ⓘ", className="panel-info", title=panel.description)
                    if panel.description
                    else None,
                ],
            ),
            html.Div(className="panel-body", children=_body(panel)),
        ],
    )


def _body(panel: Any) -> list[Any]:
    if isinstance(panel, TextPanel):
        return [
            dcc.Markdown(
                panel.options.content,
                className="panel-text",
                dangerously_allow_html=False,
                link_target="_blank",
            )
        ]
    return [
        dcc.Loading(
            type="dot",
            parent_className="panel-loading",
            children=dcc.Graph(
                id=ids.panel_graph(panel.id),
                config=GRAPH_CONFIG,
                className="panel-graph",
                style={"height": "100%"},
            ),
        ),
        html.Div(id=ids.panel_status(panel.id), className="panel-status"),
        dcc.Store(id=ids.panel_spec(panel.id), data=panel.model_dump(mode="json", by_alias=True)),
    ]


def grid_layout(spec: DashboardSpec) -> list[dict[str, Any]]:
    """The grid's layout prop: one ``{i, x, y, w, h}`` item per panel."""
    return [
        {"i": ids.grid_item(p.id), "x": p.grid.x, "y": p.grid.y, "w": p.grid.w, "h": p.grid.h}
        for p in spec.panels
    ]


def panel_grid(spec: DashboardSpec, editable: bool = False) -> dash_snap_grid.Grid:
    """Every panel on the 24-column grid; dragging and resizing only when ``editable``."""
    return dash_snap_grid.Grid(
        id="panel-grid",
        cols=24,
        rowHeight=ROW_HEIGHT,
        margin=[GRID_MARGIN, GRID_MARGIN],
        containerPadding=[0, 0],
        layout=grid_layout(spec),
        isDraggable=editable,
        isResizable=editable,
        compactType="vertical",
        draggableHandle=".panel-header",
        children=[panel_frame(panel) for panel in spec.panels],
    )
