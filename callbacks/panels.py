"""Panel data: one pattern-matching callback per panel, so panels load in parallel."""

from __future__ import annotations

import logging
from typing import Any

from dash import MATCH, Dash, Input, Output, State, html
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from dashapp.panel_data import load_panel
from dashapp.spec import Panel
from dashapp.timerange import resolve_range
from db.engine import is_timeout
from layouts import ids
from layouts.figures import empty_figure, render_figure

log = logging.getLogger(__name__)
PANEL_ADAPTER: TypeAdapter[Any] = TypeAdapter(Panel)


def register(app: Dash) -> None:
    """Re-query a panel whenever the time range changes or Refresh is pressed."""
    app.callback(
        Output({"type": ids.PANEL_GRAPH, "panel": MATCH}, "figure"),
        Output({"type": ids.PANEL_STATUS, "panel": MATCH}, "children"),
        Input(ids.TIME_RANGE, "data"),
        Input(ids.REFRESH_BUTTON, "n_clicks"),
        State({"type": ids.PANEL_SPEC, "panel": MATCH}, "data"),
    )(update_panel)


def update_panel(
    time_range: dict[str, str], _clicks: int | None, panel_document: dict[str, Any]
) -> tuple[dict[str, Any], Any]:
    """Query the panel's data for the range and draw it, or explain inside the panel why not."""
    try:
        panel = PANEL_ADAPTER.validate_python(panel_document)
        window = resolve_range(time_range["from"], time_range["to"])
    except (ValidationError, ValueError, KeyError) as error:
        return empty_figure(), _message(f"Invalid panel or time range: {error}", "error")
    try:
        data = load_panel(panel, window)
    except OperationalError as error:
        log.warning("panel %s query failed: %s", panel.id, error)
        if is_timeout(error):
            text = "Query timed out: narrow the time range or the series, or try again."
        else:
            text = "Query failed: the database is unreachable right now."
        return empty_figure(), _message(text, "error")
    except SQLAlchemyError as error:
        log.exception("panel %s query failed", panel.id)
        return empty_figure(), _message(f"Query failed: {type(error).__name__}", "error")
    if data.empty:
        return empty_figure(), _message("No data in this time range", "info")
    return render_figure(panel, data), None


def _message(text: str, kind: str) -> html.Div:
    return html.Div(text, className=f"panel-message {kind}")
