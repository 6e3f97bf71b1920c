"""Panel data: one pattern-matching callback per panel, so panels load in parallel.

A failing or slow query shows its message inside its own panel; the others carry on.
Auto-refresh of a timeseries panel sends only the new points (a ``dash.Patch``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from dash import ALL, MATCH, Dash, Input, Output, State, ctx, html, no_update
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from callbacks.trusted import PanelProblem, check_cost, resolve
from dashapp.core.panel_data import PanelData, max_points
from dashapp.core.spec import TimeseriesPanel
from dashapp.core.timerange import TimeRange, resolve_range
from dashapp.core.zones import zone_info
from dashapp.settings import current_settings
from db.cached import panel_query
from db.engine import is_timeout
from db.panels import load_panel
from layouts import ids, live
from layouts.annotations import with_annotations
from layouts.figures import render_figure
from layouts.tables import header_classes, next_sort, sort_rows, table_body, table_rows
from layouts.theme import empty_figure

log = logging.getLogger(__name__)
TAIL_MAX_POINTS = 1_000_000  # with the interval forced to the step, this never binds
VIEW_INPUTS = (
    Input(ids.TIME_RANGE, "data"),
    Input(ids.VARIABLES, "data"),
    Input(ids.AUTO_REFRESH, "n_intervals"),
    Input(ids.REFRESH_BUTTON, "n_clicks"),
    Input(ids.THEME, "data"),
    State(ids.VIEWPORT, "data"),
)


def register(app: Dash) -> None:
    """Re-query panels when the view changes, on refresh, and on theme changes."""

    def part(kind: str) -> dict[str, Any]:
        return {"type": kind, ids.CHART_KEY: MATCH}

    def table_part(kind: str) -> dict[str, Any]:
        return {"type": kind, ids.TABLE_KEY: MATCH}

    app.callback(
        Output(part(ids.PANEL_GRAPH), "figure"),
        Output(part(ids.PANEL_STATUS), "children"),
        Output(part(ids.PANEL_NOTE), "children"),
        Output(part(ids.PANEL_META), "data"),
        *VIEW_INPUTS,
        Input(ids.ANNOTATIONS, "data"),
        State(part(ids.PANEL_SPEC), "data"),
        State(part(ids.PANEL_META), "data"),
    )(update_chart)
    sort_buttons = {"type": ids.PANEL_SORT, ids.TABLE_KEY: MATCH, "column": ALL}
    app.callback(
        Output(table_part(ids.PANEL_TABLE), "children"),
        Output(table_part(ids.PANEL_STATUS), "children"),
        Output(table_part(ids.PANEL_NOTE), "children"),
        Output(table_part(ids.PANEL_SORT_STATE), "data"),
        Output(sort_buttons, "className"),
        Input(sort_buttons, "n_clicks"),
        *VIEW_INPUTS,
        State(table_part(ids.PANEL_SPEC), "data"),
        State(table_part(ids.PANEL_SORT_STATE), "data"),
    )(update_table)


def update_chart(
    time_range: dict[str, str],
    variables: dict[str, list[str]] | None,
    _ticks: int | None,
    _clicks: int | None,
    theme: str | None,
    viewport: int | None,
    annotations: list[dict[str, Any]] | None,
    panel_document: dict[str, Any],
    meta: dict[str, Any] | None,
) -> tuple[Any, Any, Any, Any]:
    """Draw a chart panel, or append new points to it on an auto-refresh tick."""
    theme = theme or "light"
    grace = live_grace()
    try:
        panel, window, variables = panel_request(panel_document, time_range, variables, viewport)
        known = live.parse_meta(meta) if grace is not None else None
        if known is not None and isinstance(panel, TimeseriesPanel):
            zone = _zone(time_range)
            patched = _tail_patch(panel, known, window, variables, zone, grace, viewport)
            if patched is not None:
                patch, new_meta = patched
                return patch, no_update, no_update, new_meta
        data = guard_query(lambda: load_panel(panel, window, variables, viewport, grace))
    except PanelProblem as problem:
        return empty_figure(theme), _message(str(problem), problem.kind), "", None
    if data.empty:
        return empty_figure(theme), _message(data.empty_note, "info"), "", None
    # Freshness is judged at the end of the chosen range: a past range is not "stale".
    zone = _zone(time_range)
    figure = render_figure(panel, data, theme, min(window.end, datetime.now(UTC)), zone)
    if isinstance(panel, TimeseriesPanel):
        figure = with_annotations(figure, annotations, panel.id, zone)
    return figure, None, _hidden_note(data), live.figure_meta(data.results)


def _zone(time_range: Any) -> str:
    zone = time_range.get("tz") if isinstance(time_range, dict) else None
    return zone if isinstance(zone, str) and zone else "UTC"


def _tail_patch(
    panel: TimeseriesPanel,
    meta: live.PanelMeta,
    window: TimeRange,
    variables: dict[str, list[str]] | None,
    zone: str,
    grace: float,
    viewport: int | None,
) -> Any:
    """The points that arrived since the chart was drawn, as a Patch (None: redraw). The
    server sizes it: the tail queries start at the last drawn bucket inside the window,
    and a patch past CALLBACK_COST_LIMIT points is a (cost-checked) redraw instead."""
    plans = live.tail_plans(panel, meta, window, max_points(panel, viewport))
    if plans is None:
        return None
    tails = guard_query(
        lambda: [
            panel_query(
                plan.query,
                plan.time_range,
                TAIL_MAX_POINTS,
                variables=variables,
                series_limit=panel.options.series_limit,
                prefer_m4=panel.options.style in ("line", "points"),
                tail_grace=grace,
            )
            for plan in plans
        ]
    )
    if live.tail_size(plans, meta, tails) > current_settings().callback_cost_limit:
        return None
    return live.tail_patch(panel, meta, plans, tails, zone)


def update_table(
    _sort_clicks: list[int | None],
    time_range: dict[str, str],
    variables: dict[str, list[str]] | None,
    _ticks: int | None,
    _clicks: int | None,
    _theme: str | None,
    viewport: int | None,
    panel_document: dict[str, Any],
    sort: dict[str, Any] | None,
) -> tuple[Any, ...]:
    """Fill a table panel, one row per series, in the order its header was clicked to."""
    trigger = ctx.triggered_id
    if isinstance(trigger, dict) and trigger.get("type") == ids.PANEL_SORT:
        sort = next_sort(sort, trigger["column"])
    classes = header_classes(sort)
    try:
        panel, window, variables = panel_request(panel_document, time_range, variables, viewport)
        grace = live_grace()
        data = guard_query(lambda: load_panel(panel, window, variables, viewport, grace))
    except PanelProblem as problem:
        return [], _message(str(problem), problem.kind), "", sort, classes
    if data.empty:
        return [], _message(data.empty_note, "info"), "", sort, classes
    rows = sort_rows(table_rows(panel, data.reductions), sort)
    return table_body(panel, rows), None, _hidden_note(data), sort, classes


def live_grace() -> float | None:
    """``LIVE_TAIL_GRACE`` for a request an auto-refresh tick made (viewers of a watched
    dashboard share one recomputation of its newest blocks per grace period), else None:
    loads, range changes and the refresh button read the newest points."""
    if ctx.triggered_id != ids.AUTO_REFRESH:
        return None
    return current_settings().live_tail_grace


def panel_request(
    source: dict[str, Any] | None,
    time_range: dict[str, str] | None,
    variables: dict[str, list[str]] | None,
    viewport: int | None,
) -> tuple[Any, TimeRange, dict[str, list[str]]]:
    """What a panel request may run: the panel (loaded by reference, or an editor's
    draft), the resolved time range and the checked variables; PanelProblem if refused."""
    panel, checked = resolve(source, variables)
    check_cost(panel, viewport)
    return panel, parse_window(time_range), checked


def parse_window(time_range: dict[str, str] | None) -> TimeRange:
    """The resolved time range, or a PanelProblem saying what is wrong with it."""
    try:
        zone = zone_info(time_range.get("tz") or "UTC")  # type: ignore[union-attr]
        return resolve_range(time_range["from"], time_range["to"], zone=zone)  # type: ignore[index]
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise PanelProblem(f"Invalid time range: {error}") from None


def guard_query(load: Callable[[], Any]) -> Any:
    """Run a query, turning database failures into messages for the panel."""
    try:
        return load()
    except OperationalError as error:
        log.warning("panel query failed: %s", error)
        if is_timeout(error):
            raise PanelProblem(
                "Query timed out: narrow the time range or the series, or try again."
            ) from None
        raise PanelProblem("Query failed: the database is unreachable right now.") from None
    except SQLAlchemyError as error:
        log.exception("panel query failed")
        raise PanelProblem(f"Query failed: {type(error).__name__}") from None


def _hidden_note(data: PanelData) -> str:
    return f"{data.hidden} more series hidden" if data.hidden else ""


def _message(text: str, kind: str) -> html.Div:
    return html.Div(text, className=f"panel-message {kind}")
