"""Edit mode of a dashboard: the edit bar, settings, variables and the stores behind them."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from dashapp.core.records import Dashboard
from dashapp.core.spec import PANEL_TYPES
from dashapp.core.view_state import REFRESH_CHOICES
from dashapp.core.zones import BROWSER, zone_names
from layouts import ids
from layouts.panel_editor import panel_editor_modal

VARIABLE_COLUMNS = ("name", "label", "metric", "key")


def editor_stores(dashboard: Dashboard, document: dict[str, Any]) -> list[Any]:
    """The saved state, the working draft (in memory and in the browser) and flags."""
    base = {"id": dashboard.id, "slug": dashboard.slug, "version": dashboard.version,
            "spec": document}  # fmt: skip
    return [
        dcc.Store(id=ids.EDITOR_BASE, data=base),
        dcc.Store(id=ids.EDITOR_DRAFT, data=document),
        dcc.Store(id=ids.EDITOR_DIRTY, data=None),  # None: the editor has not opened yet
        dcc.Store(id=ids.UNLOAD_GUARD),
        dcc.Store(id=ids.DRAFTS, storage_type="local"),
        dcc.Store(id=ids.EDITING_PANEL),
        dcc.Store(id=ids.SCROLLED_TO),
        dcc.Download(id=ids.EXPORT_DOWNLOAD),
        dcc.ConfirmDialog(
            id=ids.DELETE_CONFIRM,
            message=f"Delete “{dashboard.title}”? Admins can restore it from the dashboards page.",
        ),
    ]


def edit_bar(dashboard: Dashboard) -> html.Div:
    """Add panels, save with a message, and the dashboard-wide actions."""
    return html.Div(
        className="edit-bar",
        children=[
            html.Span("Editing", className="edit-badge"),
            dcc.Dropdown(
                id=ids.ADD_PANEL_TYPE,
                options=[{"label": t.capitalize(), "value": t} for t in PANEL_TYPES],
                value="timeseries",
                clearable=False,
                searchable=False,
                className="add-panel-type",
            ),
            html.Button("Add panel", id=ids.ADD_PANEL, className="button"),
            dcc.Input(
                id=ids.SAVE_MESSAGE,
                placeholder="What changed? (optional)",
                className="text-input save-message",
                debounce=False,
            ),
            html.Button("Save", id=ids.SAVE, className="button primary"),
            html.Button("Discard changes", id=ids.DISCARD, className="button"),
            html.A("History", href=f"/d/{dashboard.slug}/history", className="button"),
            html.Button("Export JSON", id=ids.EXPORT, className="button"),
            html.Button("Duplicate", id=ids.DUPLICATE_DASHBOARD, className="button"),
            html.Button("Delete", id=ids.DELETE_DASHBOARD, className="button danger"),
            html.A("Done", href=f"/d/{dashboard.slug}", className="button", id="edit-done"),
        ],
    )


def banner() -> html.Div:
    """Where the editor says what happened: saved, restored draft, conflict, errors."""
    return html.Div(id=ids.EDITOR_BANNER, className="editor-banner")


def _field(label: str, control: Any, key: str) -> html.Label:
    return html.Label(
        className="form-field",
        children=[
            html.Span(label, className="form-label"),
            control,
            html.Div(id={"type": "setting-error", "name": key}, className="field-error"),
        ],
    )


def settings_section(dashboard: Dashboard, document: dict[str, Any]) -> html.Details:
    """Title, slug, description, tags, default time range and refresh."""
    time = document.get("time", {})

    def text(name: str, value: str, placeholder: str = "") -> dcc.Input:
        return dcc.Input(id=ids.setting(name), value=value, debounce=True,
                         placeholder=placeholder, className="text-input")  # fmt: skip

    return html.Details(
        className="editor-section",
        children=[
            html.Summary("Dashboard settings"),
            html.Div(
                className="form-grid",
                children=[
                    _field("Title", text("title", document.get("title", "")), "title"),
                    _field("Slug (URL)", text("slug", dashboard.slug), "slug"),
                    _field(
                        "Description",
                        text("description", document.get("description", "")),
                        "description",
                    ),
                    _field(
                        "Tags",
                        text("tags", ", ".join(document.get("tags", [])), "comma, separated"),
                        "tags",
                    ),
                    _field(
                        "Default from", text("time_from", time.get("from", "now-6h")), "time_from"
                    ),
                    _field("Default to", text("time_to", time.get("to", "now")), "time_to"),
                    _field(
                        "Default refresh",
                        dcc.Dropdown(
                            id=ids.setting("refresh"),
                            options=list(REFRESH_CHOICES),
                            value=time.get("refresh", "off"),
                            clearable=False,
                        ),
                        "refresh",
                    ),
                    _field(
                        "Time zone",
                        dcc.Dropdown(
                            id=ids.setting("timezone"),
                            options=[
                                {"label": "Browser time", "value": BROWSER},
                                "UTC",
                                *zone_names(),
                            ],
                            value=time.get("timezone", BROWSER),
                            clearable=False,
                        ),
                        "timezone",
                    ),
                ],
            ),
        ],
    )


def variables_section(document: dict[str, Any], metrics: list[str]) -> html.Details:
    """The dashboard's variables: one row each, plus add and remove."""
    return html.Details(
        className="editor-section",
        children=[
            html.Summary("Variables"),
            html.Div(id="variable-rows", children=variable_rows(document, metrics)),
            html.Button("Add variable", id=ids.VARIABLE_ADD, className="button"),
        ],
    )


def variable_rows(document: dict[str, Any], metrics: list[str]) -> list[Any]:
    """Editable rows for ``document``'s variables."""
    rows = []
    for index, variable in enumerate(document.get("variables", [])):

        def part(name: str, index: int = index) -> dict[str, Any]:
            return {"type": ids.VARIABLE_FIELD, "index": index, "name": name}

        rows.append(
            html.Div(
                className="variable-row",
                children=[
                    dcc.Input(
                        id=part("name"),
                        value=variable.get("name", ""),
                        debounce=True,
                        placeholder="name",
                        className="text-input",
                    ),
                    dcc.Input(
                        id=part("label"),
                        value=variable.get("label", ""),
                        debounce=True,
                        placeholder="label",
                        className="text-input",
                    ),
                    dcc.Dropdown(
                        id=part("metric"),
                        options=metrics,
                        value=variable.get("metric"),
                        placeholder="any metric",
                        className="variable-metric",
                    ),
                    dcc.Input(
                        id=part("key"),
                        value=variable.get("key", "source"),
                        debounce=True,
                        placeholder="source or a label",
                        className="text-input",
                    ),
                    dcc.Checklist(
                        id=part("flags"),
                        options=[
                            {"label": "multi", "value": "multi"},
                            {"label": "All", "value": "include_all"},
                        ],
                        value=[f for f in ("multi", "include_all") if variable.get(f, True)],
                        inline=True,
                    ),
                    html.Button(
                        "Remove",
                        id={"type": ids.VARIABLE_REMOVE, "index": index},
                        className="button danger",
                    ),
                    html.Div(
                        id={"type": "variable-error", "index": index}, className="field-error"
                    ),
                ],
            )
        )
    return rows


def editor_extras(dashboard: Dashboard, document: dict[str, Any], metrics: list[str]) -> list[Any]:
    """Everything edit mode adds to the dashboard page."""
    return [
        *editor_stores(dashboard, document),
        edit_bar(dashboard),
        banner(),
        settings_section(dashboard, document),
        variables_section(document, metrics),
        panel_editor_modal(),
    ]
