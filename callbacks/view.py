"""The dashboard's view state: time range, refresh and variables, mirrored in the URL.

One callback owns every control that changes the view, so each change is applied in
one place, written to the URL (a browser history entry), and read back from the URL
when the analyst presses the browser's back or forward button.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate
from flask import request

from dashapp.core.timerange import resolve_range
from dashapp.core.view_state import (
    ALL_CHOICE,
    ViewState,
    absolute,
    clean_variables,
    parse_view,
    refresh_interval_ms,
    view_search,
    zoomed_out,
)
from layouts import ids
from layouts.timepicker import CUSTOM, preset_value

HISTORY_LIMIT = 20
VARIABLE_VALUES = {"type": ids.VARIABLE, "name": ALL}
VARIABLES_INPUT = 8  # position of the variable dropdowns among the callback's inputs


def register(app: Dash) -> None:
    """Wire the time, refresh and variable controls to the view stores and the URL."""
    app.callback(
        Output(ids.TIME_RANGE, "data"),
        Output(ids.TIME_HISTORY, "data"),
        Output(ids.VARIABLES, "data"),
        Output(ids.VIEW_URL, "search"),
        Output(ids.TIME_PRESET, "value"),
        Output(ids.TIME_FROM, "value"),
        Output(ids.TIME_TO, "value"),
        Output(ids.REFRESH_PICKER, "value"),
        Output(ids.AUTO_REFRESH, "interval"),
        Output(ids.AUTO_REFRESH, "disabled"),
        Output(VARIABLE_VALUES, "value"),
        Output(ids.TIME_ERROR, "children"),
        Output(ids.SHARE_URL, "children"),
        Input(ids.VIEW_URL, "search"),
        Input(ids.TIME_PRESET, "value"),
        Input(ids.TIME_APPLY, "n_clicks"),
        Input(ids.TIME_FROM, "n_submit"),
        Input(ids.TIME_TO, "n_submit"),
        Input(ids.ZOOM_OUT, "n_clicks"),
        Input(ids.BACK, "n_clicks"),
        Input(ids.REFRESH_PICKER, "value"),
        Input(VARIABLE_VALUES, "value"),
        Input({"type": ids.PANEL_GRAPH, "panel": ALL}, "relayoutData"),
        State(ids.TIME_FROM, "value"),
        State(ids.TIME_TO, "value"),
        State(ids.TIME_RANGE, "data"),
        State(ids.TIME_HISTORY, "data"),
        State(ids.VARIABLES, "data"),
        State(ids.VIEW_DEFAULTS, "data"),
        State(ids.VIEW_URL, "pathname"),
        prevent_initial_call=True,
    )(navigate)


def navigate(
    search: str | None,
    preset: str | None,
    _apply: int | None,
    _submit_from: int | None,
    _submit_to: int | None,
    _zoom_out: int | None,
    _back: int | None,
    refresh: str,
    variable_values: list[Any],
    _relayouts: list[Any],
    typed_from: str | None,
    typed_to: str | None,
    time_range: dict[str, str],
    history: list[dict[str, str]],
    variables: dict[str, list[str]],
    defaults: dict[str, Any],
    pathname: str,
) -> tuple[Any, ...]:
    """Apply whichever control fired, then publish the resulting view everywhere."""
    trigger = ctx.triggered_id
    current = ViewState(time_range["from"], time_range["to"], refresh, variables)
    history = list(history or [])
    error = ""
    if trigger == ids.VIEW_URL:
        new = parse_view(search, ViewState(**defaults))
    elif trigger == ids.TIME_PRESET:
        if preset in (None, CUSTOM):
            raise PreventUpdate
        new = _with_range(current, {"from": preset, "to": "now"})
    elif trigger in (ids.TIME_APPLY, ids.TIME_FROM, ids.TIME_TO):
        typed = {"from": _typed(typed_from), "to": _typed(typed_to)}
        try:
            resolve_range(typed["from"], typed["to"])
            new = _with_range(current, typed)
        except ValueError as problem:
            new, error = current, str(problem)
    elif trigger == ids.ZOOM_OUT:
        new = _with_range(current, zoomed_out(time_range, datetime.now(UTC)))
    elif trigger == ids.BACK:
        if not history:
            raise PreventUpdate
        new = _with_range(current, history.pop())
    elif trigger == ids.REFRESH_PICKER:
        new = ViewState(current.time_from, current.time_to, refresh, current.variables)
    elif isinstance(trigger, dict) and trigger.get("type") == ids.VARIABLE:
        names = [item["id"]["name"] for item in ctx.inputs_list[VARIABLES_INPUT]]
        chosen = {
            name: value if isinstance(value, list) else [value]
            for name, value in zip(names, variable_values, strict=True)
        }
        cleaned = clean_variables(chosen, current.variables)
        new = ViewState(current.time_from, current.time_to, refresh, cleaned)
    elif isinstance(trigger, dict) and trigger.get("type") == ids.PANEL_GRAPH:
        zoom = _zoomed_range(ctx.triggered[0]["value"])
        if zoom is None:
            raise PreventUpdate
        new = _with_range(current, zoom)
    else:
        raise PreventUpdate
    if trigger != ids.BACK and new.time_range != current.time_range:
        history = [*history, current.time_range][-HISTORY_LIMIT:]
    variable_inputs = ctx.inputs_list[VARIABLES_INPUT]
    return _publish(
        current, new, history, trigger == ids.VIEW_URL, error, pathname, variable_inputs
    )


def _with_range(view: ViewState, time_range: dict[str, str]) -> ViewState:
    return ViewState(time_range["from"], time_range["to"], view.refresh, view.variables)


def _typed(text: str | None) -> str:
    """A typed time: ``now-2h``, epoch milliseconds, or an ISO time stored as epoch ms."""
    value = (text or "").strip()
    if not value or value.startswith("now") or value.isdigit():
        return value
    try:
        return absolute(resolve_range(value, "now").start)
    except ValueError:
        return value  # resolve_range reports it


def _zoomed_range(relayout: dict[str, Any] | None) -> dict[str, str] | None:
    """The x range a zoom box selected (plotly sends UTC wall times without an offset)."""
    if not relayout or "xaxis.range[0]" not in relayout:
        return None
    start, end = (
        datetime.fromisoformat(str(relayout[f"xaxis.range[{i}]"])).replace(tzinfo=UTC)
        for i in (0, 1)
    )
    if end <= start:
        return None
    return {"from": absolute(start), "to": absolute(end)}


def _display(time: str) -> str:
    """How the from/to boxes show a time: relative as typed, absolute as ISO (UTC)."""
    if time.isdigit():
        return datetime.fromtimestamp(int(time) / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return time


def _publish(
    current: ViewState,
    new: ViewState,
    history: list[dict[str, str]],
    from_url: bool,
    error: str,
    pathname: str,
    variable_inputs: list[dict[str, Any]],
) -> tuple[Any, ...]:
    """Outputs for the new view; unchanged stores stay untouched so panels don't re-query."""

    def changed(value: Any, before: Any) -> Any:
        return value if value != before else no_update

    interval = refresh_interval_ms(new.refresh)
    search = view_search(new)
    selections = []
    for item in variable_inputs:
        values = new.variables.get(item["id"]["name"], [])
        multi = isinstance(item.get("value"), list)
        selections.append((values or [ALL_CHOICE]) if multi else (values or [ALL_CHOICE])[0])
    return (
        changed(new.time_range, current.time_range),
        history,
        changed(new.variables, current.variables),
        no_update if from_url else search,
        preset_value(new),
        _display(new.time_from),
        _display(new.time_to),
        new.refresh,
        interval or 60_000,
        interval is None,
        selections,
        error,
        request.host_url.rstrip("/") + pathname + search,
    )
