"""The dashboard's view state: time range, refresh and variables, mirrored in the URL.

One callback owns every control that changes the view, with one small handler per
control, so each change is applied in one place, written to the URL (a browser
history entry), and read back from the URL on the browser's back or forward button.
"""

from __future__ import annotations

from collections.abc import Callable
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
    check_view,
    clean_variables,
    refresh_interval_ms,
    view_problem_message,
    view_search,
    zoomed_out,
)
from layouts import ids
from layouts.timepicker import CUSTOM, preset_value

HISTORY_LIMIT = 20
VARIABLE_VALUES = {"type": ids.VARIABLE, "name": ALL}
Handler = Callable[[ViewState, dict[str, Any]], tuple[ViewState, str]]


def register(app: Dash) -> None:
    """Wire the time, refresh and variable controls to the view stores and the URL."""
    app.callback(
        output=dict(
            time_range=Output(ids.TIME_RANGE, "data"),
            history=Output(ids.TIME_HISTORY, "data"),
            variables=Output(ids.VARIABLES, "data"),
            search=Output(ids.VIEW_URL, "search"),
            preset=Output(ids.TIME_PRESET, "value"),
            shown_from=Output(ids.TIME_FROM, "value"),
            shown_to=Output(ids.TIME_TO, "value"),
            refresh=Output(ids.REFRESH_PICKER, "value"),
            interval=Output(ids.AUTO_REFRESH, "interval"),
            paused=Output(ids.AUTO_REFRESH, "disabled"),
            selections=Output(VARIABLE_VALUES, "value"),
            error=Output(ids.TIME_ERROR, "children"),
            share=Output(ids.SHARE_URL, "children"),
        ),
        inputs=dict(
            url=Input(ids.VIEW_URL, "search"),
            preset=Input(ids.TIME_PRESET, "value"),
            apply=Input(ids.TIME_APPLY, "n_clicks"),
            submit_from=Input(ids.TIME_FROM, "n_submit"),
            submit_to=Input(ids.TIME_TO, "n_submit"),
            zoom_out=Input(ids.ZOOM_OUT, "n_clicks"),
            back=Input(ids.BACK, "n_clicks"),
            refresh=Input(ids.REFRESH_PICKER, "value"),
            chosen=Input(VARIABLE_VALUES, "value"),
            relayouts=Input({"type": ids.PANEL_GRAPH, "panel": ALL}, "relayoutData"),
        ),
        state=dict(
            typed_from=State(ids.TIME_FROM, "value"),
            typed_to=State(ids.TIME_TO, "value"),
            time_range=State(ids.TIME_RANGE, "data"),
            history=State(ids.TIME_HISTORY, "data"),
            variables=State(ids.VARIABLES, "data"),
            defaults=State(ids.VIEW_DEFAULTS, "data"),
            choices=State(ids.VARIABLE_CHOICES, "data"),
            pathname=State(ids.VIEW_URL, "pathname"),
        ),
        prevent_initial_call=True,
    )(navigate)


def navigate(**args: Any) -> dict[str, Any]:
    """Apply whichever control fired (one handler per control), then publish the view."""
    trigger = ctx.triggered_id
    kind = trigger.get("type") if isinstance(trigger, dict) else trigger
    handler = HANDLERS.get(kind)
    if handler is None:
        raise PreventUpdate
    time_range = args["time_range"]
    current = ViewState(time_range["from"], time_range["to"], args["refresh"], args["variables"])
    history = list(args["history"] or [])
    if kind == ids.BACK:
        if not history:
            raise PreventUpdate
        args = {**args, "history": history}
    new, error = handler(current, args)
    if kind == ids.BACK:
        history.pop()
    elif new.time_range != current.time_range:
        history = [*history, current.time_range][-HISTORY_LIMIT:]
    return _publish(current, new, history, kind == ids.VIEW_URL, error, args["pathname"])


def _from_url(current: ViewState, args: dict[str, Any]) -> tuple[ViewState, str]:
    """The browser's back/forward (or a pasted link): the URL says what to show."""
    view, problems = check_view(args["url"], ViewState(**args["defaults"]), args["choices"])
    return view, view_problem_message(problems)


def _from_preset(current: ViewState, args: dict[str, Any]) -> tuple[ViewState, str]:
    preset = args["preset"]
    if preset in (None, CUSTOM):
        raise PreventUpdate
    return _with_range(current, {"from": preset, "to": "now"}), ""


def _from_typed(current: ViewState, args: dict[str, Any]) -> tuple[ViewState, str]:
    """Apply (or Enter in a box): the typed range, or an error under the boxes."""
    typed = {"from": _typed(args["typed_from"]), "to": _typed(args["typed_to"])}
    try:
        resolve_range(typed["from"], typed["to"])
    except ValueError as problem:
        return current, str(problem)
    return _with_range(current, typed), ""


def _from_zoom_out(current: ViewState, args: dict[str, Any]) -> tuple[ViewState, str]:
    return _with_range(current, zoomed_out(args["time_range"], datetime.now(UTC))), ""


def _from_back(current: ViewState, args: dict[str, Any]) -> tuple[ViewState, str]:
    return _with_range(current, args["history"][-1]), ""


def _from_refresh(current: ViewState, args: dict[str, Any]) -> tuple[ViewState, str]:
    return ViewState(current.time_from, current.time_to, args["refresh"], current.variables), ""


def _from_variables(current: ViewState, args: dict[str, Any]) -> tuple[ViewState, str]:
    """A variable dropdown changed: every dropdown's value, by the name in its id."""
    chosen = {
        item["id"]["name"]: item["value"] if isinstance(item["value"], list) else [item["value"]]
        for item in ctx.args_grouping["chosen"]
    }
    cleaned = clean_variables(chosen, current.variables)
    return ViewState(current.time_from, current.time_to, args["refresh"], cleaned), ""


def _from_zoom_box(current: ViewState, args: dict[str, Any]) -> tuple[ViewState, str]:
    zoom = _zoomed_range(ctx.triggered[0]["value"])
    if zoom is None:
        raise PreventUpdate
    return _with_range(current, zoom), ""


HANDLERS: dict[str, Handler] = {
    ids.VIEW_URL: _from_url,
    ids.TIME_PRESET: _from_preset,
    ids.TIME_APPLY: _from_typed,
    ids.TIME_FROM: _from_typed,
    ids.TIME_TO: _from_typed,
    ids.ZOOM_OUT: _from_zoom_out,
    ids.BACK: _from_back,
    ids.REFRESH_PICKER: _from_refresh,
    ids.VARIABLE: _from_variables,
    ids.PANEL_GRAPH: _from_zoom_box,
}


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
) -> dict[str, Any]:
    """Outputs for the new view; unchanged stores stay untouched so panels don't re-query."""

    def changed(value: Any, before: Any) -> Any:
        return value if value != before else no_update

    interval = refresh_interval_ms(new.refresh)
    search = view_search(new)
    selections = []
    for item in ctx.args_grouping["chosen"]:
        values = new.variables.get(item["id"]["name"], [])
        multi = isinstance(item.get("value"), list)
        selections.append((values or [ALL_CHOICE]) if multi else (values or [ALL_CHOICE])[0])
    return {
        "time_range": changed(new.time_range, current.time_range),
        "history": history,
        "variables": changed(new.variables, current.variables),
        "search": no_update if from_url else search,
        "preset": preset_value(new),
        "shown_from": _display(new.time_from),
        "shown_to": _display(new.time_to),
        "refresh": new.refresh,
        "interval": interval or 60_000,
        "paused": interval is None,
        "selections": selections,
        # A notice about the link stays until the view really changes.
        "error": error or ("" if new != current else no_update),
        "share": request.host_url.rstrip("/") + pathname + search,
    }
