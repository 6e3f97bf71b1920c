"""The panel editor: title, type, the type's options, queries from the catalog, a preview."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashapp.core import forms
from dashapp.core.spec import PANEL_TYPES
from dashapp.core.units import unit_choices
from layouts import ids

AGGREGATIONS = ("avg", "min", "max", "sum", "count", "last", "rate", "p50", "p90", "p99")
MODES = ("auto", "m4", "buckets")


UNIT_LIST = "pe-units"
PLACEHOLDERS = {"thresholds": "70:orange, 90:red", "colors": "web-1=red, web-2=#0ea5e9"}


def panel_editor_modal() -> html.Div:
    """The (hidden) full-page editor the panel's form fills: the form beside a large
    live preview."""
    return html.Div(
        id=ids.PE_MODAL,
        className="modal hidden",
        children=html.Div(
            className="modal-card panel-editor",
            children=[
                html.Div(
                    className="modal-header",
                    children=[
                        html.Span("Edit panel", className="modal-title"),
                        html.Button("Apply", id=ids.PE_APPLY, className="button primary"),
                        html.Button("Cancel", id=ids.PE_CANCEL, className="button modal-close"),
                    ],
                ),
                html.Div(
                    className="modal-body panel-editor-body",
                    children=[
                        dcc.Store(id=ids.PE_TOUCHED, data=[]),
                        html.Div(id=ids.PE_FORM, className="panel-form"),
                        html.Div(
                            className="panel-preview",
                            children=[html.H3("Preview"), html.Div(id=ids.PE_PREVIEW)],
                        ),
                    ],
                ),
                leave_dialog(),
            ],
        ),
    )


def leave_dialog() -> html.Div:
    """Asked when the editor is left (Cancel, Esc, a click beside it) with changes: the
    innermost dialog, so Esc answers it first with "Keep editing"."""
    return html.Div(
        id=ids.PE_CONFIRM,
        className="modal hidden",
        role="alertdialog",
        children=html.Div(
            className="modal-card confirm-card",
            children=[
                html.P("Discard your changes to this panel?", className="confirm-question"),
                html.P("They have not been applied to the dashboard.", className="muted"),
                html.Div(
                    className="confirm-actions",
                    children=[
                        html.Button("Discard", id=ids.PE_DISCARD, className="button danger"),
                        html.Button(
                            "Keep editing", id=ids.PE_KEEP, className="button primary modal-close"
                        ),
                    ],
                ),
            ],
        ),
    )


def _error(key: str) -> html.Div:
    return html.Div(id=ids.form_part(ids.PE_ERROR, key), className="field-error")


def _labelled(label: str, control: Any, key: str, hint: str = "") -> html.Label:
    children = [html.Span(label, className="form-label"), control]
    if hint:
        children.append(html.Span(hint, className="form-hint"))
    children.append(_error(key))
    return html.Label(className="form-field", children=children)


def panel_form(panel: dict[str, Any], catalog: dict[str, Any]) -> list[Any]:
    """The whole form for ``panel``; ``catalog`` has ``metrics``, ``sources`` and ``labels``."""
    general = [
        _labelled("Title", dcc.Input(id=ids.form_part(ids.PE_FIELD, "title"),
                                     value=panel.get("title", ""), className="text-input"),
                  "title"),
        _labelled("Description (tooltip)",
                  dcc.Input(id=ids.form_part(ids.PE_FIELD, "description"),
                            value=panel.get("description", ""), className="text-input"),
                  "description"),
        _labelled("Type", dcc.Dropdown(id=ids.form_part(ids.PE_FIELD, "type"),
                                       options=list(PANEL_TYPES), value=panel["type"],
                                       clearable=False), "type"),
    ]  # fmt: skip
    return [
        html.Div(className="form-grid", children=general),
        html.H3("Options"),
        html.Div(id=ids.PE_OPTIONS, className="form-grid", children=option_controls(panel)),
        html.Div(
            id="pe-query-section",
            hidden=panel["type"] == "text",
            children=[
                html.H3("Queries"),
                html.Datalist(
                    id="pe-sources",
                    children=[html.Option(value=s) for s in catalog.get("sources", [])],
                ),
                html.Div(
                    id=ids.PE_QUERIES,
                    # A panel without a query starts with an empty one to fill in.
                    children=query_controls(
                        [forms.query_values(q) for q in panel.get("queries", [])]
                        or [forms.query_values({"metric": None})],
                        catalog,
                    ),
                ),
                html.Button("Add query", id=ids.PE_QUERY_ADD, className="button"),
                _error("queries"),
            ],
        ),
        _error("panel"),
    ]


def option_controls(panel: dict[str, Any]) -> list[Any]:
    """One control per option of the panel's type, filled with its current values."""
    values = forms.option_values(panel)
    controls = []
    for field in forms.option_fields(panel["type"]):
        control_id = ids.form_part(ids.PE_OPTION, field.name)
        value = values.get(field.name)
        if field.kind == "select":
            control: Any = dcc.Dropdown(id=control_id, options=list(field.choices), value=value,
                                        clearable=False)  # fmt: skip
        elif field.kind == "checkbox":
            control = dcc.Checklist(
                id=control_id, options=[{"label": field.label, "value": field.name}], value=value
            )
        elif field.kind == "markdown":
            control = dcc.Textarea(id=control_id, value=value or "", className="markdown-input")
        elif field.kind == "number":
            control = dcc.Input(id=control_id, type="number", value=value, className="text-input")
        elif field.kind == "unit":
            control = html.Div([
                dcc.Input(id=control_id, value=value or "", list=UNIT_LIST, className="text-input",
                          placeholder="bytes, ms, percent or suffix:rpm", debounce=True),
                html.Datalist(id=UNIT_LIST, children=[html.Option(label, value=unit)
                                                      for unit, label in unit_choices()]),
            ])  # fmt: skip
        else:
            placeholder = PLACEHOLDERS.get(field.kind, "")
            control = dcc.Input(id=control_id, value=value or "", placeholder=placeholder,
                                className="text-input")  # fmt: skip
        controls.append(_labelled(field.label, control, f"option:{field.name}", field.help))
    return controls


def query_controls(queries: list[dict[str, Any]], catalog: dict[str, Any]) -> list[Any]:
    """One block of pickers per query: metric, source, labels, aggregation, group by, ..."""
    blocks = []
    for index, query in enumerate(queries):

        def part(name: str, index: int = index) -> dict[str, Any]:
            return ids.query_part(index, name)

        def key(name: str, index: int = index) -> str:
            return f"query:{index}:{name}"

        group_keys = ["source", "name", *catalog.get("labels", {}).get(query.get("metric"), [])]
        blocks.append(
            html.Div(
                className="query-block form-grid",
                children=[
                    _labelled(
                        "Metric",
                        dcc.Dropdown(
                            id=part("metric"),
                            options=catalog.get("metrics", []),
                            value=query.get("metric"),
                            placeholder="pick a metric",
                        ),
                        key("metric"),
                    ),
                    _labelled(
                        "Source",
                        dcc.Input(
                            id=part("source"),
                            value=query.get("source"),
                            list="pe-sources",
                            placeholder="any; web-* or $host",
                            className="text-input",
                        ),
                        key("source"),
                    ),
                    _labelled(
                        "Labels",
                        dcc.Input(
                            id=part("labels"),
                            value=query.get("labels"),
                            placeholder="region=eu",
                            className="text-input",
                        ),
                        key("labels"),
                    ),
                    _labelled(
                        "Aggregation",
                        dcc.Dropdown(
                            id=part("agg"),
                            options=list(AGGREGATIONS),
                            value=query.get("agg"),
                            clearable=False,
                        ),
                        key("agg"),
                    ),
                    _labelled(
                        "Group by",
                        dcc.Dropdown(
                            id=part("group_by"),
                            options=sorted(set(group_keys)),
                            value=query.get("group_by"),
                            multi=True,
                            placeholder="one line for all",
                        ),
                        key("group_by"),
                    ),
                    _labelled(
                        "Interval",
                        dcc.Input(
                            id=part("interval"),
                            value=query.get("interval"),
                            placeholder="auto or 1m",
                            className="text-input",
                        ),
                        key("interval"),
                    ),
                    _labelled(
                        "Mode",
                        dcc.Dropdown(
                            id=part("mode"),
                            options=list(MODES),
                            value=query.get("mode"),
                            clearable=False,
                        ),
                        key("mode"),
                    ),
                    _labelled(
                        "Legend alias",
                        dcc.Input(
                            id=part("alias"), value=query.get("alias"), className="text-input"
                        ),
                        key("alias"),
                    ),
                    html.Button(
                        "Remove query",
                        id={"type": ids.PE_QUERY_REMOVE, "index": index},
                        className="button danger",
                    ),
                ],
            )
        )
    return blocks
