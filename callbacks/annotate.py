"""Annotations on a dashboard: load those of the view's range (filtered by tag) into the
store the time-series panels draw from, and let editors add one by clicking a chart."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate
from sqlalchemy.exc import SQLAlchemyError

from dashapp.auth import ui_actor
from dashapp.commands import annotations as commands
from dashapp.commands.errors import CommandError, Forbidden, Unauthenticated
from dashapp.core.timerange import resolve_range
from dashapp.core.zones import from_wall_clock, is_zone, wall_clock, zone_info
from dashapp.extensions import database
from db import annotations
from layouts import ids
from layouts.annotations import annotation_documents

HIDDEN, SHOWN = "modal hidden", "modal"


def register(app: Dash) -> None:
    """Wire the annotation store, the tag filter and the add-annotation dialog."""
    app.callback(
        Output(ids.ANNOTATIONS, "data"),
        Output(ids.ANNOTATION_TAGS, "options"),
        Input(ids.TIME_RANGE, "data"),
        Input(ids.ANNOTATION_TAGS, "value"),
        Input(ids.AUTO_REFRESH, "n_intervals"),
        Input(ids.REFRESH_BUTTON, "n_clicks"),
        State(ids.DASHBOARD_SLUG, "data"),
        State(ids.ANNOTATIONS, "data"),
    )(load)
    app.callback(
        Output(ids.ANNOTATE_MODAL, "className"),
        Output(ids.ANNOTATE_AT, "data"),
        Output(ids.ANNOTATE_WHEN, "children"),
        Input({"type": ids.PANEL_GRAPH, "panel": ALL}, "clickData"),
        Input(ids.ANNOTATE_CANCEL, "n_clicks"),
        State(ids.TIME_RANGE, "data"),
        prevent_initial_call=True,
    )(open_dialog)
    app.callback(
        Output(ids.ANNOTATE_MODAL, "className", allow_duplicate=True),
        Output(ids.ANNOTATIONS, "data", allow_duplicate=True),
        Output(ids.ANNOTATE_ERROR, "children"),
        Output(ids.ANNOTATE_TEXT, "value"),
        Input(ids.ANNOTATE_SAVE, "n_clicks"),
        State(ids.ANNOTATE_AT, "data"),
        State(ids.ANNOTATE_TEXT, "value"),
        State(ids.ANNOTATE_TAGS, "value"),
        State(ids.ANNOTATE_PANEL_ONLY, "value"),
        State(ids.DASHBOARD_SLUG, "data"),
        State(ids.TIME_RANGE, "data"),
        State(ids.ANNOTATION_TAGS, "value"),
        prevent_initial_call=True,
    )(save)


def _zone(time_range: dict[str, str] | None) -> str:
    zone = (time_range or {}).get("tz") or "UTC"
    return zone if is_zone(zone) else "UTC"


def _documents(slug: str, time_range: dict[str, str], tags: list[str] | None) -> Any:
    window = resolve_range(time_range["from"], time_range["to"],
                           zone=zone_info(_zone(time_range)))  # fmt: skip
    with database.transaction() as session:
        found = annotations.list_annotations(session, slug, window.start, window.end, tags or [])
    return annotation_documents(found)


def load(
    time_range: dict[str, str],
    tags: list[str] | None,
    _ticks: int | None,
    _clicks: int | None,
    slug: str,
    current: list[dict[str, Any]] | None,
) -> tuple[Any, Any]:
    """The view's annotations (unchanged: no update, so panels don't redraw for nothing)."""
    try:
        documents = _documents(slug, time_range, tags)
    except (ValueError, KeyError, SQLAlchemyError):
        return no_update, no_update
    known = sorted({t for d in documents for t in d["tags"]} | set(tags or []))
    return (documents if documents != current else no_update), known


def open_dialog(
    clicks: list[dict[str, Any] | None], _cancel: int | None, time_range: dict[str, str]
) -> tuple[Any, Any, Any]:
    """A click on a chart opens the dialog at the clicked time; Cancel closes it."""
    trigger = ctx.triggered_id
    if trigger == ids.ANNOTATE_CANCEL:
        return HIDDEN, no_update, no_update
    click = ctx.triggered[0]["value"] if ctx.triggered else None
    if not isinstance(trigger, dict) or not click or not click.get("points"):
        raise PreventUpdate
    zone = _zone(time_range)
    try:
        wall = datetime.fromisoformat(str(click["points"][0]["x"]))
    except (KeyError, ValueError):
        raise PreventUpdate from None
    moment = from_wall_clock(wall, zone)
    shown = wall_clock(moment, zone).strftime("%Y-%m-%d %H:%M:%S")
    at = {"ms": int(moment.timestamp() * 1000), "panel": trigger["panel"]}
    return SHOWN, at, f"At {shown} ({zone}), on the panel you clicked."


def save(
    clicks: int | None,
    at: dict[str, Any] | None,
    text: str | None,
    tags: str | None,
    panel_only: list[str] | None,
    slug: str,
    time_range: dict[str, str],
    shown_tags: list[str] | None,
) -> tuple[Any, Any, Any, Any]:
    """Store the annotation (the server checks the role) and show it at once."""
    if not clicks or not at:
        raise PreventUpdate
    try:
        commands.create(
            ui_actor(),
            starts_at=datetime.fromtimestamp(at["ms"] / 1000, UTC),
            text=text or "",
            tags=[t for t in (tags or "").split(",")],
            dashboard=slug,
            panel_id=at["panel"] if panel_only else None,
        )
    except (Forbidden, Unauthenticated):
        raise
    except CommandError as error:
        problems = error.details.get("errors") or []
        return (
            no_update,
            no_update,
            "; ".join(p["message"] for p in problems) or str(error),
            no_update,
        )
    return HIDDEN, _documents(slug, time_range, shown_tags), "", ""
