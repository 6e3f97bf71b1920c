"""The dashboard's view state: time range, refresh and variables, mirrored in the URL.

One callback owns every control that changes the view, with one small handler per
control, so each change is applied in one place, written to the URL (a browser
history entry), and read back from the URL on the browser's back or forward button.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from dash import ALL, Dash, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate
from flask import request

from dashapp.auth import current_timezone, current_username, ui_actor
from dashapp.commands import users as user_commands
from dashapp.core.timerange import parse_time, resolve_range
from dashapp.core.view_state import (
    ALL_CHOICE,
    ViewState,
    absolute,
    check_view,
    clean_variables,
    refresh_interval_ms,
    shifted,
    view_problem_message,
    view_search,
    zoomed_out,
)
from dashapp.core.zones import from_wall_clock, is_zone, view_zone, zone_info
from layouts import ids
from layouts.timepicker import CUSTOM, preset_range, preset_value, shown_time, zone_options

HISTORY_LIMIT = 20
ZONE_PREFERENCE_COOKIE = "tz_pref"  # the zone this viewer picked last
BROWSER_ZONE_COOKIE = "browser_tz"  # set by assets/zone.js from the browser's Intl API
ZONE_COOKIE_AGE = 365 * 86400
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
            zone=Output(ids.TIME_ZONE, "value"),
            zones=Output(ids.TIME_ZONE, "options"),
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
            zone=Input(ids.TIME_ZONE, "value"),
            calendar=Input(ids.TIME_CALENDAR, "end_date"),
            shortcut=Input(ids.TIME_SHORTCUT, "data"),
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
            zone_setting=State(ids.ZONE_SETTING, "data"),
            calendar_start=State(ids.TIME_CALENDAR, "start_date"),
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
    explicit = parse_qs((args["url"] or "").lstrip("?")).get("tz", [""])[0]
    current = ViewState(
        time_range["from"], time_range["to"], args["refresh"], args["variables"], explicit
    )
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
    return _publish(current, new, history, kind == ids.VIEW_URL, error, args)


def _from_url(current: ViewState, args: dict[str, Any]) -> tuple[ViewState, str]:
    """The browser's back/forward (or a pasted link): the URL says what to show."""
    view, problems = check_view(args["url"], ViewState(**args["defaults"]), args["choices"])
    return view, view_problem_message(problems)


def _from_preset(current: ViewState, args: dict[str, Any]) -> tuple[ViewState, str]:
    preset = args["preset"]
    if preset in (None, CUSTOM):
        raise PreventUpdate
    return _with_range(current, preset_range(preset)), ""


def _from_typed(current: ViewState, args: dict[str, Any]) -> tuple[ViewState, str]:
    """Apply (or Enter in a box): the typed range, or an error under the boxes."""
    zone = _shown_zone(args)
    typed = {"from": _typed(args["typed_from"], zone), "to": _typed(args["typed_to"], zone)}
    try:
        resolve_range(typed["from"], typed["to"], zone=zone_info(zone))
    except ValueError as problem:
        return current, str(problem)
    return _with_range(current, typed), ""


def _from_zoom_out(current: ViewState, args: dict[str, Any]) -> tuple[ViewState, str]:
    return _with_range(current, zoomed_out(args["time_range"], datetime.now(UTC))), ""


def _from_back(current: ViewState, args: dict[str, Any]) -> tuple[ViewState, str]:
    return _with_range(current, args["history"][-1]), ""


def _from_refresh(current: ViewState, args: dict[str, Any]) -> tuple[ViewState, str]:
    return replace(current, refresh=args["refresh"]), ""


def _from_variables(current: ViewState, args: dict[str, Any]) -> tuple[ViewState, str]:
    """A variable dropdown changed: every dropdown's value, by the name in its id."""
    chosen = {
        item["id"]["name"]: item["value"] if isinstance(item["value"], list) else [item["value"]]
        for item in ctx.args_grouping["chosen"]
    }
    cleaned = clean_variables(chosen, current.variables)
    return replace(current, refresh=args["refresh"], variables=cleaned), ""


def _from_zoom_box(current: ViewState, args: dict[str, Any]) -> tuple[ViewState, str]:
    relayout = ctx.triggered[0]["value"] or {}
    if relayout.get("xaxis.autorange"):  # a double-click on the chart: zoom out
        return _from_zoom_out(current, args)
    zoom = _zoomed_range(relayout, _shown_zone(args))
    if zoom is None:
        raise PreventUpdate
    return _with_range(current, zoom), ""


def _from_zone(current: ViewState, args: dict[str, Any]) -> tuple[ViewState, str]:
    """The zone picker: this view (and, remembered for this viewer, every view) in it."""
    picked = args["zone"]
    if not picked or picked == _shown_zone(args):
        raise PreventUpdate
    ctx.response.set_cookie(
        ZONE_PREFERENCE_COOKIE, picked, max_age=ZONE_COOKIE_AGE, samesite="Lax", path="/"
    )
    if current_username() is not None:  # logged in: the account keeps it, on every device
        user_commands.set_timezone(ui_actor(), picked)
    return replace(current, tz=picked), ""


def _from_calendar(current: ViewState, args: dict[str, Any]) -> tuple[ViewState, str]:
    """Whole days picked on the calendar, from the first midnight to after the last day,
    on the view's clock."""
    first, last = args["calendar_start"], args["calendar"]
    if not first or not last:
        raise PreventUpdate
    zone = zone_info(_shown_zone(args))
    start = datetime.fromisoformat(first[:10]).replace(tzinfo=zone)
    end = datetime.fromisoformat(last[:10]).replace(tzinfo=zone) + timedelta(days=1)
    return _with_range(current, {"from": absolute(start), "to": absolute(end)}), ""


def _from_shortcut(current: ViewState, args: dict[str, Any]) -> tuple[ViewState, str]:
    """t← / t→ (half the range back or forward) and t z (zoom out), from the keyboard."""
    action = (args["shortcut"] or {}).get("action")
    if action == "zoom-out":
        return _from_zoom_out(current, args)
    if action not in ("back", "forward"):
        raise PreventUpdate
    zone = zone_info(_shown_zone(args))
    moved = shifted(args["time_range"], -1 if action == "back" else 1, datetime.now(UTC), zone)
    if moved is None:
        raise PreventUpdate
    return _with_range(current, moved), ""


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
    ids.TIME_ZONE: _from_zone,
    ids.TIME_CALENDAR: _from_calendar,
    ids.TIME_SHORTCUT: _from_shortcut,
}


def viewer_zones() -> tuple[str | None, str | None]:
    """The viewer's own zone (their account's, else this browser's last pick) and the
    zone their browser reports."""
    preference = current_timezone() or request.cookies.get(ZONE_PREFERENCE_COOKIE)
    return preference, request.cookies.get(BROWSER_ZONE_COOKIE)


def _shown_zone(args: dict[str, Any]) -> str:
    """The zone the view is shown in now (typed and zoomed times are read in it)."""
    zone = (args["time_range"] or {}).get("tz") or "UTC"
    return zone if is_zone(zone) else "UTC"


def _with_range(view: ViewState, time_range: dict[str, str]) -> ViewState:
    return replace(view, time_from=time_range["from"], time_to=time_range["to"])


def _typed(text: str | None, zone: str) -> str:
    """A typed time: ``now-2h``, epoch milliseconds, or an ISO time (read on the view's
    clock unless it carries an offset) stored as epoch ms."""
    value = (text or "").strip()
    if not value or value.startswith("now") or value.isdigit():
        return value
    try:
        return absolute(parse_time(value, datetime.now(UTC), zone_info(zone)))
    except ValueError:
        return value  # resolve_range reports it


def _zoomed_range(relayout: dict[str, Any] | None, zone: str) -> dict[str, str] | None:
    """The x range a zoom box selected (plotly sends wall times on the view's clock)."""
    if not relayout or "xaxis.range[0]" not in relayout:
        return None
    start, end = (
        from_wall_clock(datetime.fromisoformat(str(relayout[f"xaxis.range[{i}]"])), zone)
        for i in (0, 1)
    )
    if end <= start:
        return None
    return {"from": absolute(start), "to": absolute(end)}


def _publish(
    current: ViewState,
    new: ViewState,
    history: list[dict[str, str]],
    from_url: bool,
    error: str,
    args: dict[str, Any],
) -> dict[str, Any]:
    """Outputs for the new view; unchanged stores stay untouched so panels don't re-query."""

    def changed(value: Any, before: Any) -> Any:
        return value if value != before else no_update

    interval = refresh_interval_ms(new.refresh)
    search = view_search(new)
    preference, browser = viewer_zones()
    if ctx.triggered_id == ids.TIME_ZONE:
        preference = new.tz
    zone = view_zone(new.tz, preference, args["zone_setting"], browser)
    shown = {**new.time_range, "tz": zone}
    before = {**current.time_range, "tz": _shown_zone(args)}
    selections = []
    for item in ctx.args_grouping["chosen"]:
        values = new.variables.get(item["id"]["name"], [])
        multi = isinstance(item.get("value"), list)
        selections.append((values or [ALL_CHOICE]) if multi else (values or [ALL_CHOICE])[0])
    return {
        "time_range": changed(shown, before),
        "history": history,
        "variables": changed(new.variables, current.variables),
        "search": no_update if from_url else search,
        "preset": preset_value(new),
        "shown_from": shown_time(new.time_from, zone),
        "shown_to": shown_time(new.time_to, zone),
        "refresh": new.refresh,
        "interval": interval or 60_000,
        "paused": interval is None,
        "selections": selections,
        # A notice about the link stays until the view really changes.
        "error": error or ("" if new != current else no_update),
        # The shared link names the zone, so it shows exactly this view anywhere.
        "share": request.host_url.rstrip("/")
        + args["pathname"]
        + view_search(replace(new, tz=zone)),
        "zone": zone,
        "zones": changed(zone_options(zone, browser), zone_options(_shown_zone(args), browser)),
    }
