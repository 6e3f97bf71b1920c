"""Edit mode: one callback owns the draft, the grid and the browser copy of the draft.

Every change (drag, resize, add, duplicate, remove, panel editor Apply, settings,
variables, discard, reload) goes through :func:`edit`, which applies a pure function
from :mod:`dashapp.core.editing`. The draft lives in memory and in localStorage until it is
saved, so a reload or a closed tab loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, html, no_update
from dash.exceptions import PreventUpdate

from dashapp.core import editing, forms
from dashapp.core.records import Dashboard
from dashapp.core.spec import SpecError, dump_spec, parse_spec
from dashapp.extensions import database
from db import dashboards
from db.cached import catalog
from layouts import ids
from layouts.dashboard import draft_notice
from layouts.editor import variable_rows
from layouts.panels import grid_children, grid_layout

BANNER_ACTION = "banner-action"
VARIABLE_FIELDS = {"type": ids.VARIABLE_FIELD, "index": ALL, "name": ALL}


def register(app: Dash) -> None:
    """Wire the editor's reducer, its field checks, the leave-page warning and the scroll to
    the panel being edited."""
    app.callback(
        output=dict(
            draft=Output(ids.EDITOR_DRAFT, "data"),
            grid=Output(ids.EDIT_GRID, "children"),
            layout=Output(ids.EDIT_GRID, "layout"),
            drafts=Output(ids.DRAFTS, "data"),
            banner=Output(ids.EDITOR_BANNER, "children"),
            dirty=Output(ids.EDITOR_DIRTY, "data"),
            open_panel=Output(ids.EDITING_PANEL, "data"),
            rows=Output("variable-rows", "children"),
            base=Output(ids.EDITOR_BASE, "data", allow_duplicate=True),
        ),
        inputs=dict(
            base=Input(ids.EDITOR_BASE, "data"),
            layout=Input(ids.EDIT_GRID, "layout"),
            add=Input(ids.ADD_PANEL, "n_clicks"),
            # Edit-mode panel actions all use the chart key: no MATCH callback reads them.
            duplicate=Input({"type": ids.PANEL_DUPLICATE, ids.CHART_KEY: ALL}, "n_clicks"),
            remove=Input({"type": ids.PANEL_REMOVE, ids.CHART_KEY: ALL}, "n_clicks"),
            apply=Input(ids.PE_APPLY, "n_clicks"),
            settings=Input({"type": ids.SETTING, "name": ALL}, "value"),
            variable_fields=Input(VARIABLE_FIELDS, "value"),
            variable_add=Input(ids.VARIABLE_ADD, "n_clicks"),
            variable_remove=Input({"type": ids.VARIABLE_REMOVE, "index": ALL}, "n_clicks"),
            discard=Input(ids.DISCARD, "n_clicks"),
            banner_action=Input({"type": BANNER_ACTION, "action": ALL}, "n_clicks"),
        ),
        state=dict(
            draft=State(ids.EDITOR_DRAFT, "data"),
            drafts=State(ids.DRAFTS, "data"),
            # None until the first call: the page has just opened.
            was_dirty=State(ids.EDITOR_DIRTY, "data"),
            add_type=State(ids.ADD_PANEL_TYPE, "value"),
            editing_panel=State(ids.EDITING_PANEL, "data"),
            form_fields=State({"type": ids.PE_FIELD, "name": ALL}, "value"),
            form_options=State({"type": ids.PE_OPTION, "name": ALL}, "value"),
            form_queries=State({"type": ids.PE_QUERY, "index": ALL, "name": ALL}, "value"),
        ),
        prevent_initial_call="initial_duplicate",
    )(edit)
    app.callback(
        Output(ids.DRAFT_NOTICE, "children"),
        Input(ids.DRAFTS, "data"),
        State(ids.DASHBOARD_ID, "data"),
        State(ids.DASHBOARD_SLUG, "data"),
    )(notice_of_draft)
    app.callback(
        Output({"type": "setting-error", "name": ALL}, "children"),
        Output({"type": "variable-error", "index": ALL}, "children"),
        Input(ids.EDITOR_DRAFT, "data"),
    )(check_draft)
    app.clientside_callback(
        # Warn before leaving the page with unsaved changes (the browser shows its own text).
        """function (dirty) {
            window.onbeforeunload = dirty ? function (e) { e.preventDefault(); return ''; } : null;
            return dirty;
        }""",
        Output(ids.UNLOAD_GUARD, "data"),
        Input(ids.EDITOR_DIRTY, "data"),
    )
    app.clientside_callback(
        # The panel being edited (a new one is added on top of the grid) is scrolled into
        # view behind the editor, so it is where the user looks when the editor closes. The
        # grid draws it after this store changes: wait for it, then scroll again once the
        # grid's move transition has ended.
        """function (panelId) {
            if (!panelId) { return window.dash_clientside.no_update; }
            var tries = 0;
            function scroll() {
                var cell = document.getElementById('panel-' + panelId);
                if (!cell) {
                    if (++tries < 50) { setTimeout(scroll, 100); }
                    return;
                }
                cell.scrollIntoView({block: 'nearest'});
                if (tries >= 0) { tries = -1; setTimeout(scroll, 400); }
            }
            scroll();
            return panelId;
        }""",
        Output(ids.SCROLLED_TO, "data"),
        Input(ids.EDITING_PANEL, "data"),
    )


def notice_of_draft(drafts: dict[str, Any] | None, dashboard_id: int, slug: str) -> Any:
    """View mode: say so when this browser holds unsaved edits of this dashboard."""
    stored = (drafts or {}).get(str(dashboard_id))
    return draft_notice(slug, stored.get("saved_at", "earlier")) if stored else None


def _grouped(name: str) -> list[dict[str, Any]]:
    """The ``{"id", "value", ...}`` items of an ALL-pattern argument of this callback."""
    return list(ctx.args_grouping[name])


def values_by_name(states: list[dict[str, Any]]) -> dict[str, Any]:
    """``{name: value}`` from the states of an ALL pattern keyed by ``name``."""
    return {item["id"]["name"]: item.get("value") for item in states}


def queries_from_states(states: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The panel editor's queries, in order, from its ALL-pattern states."""
    queries: dict[int, dict[str, Any]] = {}
    for item in states:
        queries.setdefault(item["id"]["index"], {})[item["id"]["name"]] = item.get("value")
    return [queries[i] for i in sorted(queries)]


@dataclass
class Step:
    """What one change did: the new draft, and what else the page must show."""

    draft: dict[str, Any]
    base: dict[str, Any]
    regrid: bool = False
    banner: Any = no_update
    open_panel: Any = no_update
    base_changed: bool = False


Handler = Callable[[Step, dict[str, Any]], Step]


def edit(**args: Any) -> dict[str, Any]:
    """Apply the change that fired (one handler per kind of change) to the draft; publish
    the draft wherever it shows."""
    trigger = ctx.triggered_id
    kind = trigger.get("type") if isinstance(trigger, dict) else trigger
    if args["was_dirty"] is None:
        # The first call opens the page, whatever fired it: the grid reports its layout
        # as it mounts, and Dash then folds the initial call into that event.
        kind = None
    handler = HANDLERS.get(kind)
    if handler is None:
        raise PreventUpdate
    base = args["base"]
    step = handler(Step(args["draft"] or base["spec"], base), args)
    if kind in COMPACTED:
        compacted = editing.compact(step.draft)
        if editing.positions(compacted) != editing.positions(step.draft):
            step = replace(step, draft=compacted, regrid=True)
    base, draft, key = step.base, step.draft, str(base["id"])
    dirty = draft != base["spec"]
    banner = step.banner
    if banner is no_update and kind not in (None, ids.EDITOR_BASE):  # a save writes its own
        banner = _note("Unsaved changes: save to keep them.", "warning") if dirty else ""
    drafts = dict(args["drafts"] or {})
    out: dict[str, Any] = {
        "draft": draft, "dirty": dirty, "banner": banner, "open_panel": step.open_panel,
        "base": base if step.base_changed else no_update,
        "drafts": _remember(drafts, key, draft, base["version"], dirty),
        **dict.fromkeys(("grid", "layout", "rows"), no_update),
    }  # fmt: skip
    spec = _lenient(draft) if step.regrid else None
    if spec is not None:
        edited_from = (base["slug"], base["version"])
        out["grid"] = grid_children(spec, editing=True, stored=edited_from)
        out["layout"] = grid_layout(spec)
    if step.regrid or kind in (ids.VARIABLE_ADD, ids.VARIABLE_REMOVE):
        out["rows"] = variable_rows(draft, catalog()["metrics"])
    return out


def _on_open(step: Step, args: dict[str, Any]) -> Step:
    """The page opened: pick up an unsaved draft left in this browser."""
    base = step.base
    stored = (args["drafts"] or {}).get(str(base["id"]))
    draft, regrid, banner, made_on = _load(base, stored, step.draft)
    step = replace(step, draft=draft, regrid=regrid, banner=banner)
    if made_on != base["version"]:
        # Saving it must meet the newer version as a conflict, not overwrite it.
        step = replace(step, base={**base, "version": made_on}, base_changed=True)
    return step


def _on_saved(step: Step, args: dict[str, Any]) -> Step:
    """Just saved: the saved spec is the draft now."""
    saved = step.base["spec"]
    regrid = editing.positions(step.draft) != editing.positions(saved)
    return replace(step, draft=saved, regrid=regrid)


def _on_layout(step: Step, args: dict[str, Any]) -> Step:
    """Panels dragged or resized."""
    moved = editing.apply_layout(step.draft, args["layout"] or [])
    if editing.positions(moved) == editing.positions(step.draft):
        raise PreventUpdate
    return replace(step, draft=moved)


def _on_add(step: Step, args: dict[str, Any]) -> Step:
    draft, panel_id = editing.add_panel(step.draft, args["add_type"] or "timeseries", at_top=True)
    return replace(step, draft=draft, open_panel=panel_id, regrid=True)


def _on_duplicate(step: Step, args: dict[str, Any]) -> Step:
    if not _clicked():
        raise PreventUpdate
    draft, _ = editing.duplicate_panel(step.draft, _panel_of(ctx.triggered_id))
    return replace(step, draft=draft, regrid=True)


def _on_remove(step: Step, args: dict[str, Any]) -> Step:
    if not _clicked():
        raise PreventUpdate
    return replace(step, draft=editing.remove_panel(step.draft, _panel_of(ctx.triggered_id)),
                   regrid=True)  # fmt: skip


def _on_apply(step: Step, args: dict[str, Any]) -> Step:
    """The panel editor's Apply: the form's panel replaces the draft's."""
    panel = _panel_from_editor(step.draft, args["editing_panel"])
    if panel is None:
        raise PreventUpdate  # the form already shows what is wrong
    return replace(step, draft=editing.replace_panel(step.draft, panel), open_panel=None,
                   regrid=True)  # fmt: skip


def _on_settings(step: Step, args: dict[str, Any]) -> Step:
    values = values_by_name(_grouped("settings"))
    draft = editing.set_settings(
        step.draft, title=values.get("title"), description=values.get("description"),
        tags=values.get("tags"), time_from=values.get("time_from"),
        time_to=values.get("time_to"), refresh=values.get("refresh"),
        timezone=values.get("timezone"),
    )  # fmt: skip
    return replace(step, draft=draft)


def _on_variables(step: Step, args: dict[str, Any]) -> Step:
    trigger = ctx.triggered_id
    kind = trigger.get("type") if isinstance(trigger, dict) else trigger
    return replace(step, draft=_edit_variables(step.draft, kind, trigger))


def _on_discard(step: Step, args: dict[str, Any]) -> Step:
    return replace(step, draft=step.base["spec"], regrid=True, banner=_note("Changes discarded."))


def _on_banner(step: Step, args: dict[str, Any]) -> Step:
    """The banner's Discard or Reload theirs (its Save-as-copy is a save)."""
    action = _action()
    if action == "discard":
        return _on_discard(step, args)
    if action == "reload":
        base = _latest(step.base["slug"])
        return replace(step, base=base, base_changed=True, draft=base["spec"], regrid=True,
                       banner=_note("Loaded the latest version."))  # fmt: skip
    raise PreventUpdate


HANDLERS: dict[str | None, Handler] = {
    None: _on_open,
    ids.EDITOR_BASE: _on_saved,
    ids.EDIT_GRID: _on_layout,
    ids.ADD_PANEL: _on_add,
    ids.PANEL_DUPLICATE: _on_duplicate,
    ids.PANEL_REMOVE: _on_remove,
    ids.PE_APPLY: _on_apply,
    ids.SETTING: _on_settings,
    ids.VARIABLE_FIELD: _on_variables,
    ids.VARIABLE_ADD: _on_variables,
    ids.VARIABLE_REMOVE: _on_variables,
    ids.DISCARD: _on_discard,
    BANNER_ACTION: _on_banner,
}


# Changes after which panels move up into any gap (opening a saved dashboard does not).
COMPACTED = {ids.EDIT_GRID, ids.ADD_PANEL, ids.PANEL_DUPLICATE, ids.PANEL_REMOVE, ids.PE_APPLY}


def _action() -> str | None:
    """The banner button that was clicked (``discard``, ``reload``, ``copy``)."""
    return ctx.triggered_id.get("action") if _clicked() else None


def _clicked() -> bool:
    return bool(ctx.triggered and ctx.triggered[0]["value"])


def _panel_of(trigger: dict[str, Any]) -> str:
    return trigger[ids.CHART_KEY]


def _load(
    base: dict[str, Any], stored: dict[str, Any] | None, current: dict[str, Any]
) -> tuple[dict[str, Any], bool, Any, int]:
    """On opening: the browser's unsaved draft if any, else the saved spec.

    Returns (draft, redraw the grid?, banner, the version the draft was made on).
    """
    if stored and stored.get("spec") != base["spec"]:
        made_on = stored.get("base_version", base["version"])
        note = f"Restored your unsaved changes from {stored.get('saved_at', 'earlier')}."
        if made_on != base["version"]:
            note += (
                f" They were made on version {made_on}; version {base['version']} has been "
                "saved since, so saving will ask whether to reload it or save yours as a copy."
            )
        return stored["spec"], True, _note(note, "warning", discard=True), made_on
    return base["spec"], current != base["spec"], "", base["version"]


def _remember(
    drafts: dict[str, Any], key: str, draft: dict[str, Any], version: int, dirty: bool
) -> dict[str, Any]:
    """The browser's drafts (keyed by dashboard id) with this one updated, or dropped when
    clean."""
    drafts = forget(drafts, key)
    if dirty:
        saved_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        drafts[key] = {"spec": draft, "base_version": version, "saved_at": saved_at}
    return drafts


def forget(drafts: dict[str, Any] | None, key: str) -> dict[str, Any]:
    """The browser's drafts without dashboard ``key``'s."""
    return {k: v for k, v in (drafts or {}).items() if k != key}


def _panel_from_editor(draft: dict[str, Any], panel_id: str | None) -> dict[str, Any] | None:
    if panel_id is None:
        return None
    base = next((p for p in draft.get("panels", []) if p["id"] == panel_id), None)
    if base is None:
        return None
    general = values_by_name(_grouped("form_fields"))
    options = values_by_name(_grouped("form_options"))
    queries = queries_from_states(_grouped("form_queries"))
    document = forms.panel_from_form(base, general, options, queries)
    validated, errors = forms.validate_panel(document)
    if errors:
        return None
    return validated.model_dump(mode="json", by_alias=True)


def _edit_variables(draft: dict[str, Any], kind: str, trigger: Any) -> dict[str, Any]:
    rows: dict[int, dict[str, Any]] = {}
    for item in _grouped("variable_fields"):
        rows.setdefault(item["id"]["index"], {})[item["id"]["name"]] = item.get("value")
    remove = trigger["index"] if kind == ids.VARIABLE_REMOVE and _clicked() else None
    variables = forms.variables_from_rows(
        rows, draft.get("variables", []), remove=remove, add=kind == ids.VARIABLE_ADD
    )
    return editing.set_variables(draft, variables)


def _lenient(draft: dict[str, Any]) -> Any:
    try:
        return parse_spec(draft)
    except SpecError:
        return None


def _latest(slug: str) -> dict[str, Any]:
    with database.transaction() as session:
        dashboard = dashboards.get_dashboard(session, slug)
    return editor_base(dashboard)


def editor_base(dashboard: Dashboard) -> dict[str, Any]:
    """What the editor keeps of the saved dashboard: id, slug, version and spec."""
    spec = dump_spec(parse_spec(dashboard.spec, stored=True))
    return {"id": dashboard.id, "slug": dashboard.slug, "version": dashboard.version, "spec": spec}


def banner_button(label: str, action: str) -> html.Button:
    """A button inside the banner (``discard``, ``reload`` or ``copy``)."""
    return html.Button(label, id={"type": BANNER_ACTION, "action": action}, className="button")


def _note(text: str, kind: str = "info", discard: bool = False) -> html.Div:
    children: list[Any] = [html.Span(text)]
    if discard:
        children.append(banner_button("Discard them", "discard"))
    return html.Div(className=f"banner {kind}", children=children)


def check_draft(draft: dict[str, Any] | None) -> tuple[list[str], list[str]]:
    """Errors of the dashboard settings and variables, shown next to their fields."""
    settings_ids = [item["id"]["name"] for item in ctx.outputs_list[0]]
    variable_ids = [item["id"]["index"] for item in ctx.outputs_list[1]]
    errors: dict[str, str] = {}
    try:
        parse_spec(draft or {})
    except SpecError as error:
        for item in error.errors:
            errors.setdefault(_setting_key(item["field"]), item["message"])
    return (
        [errors.get(name, "") for name in settings_ids],
        [errors.get(f"variable:{index}", "") for index in variable_ids],
    )


def _setting_key(field: str) -> str:
    parts = field.split(".")
    if parts[0] == "variables" and len(parts) > 1:
        return f"variable:{parts[1]}"
    if parts[0] == "time" and len(parts) > 1:
        return {"from": "time_from", "to": "time_to"}.get(parts[1], parts[1])
    return parts[0]
