"""The panel editor: open it on a panel, reshape its form, and preview every change live.

Invalid settings are shown next to their field and the preview says why it cannot
draw; Apply (in :mod:`callbacks.editor`) refuses a panel that does not validate.
"""

from __future__ import annotations

import json
from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from callbacks.editor import queries_from_states, values_by_name
from callbacks.panels import PanelProblem, guard_query, parse_window
from callbacks.trusted import check_cost, require_adhoc
from dashapp.core import forms
from db.cached import catalog
from db.panels import load_panel
from layouts import ids
from layouts.figures import render_figure
from layouts.panel_editor import option_controls, panel_form, query_controls
from layouts.panels import GRAPH_CONFIG
from layouts.tables import static_table, table_body, table_rows

OPEN, CLOSED = "modal", "modal hidden"
FORM_FIELDS = {"type": ids.PE_FIELD, "name": ALL}
FORM_OPTIONS = {"type": ids.PE_OPTION, "name": ALL}
FORM_QUERIES = {"type": ids.PE_QUERY, "index": ALL, "name": ALL}


def register(app: Dash) -> None:
    """Wire opening, closing, the type and query controls, and the live preview."""
    app.callback(
        Output(ids.EDITING_PANEL, "data", allow_duplicate=True),
        Input({"type": ids.PANEL_EDIT, ids.CHART_KEY: ALL}, "n_clicks"),
        prevent_initial_call=True,
    )(choose_panel)
    app.callback(
        Output(ids.EDITING_PANEL, "data", allow_duplicate=True),
        Output(ids.PE_CONFIRM, "className"),
        Input(ids.PE_CANCEL, "n_clicks"),
        Input(ids.PE_DISCARD, "n_clicks"),
        Input(ids.PE_KEEP, "n_clicks"),
        State(FORM_FIELDS, "value"),
        State(FORM_OPTIONS, "value"),
        State(FORM_QUERIES, "value"),
        State(ids.EDITING_PANEL, "data"),
        State(ids.EDITOR_DRAFT, "data"),
        prevent_initial_call=True,
    )(leave)
    app.callback(
        Output(ids.PE_MODAL, "className"),
        Output(ids.PE_FORM, "children"),
        Output(ids.PE_TOUCHED, "data"),
        Input(ids.EDITING_PANEL, "data"),
        State(ids.EDITOR_DRAFT, "data"),
        prevent_initial_call=True,
    )(open_form)
    app.callback(
        Output(ids.PE_OPTIONS, "children"),
        Output("pe-query-section", "hidden"),
        Input(ids.form_part(ids.PE_FIELD, "type"), "value"),
        State(ids.EDITING_PANEL, "data"),
        State(ids.EDITOR_DRAFT, "data"),
        prevent_initial_call=True,
    )(change_type)
    app.callback(
        Output(ids.PE_QUERIES, "children"),
        Input(ids.PE_QUERY_ADD, "n_clicks"),
        Input({"type": ids.PE_QUERY_REMOVE, "index": ALL}, "n_clicks"),
        State(FORM_QUERIES, "value"),
        prevent_initial_call=True,
    )(edit_queries)
    app.callback(
        Output({"type": ids.PE_ERROR, "name": ALL}, "children"),
        Output(ids.PE_PREVIEW, "children"),
        Output(ids.PE_TOUCHED, "data", allow_duplicate=True),
        Input(FORM_FIELDS, "value"),
        Input(FORM_OPTIONS, "value"),
        Input(FORM_QUERIES, "value"),
        Input(ids.PE_APPLY, "n_clicks"),
        State(ids.PE_TOUCHED, "data"),
        State(ids.EDITING_PANEL, "data"),
        State(ids.EDITOR_DRAFT, "data"),
        State(ids.TIME_RANGE, "data"),
        State(ids.VIEWPORT, "data"),
        prevent_initial_call="initial_duplicate",
    )(preview)


def choose_panel(*_clicks: Any) -> str | None:
    """Edit buttons open the editor on their panel."""
    if not ctx.triggered[0]["value"]:
        raise PreventUpdate  # rendered, not clicked
    return ctx.triggered_id[ids.CHART_KEY]


def leave(
    _cancel: int | None,
    _discard: int | None,
    _keep: int | None,
    _fields: list[Any],
    _options: list[Any],
    _queries: list[Any],
    panel_id: str | None,
    draft: dict[str, Any],
) -> tuple[Any, str]:
    """Cancel (also Esc, or a click beside the editor) closes an unchanged editor at once;
    with changes it asks first: Discard closes, Keep editing goes back to the form."""
    if not ctx.triggered[0]["value"]:
        raise PreventUpdate
    trigger = ctx.triggered_id
    if trigger == ids.PE_KEEP:
        return no_update, CLOSED
    if trigger == ids.PE_DISCARD:
        return None, CLOSED
    base = _draft_panel(draft, panel_id)
    # No fields yet: the form had not arrived when Cancel was clicked, nothing was typed.
    changed = (
        base is not None
        and bool(ctx.states_list[0])
        and forms.form_changed(
            base,
            values_by_name(ctx.states_list[0]),
            values_by_name(ctx.states_list[1]),
            queries_from_states(ctx.states_list[2]),
        )
    )
    return (no_update, OPEN) if changed else (None, CLOSED)


def _draft_panel(draft: dict[str, Any] | None, panel_id: str | None) -> dict[str, Any] | None:
    return next((p for p in (draft or {}).get("panels", []) if p["id"] == panel_id), None)


def open_form(panel_id: str | None, draft: dict[str, Any]) -> tuple[str, Any, list[str]]:
    """Show the form for the chosen panel (no field touched yet), or hide the editor."""
    panel = _draft_panel(draft, panel_id)
    if panel is None:
        return CLOSED, [], []
    return OPEN, panel_form(panel, catalog()), []


def change_type(
    panel_type: str, panel_id: str | None, draft: dict[str, Any]
) -> tuple[list[Any], bool]:
    """A new type brings its own options (the panel's own, if it already had that type)."""
    panel = _draft_panel(draft, panel_id) or {}
    options = panel.get("options", {}) if panel.get("type") == panel_type else {}
    return option_controls({"type": panel_type, "options": options}), panel_type == "text"


def edit_queries(_add: int | None, _remove: list[int | None], _values: list[Any]) -> list[Any]:
    """Add an empty query, or drop the one whose Remove was clicked."""
    queries = queries_from_states(ctx.states_list[0])
    trigger = ctx.triggered_id
    if trigger == ids.PE_QUERY_ADD:
        queries.append(forms.query_values({"metric": None}))
    elif isinstance(trigger, dict) and ctx.triggered[0]["value"]:
        del queries[trigger["index"]]
    else:
        raise PreventUpdate
    return query_controls(queries, catalog())


def _touched_now(touched: list[str] | None) -> list[str]:
    """Fields the user has changed (messages show only for those), all after Apply."""
    seen = set(touched or [])
    for prop in ctx.triggered_prop_ids:
        if prop.startswith(ids.PE_APPLY):
            return ["*"]
        if prop.startswith("{") and len(ctx.triggered) == 1:
            key = json.loads(prop.rsplit(".", 1)[0])
            if key["type"] == ids.PE_QUERY:
                seen.add(f"query:{key['index']}:{key['name']}")
            elif key["type"] == ids.PE_OPTION:
                seen.add(f"option:{key['name']}")
            else:
                seen.add(key["name"])
    return sorted(seen)


def preview(
    _fields: list[Any],
    _options: list[Any],
    _queries: list[Any],
    _apply: int | None,
    touched: list[str] | None,
    panel_id: str | None,
    draft: dict[str, Any],
    time_range: dict[str, str],
    viewport: int | None,
) -> tuple[list[str], Any, list[str]]:
    """Validate the form as it is and draw the panel it describes (nothing is saved).

    A field's message shows once the user has changed it (or pressed Apply), in plain
    words; an untouched new panel just says what to do first.
    """
    base = _draft_panel(draft, panel_id)
    slots = [item["id"]["name"] for item in ctx.outputs_list[0]]
    if base is None:
        return [""] * len(slots), no_update, no_update
    touched = _touched_now(touched)
    document = forms.panel_from_form(
        base,
        values_by_name(ctx.inputs_list[0]),
        values_by_name(ctx.inputs_list[1]),
        queries_from_states(ctx.inputs_list[2]),
    )
    panel, errors = forms.validate_panel(document)
    visible = {k: v for k, v in errors.items() if "*" in touched or k in touched}
    messages = [visible.get(slot, "") for slot in slots]
    if panel is None:
        if not visible:
            first = next(iter(errors.values()))
            hint = "Pick a metric to see a preview." if first == "Pick a metric." else first
            return messages, html.Div(hint, className="panel-message info"), touched
        shown = {slot for slot in slots if visible.get(slot)}
        hidden = [message for key, message in visible.items() if key not in shown]
        return (
            messages,
            html.Div(
                className="panel-message error",
                children=[
                    "Fix the fields marked in red to see a preview.",
                    *[html.Div(h) for h in hidden],
                ],
            ),
            touched,
        )
    return messages, _draw(panel, time_range, viewport), touched


def _draw(panel: Any, time_range: dict[str, str], viewport: int | None) -> Any:
    if panel.type == "text":
        return dcc.Markdown(panel.options.content, dangerously_allow_html=False)
    try:
        require_adhoc()  # a preview runs whatever the form says: editors only, rate-limited
        check_cost(panel, viewport)
        window = parse_window(time_range)
        data = guard_query(lambda: load_panel(panel, window, {}, viewport))
    except PanelProblem as problem:
        return html.Div(str(problem), className="panel-message error")
    if data.empty:
        return html.Div("No data in this time range", className="panel-message info")
    if panel.type == "table":
        body = html.Tbody(table_body(panel, table_rows(panel, data.reductions)))
        return static_table(body)
    return dcc.Graph(
        figure=render_figure(panel, data), config=GRAPH_CONFIG, className="preview-graph"
    )
