"""Edit mode's writes: save (or save a copy), duplicate, delete; and the JSON export.

Each write checks the role on the server first: a viewer who crafts a request to
these callbacks gets 401/403, whatever the page showed them.
"""

from __future__ import annotations

import json
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from callbacks.editor import BANNER_ACTION, banner_button, editor_base, forget
from dashapp.auth import ui_actor
from dashapp.commands import dashboards as commands
from dashapp.commands.errors import Conflict, Invalid
from dashapp.core.spec import SpecError, dump_spec, parse_spec
from dashapp.extensions import database
from db import dashboards
from layouts import ids


def register(app: Dash) -> None:
    """Wire Save, the conflict's Save-as-copy, Export, Duplicate and Delete."""
    app.callback(
        output=dict(
            base=Output(ids.EDITOR_BASE, "data", allow_duplicate=True),
            banner=Output(ids.EDITOR_BANNER, "children", allow_duplicate=True),
            message=Output(ids.SAVE_MESSAGE, "value"),
            path=Output(ids.URL, "pathname", allow_duplicate=True),
            drafts=Output(ids.DRAFTS, "data", allow_duplicate=True),
        ),
        inputs=dict(
            save=Input(ids.SAVE, "n_clicks"),
            banner_action=Input({"type": BANNER_ACTION, "action": ALL}, "n_clicks"),
        ),
        state=dict(
            draft=State(ids.EDITOR_DRAFT, "data"),
            base=State(ids.EDITOR_BASE, "data"),
            message=State(ids.SAVE_MESSAGE, "value"),
            slug=State(ids.setting("slug"), "value"),
            drafts=State(ids.DRAFTS, "data"),
        ),
        prevent_initial_call=True,
    )(save)
    app.callback(
        Output(ids.EXPORT_DOWNLOAD, "data"),
        Input(ids.EXPORT, "n_clicks"),
        State(ids.EDITOR_DRAFT, "data"),
        State(ids.EDITOR_BASE, "data"),
        prevent_initial_call=True,
    )(export)
    app.callback(
        Output(ids.VIEW_EXPORT_DOWNLOAD, "data"),
        Input(ids.VIEW_EXPORT, "n_clicks"),
        State(ids.DASHBOARD_SLUG, "data"),
        prevent_initial_call=True,
    )(export_saved)
    app.callback(
        Output(ids.URL, "pathname", allow_duplicate=True),
        Input(ids.DUPLICATE_DASHBOARD, "n_clicks"),
        State(ids.EDITOR_BASE, "data"),
        prevent_initial_call=True,
    )(duplicate)
    app.callback(
        Output(ids.DELETE_CONFIRM, "displayed"),
        Input(ids.DELETE_DASHBOARD, "n_clicks"),
        prevent_initial_call=True,
    )(lambda clicks: bool(clicks))
    app.callback(
        Output(ids.URL, "pathname", allow_duplicate=True),
        Output(ids.DRAFTS, "data", allow_duplicate=True),
        Input(ids.DELETE_CONFIRM, "submit_n_clicks"),
        State(ids.EDITOR_BASE, "data"),
        State(ids.DRAFTS, "data"),
        prevent_initial_call=True,
    )(delete)


def save(
    save: int | None,
    banner_action: list[int | None],
    draft: dict[str, Any],
    base: dict[str, Any],
    message: str | None,
    slug: str | None,
    drafts: dict[str, Any] | None,
) -> dict[str, Any]:
    """Store the draft as a new version; on a stale version, offer reload or a copy."""
    trigger = ctx.triggered_id
    as_copy = isinstance(trigger, dict) and trigger.get("action") == "copy"
    if not ctx.triggered[0]["value"] or (isinstance(trigger, dict) and not as_copy):
        raise PreventUpdate
    unchanged = {"base": no_update, "message": no_update, "path": no_update, "drafts": no_update}
    try:
        spec = parse_spec(draft)
    except SpecError as error:
        problems = [html.Li(f"{e['field']}: {e['message']}") for e in error.errors[:10]]
        note = html.Div(className="banner error",
                        children=["Not saved: fix these first.", html.Ul(problems)])  # fmt: skip
        return {**unchanged, "banner": note}
    actor = ui_actor()
    new_slug = (slug or base["slug"]).strip()
    if not as_copy and new_slug == base["slug"] and dump_spec(spec) == base["spec"]:
        note = f"Nothing to save: this is version {base['version']} as saved."
        return {**unchanged, "banner": html.Div(note, className="banner info")}
    try:
        if as_copy:
            copy = commands.save_copy(actor, base["slug"], spec, message or "Copy")
            # The changes live on in the copy: the original has no unsaved draft left.
            return {**unchanged, "banner": no_update, "path": f"/d/{copy.slug}/edit",
                    "drafts": forget(drafts, str(base["id"]))}  # fmt: skip
        saved = commands.save(
            actor, base["slug"], spec, base["version"], message or "",
            new_slug=new_slug if new_slug != base["slug"] else None,
        )  # fmt: skip
    except Conflict as conflict:
        if "current_version" in conflict.details:
            return {**unchanged, "banner": _conflict(conflict)}
        return {**unchanged, "banner": _error(f"Not saved: the slug {new_slug!r} is taken.")}
    except Invalid as error:  # a malformed slug
        return {**unchanged, "banner": _error(f"Not saved: {error}.")}
    note = html.Div(f"Saved version {saved.version}.", className="banner info")
    path = f"/d/{saved.slug}/edit" if saved.slug != base["slug"] else no_update
    return {**unchanged, "base": editor_base(saved), "banner": note, "message": "", "path": path}


def _error(text: str) -> html.Div:
    return html.Div(text, className="banner error")


def _conflict(conflict: Conflict) -> html.Div:
    return html.Div(
        className="banner error conflict",
        children=[
            html.Span(
                f"Not saved: someone saved version {conflict.details['current_version']} of this "
                f"dashboard while you were editing version {conflict.details['expected']}. "
                "Nothing was overwritten."
            ),
            banner_button("Reload theirs (drop my changes)", "reload"),
            banner_button("Save mine as a copy", "copy"),
        ],
    )


def export(clicks: int | None, draft: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The dashboard as it stands in the editor, as a JSON file (saved spec if invalid)."""
    if not clicks:
        raise PreventUpdate
    try:
        document = dump_spec(parse_spec(draft))
    except SpecError:
        document = base["spec"]
    return dcc.send_string(
        json.dumps(document, indent=2), f"{base['slug']}.json", type="application/json"
    )


def export_saved(clicks: int | None, slug: str) -> dict[str, Any]:
    """The saved dashboard as a JSON file (current schema version)."""
    if not clicks:
        raise PreventUpdate
    with database.transaction() as session:
        dashboard = dashboards.get_dashboard(session, slug)
    document = dump_spec(parse_spec(dashboard.spec, stored=True))
    return dcc.send_string(json.dumps(document, indent=2), f"{slug}.json", type="application/json")


def duplicate(_clicks: int | None, base: dict[str, Any]) -> str:
    """Copy the saved dashboard under a new slug and open the copy in the editor."""
    if not _clicks:
        raise PreventUpdate
    copy = commands.duplicate(ui_actor(), base["slug"])
    return f"/d/{copy.slug}/edit"


def delete(
    confirmed: int | None, base: dict[str, Any], drafts: dict[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    """Soft-delete (admins can restore it), forget its draft, and go back to the list."""
    if not confirmed:
        raise PreventUpdate
    commands.delete(ui_actor(), base["slug"])
    return "/", forget(drafts, str(base["id"]))
