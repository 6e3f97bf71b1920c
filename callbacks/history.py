"""History page: diff any two versions, restore one (as a new version)."""

from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, html
from dash.exceptions import PreventUpdate

from dashapp.auth import allowed, ui_actor
from dashapp.commands import dashboards as commands
from dashapp.core.diff import diff_specs
from dashapp.extensions import database
from db import dashboards
from layouts import ids
from layouts.history import diff_view, version_table


def register(app: Dash) -> None:
    """Wire the compare pickers and the Restore buttons."""
    app.callback(
        Output(ids.HISTORY_DIFF, "children"),
        Input(ids.HISTORY_A, "value"),
        Input(ids.HISTORY_B, "value"),
        State("history-slug", "data"),
    )(compare)
    app.callback(
        Output(ids.HISTORY_MESSAGE, "children"),
        Output("history-table", "children"),
        Output(ids.HISTORY_A, "options"),
        Output(ids.HISTORY_B, "options"),
        Input({"type": ids.HISTORY_RESTORE, "version": ALL}, "n_clicks"),
        State("history-slug", "data"),
        prevent_initial_call=True,
    )(restore)


def compare(older: int, newer: int, slug: str) -> Any:
    """What changed from version ``older`` to version ``newer``."""
    if not isinstance(slug, str) or not all(type(v) is int for v in (older, newer)):
        raise PreventUpdate  # the pickers only offer saved versions
    try:
        with database.transaction() as session:
            before = dashboards.get_version(session, slug, older)
            after = dashboards.get_version(session, slug, newer)
    except dashboards.DashboardNotFound:
        return html.P(f"Version {older} or {newer} of {slug} does not exist.", className="error")
    return diff_view(diff_specs(before.spec, after.spec))


def restore(_clicks: list[int | None], slug: str) -> tuple[Any, ...]:
    """Make an old version current again, as a new version (nothing is rewritten)."""
    if not isinstance(ctx.triggered_id, dict) or not ctx.triggered[0]["value"]:
        raise PreventUpdate
    wanted = ctx.triggered_id["version"]
    saved = commands.restore(ui_actor(), slug, wanted)
    with database.transaction() as session:
        versions = dashboards.list_versions(session, slug)
    numbers = [v.version for v in versions]
    note = html.Div(
        f"Version {wanted} restored as version {saved.version}.", className="banner info"
    )
    table = version_table(versions, saved.version, allowed("editor"))
    return note, table, numbers, numbers
