"""Creating, importing and undeleting dashboards."""

from __future__ import annotations

import base64
import json
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from dashapp.auth import ui_actor
from dashapp.commands import dashboards as commands
from dashapp.commands.errors import Conflict, Invalid
from dashapp.core.demo import dashboard_spec
from dashapp.core.spec import SpecError, parse_spec
from dashapp.extensions import database
from db import dashboards
from layouts import ids
from layouts.manage import IMPORT_CHOICE, import_choice


def register(app: Dash) -> None:
    """Wire the new-dashboard form, the import form and the admins' Restore buttons."""
    app.callback(
        Output(ids.URL, "pathname", allow_duplicate=True),
        Output(ids.CREATE_ERROR, "children"),
        Input(ids.CREATE_SUBMIT, "n_clicks"),
        State(ids.CREATE_TITLE, "value"),
        State(ids.CREATE_SLUG, "value"),
        State(ids.CREATE_TEMPLATE, "value"),
        prevent_initial_call=True,
    )(create)
    app.callback(
        Output(ids.IMPORT_TEXT, "value"),
        Input(ids.IMPORT_UPLOAD, "contents"),
        prevent_initial_call=True,
    )(read_upload)
    app.callback(
        Output(ids.URL, "pathname", allow_duplicate=True),
        Output(ids.IMPORT_ERRORS, "children"),
        Input(ids.IMPORT_SUBMIT, "n_clicks"),
        State(ids.IMPORT_TEXT, "value"),
        prevent_initial_call=True,
    )(import_dashboard)
    app.callback(
        Output(ids.URL, "pathname", allow_duplicate=True),
        Output(ids.IMPORT_ERRORS, "children", allow_duplicate=True),
        Input({"type": IMPORT_CHOICE, "action": ALL, "slug": ALL}, "n_clicks"),
        State(ids.IMPORT_TEXT, "value"),
        prevent_initial_call=True,
    )(choose_import)
    app.callback(
        Output(ids.URL, "pathname", allow_duplicate=True),
        Input({"type": ids.UNDELETE, "dashboard": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )(undelete)


def _template(choice: str, title: str) -> dict[str, Any]:
    if choice == "demo":
        return {**dashboard_spec(), "title": title}
    if choice.startswith("copy:"):
        with database.transaction() as session:
            source = dashboards.get_dashboard(session, choice.removeprefix("copy:"))
        return {**source.spec, "title": title}
    return {"title": title}


def create(
    _clicks: int | None, title: str | None, slug: str | None, template: str
) -> tuple[Any, Any]:
    """Create a dashboard from a template and open it in the editor."""
    if not _clicks:
        raise PreventUpdate
    actor = ui_actor()
    title = (title or "").strip()
    if not title:
        return no_update, "Give the dashboard a title."
    chosen = (slug or "").strip() or None
    try:
        spec = parse_spec(_template(template, title))
        created = commands.create(actor, spec, chosen, "Created", free_slug=chosen is None)
    except Conflict:
        return no_update, f"The slug {chosen!r} is taken."
    except (SpecError, Invalid) as error:
        return no_update, str(error)
    return f"/d/{created.slug}/edit", ""


def read_upload(contents: str | None) -> str:
    """Show an uploaded file's JSON in the text box, where it can be checked and fixed."""
    if not contents:
        raise PreventUpdate
    _, _, encoded = contents.partition(",")
    return base64.b64decode(encoded).decode("utf-8", errors="replace")


def import_dashboard(_clicks: int | None, text: str | None) -> tuple[Any, Any]:
    """Validate pasted or uploaded JSON (upgrading old versions) and store it as a new dashboard."""
    if not _clicks:
        raise PreventUpdate
    actor = ui_actor()
    try:
        document = json.loads(text or "")
    except json.JSONDecodeError as error:
        return no_update, _problems([f"not valid JSON: {error}"])
    try:
        spec = parse_spec(document)
    except SpecError as error:
        return no_update, _problems([f"{e['field']}: {e['message']}" for e in error.errors])
    existing = _same_dashboard(spec.title)
    if existing is not None:
        # Importing an export of a dashboard that is here: ask instead of doubling it.
        return no_update, import_choice(existing.slug, existing.title)
    created = commands.import_document(actor, document)
    return f"/d/{created.slug}", ""


def _same_dashboard(title: str) -> Any:
    """The live dashboard this import would double (same slug from its title), if any."""
    try:
        with database.transaction() as session:
            return dashboards.get_dashboard(session, dashboards.slugify(title))
    except dashboards.DashboardNotFound:
        return None


def choose_import(_clicks: list[int | None], text: str | None) -> tuple[Any, Any]:
    """The answer to "replace or copy": a new version of the existing one, or a copy."""
    if not isinstance(ctx.triggered_id, dict) or not ctx.triggered[0]["value"]:
        raise PreventUpdate
    actor = ui_actor()
    document = json.loads(text or "")
    if ctx.triggered_id["action"] == "copy":
        created = commands.import_document(actor, document)
        return f"/d/{created.slug}", ""
    spec = parse_spec(document)
    slug = ctx.triggered_id["slug"]
    with database.transaction() as session:
        current = dashboards.get_dashboard(session, slug)
    saved = commands.save(actor, slug, spec, current.version, "Replaced by an import")
    return f"/d/{saved.slug}", ""


def _problems(messages: list[str]) -> html.Div:
    return html.Div(
        className="banner error import-errors",
        children=["Nothing was imported:", html.Ul([html.Li(m) for m in messages[:20]])],
    )


def undelete(_clicks: list[int | None]) -> str:
    """Admins bring a deleted dashboard back."""
    if not isinstance(ctx.triggered_id, dict) or not ctx.triggered[0]["value"]:
        raise PreventUpdate
    restored = commands.undelete(ui_actor(), ctx.triggered_id["dashboard"])
    return f"/d/{restored.slug}"
