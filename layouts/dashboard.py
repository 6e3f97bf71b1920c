"""The dashboard page: toolbar, variables, the panel grid, and the inspect/fullscreen views."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from dash import dcc, html

from dashapp.core.records import Dashboard
from dashapp.core.spec import DashboardSpec, dump_spec
from dashapp.core.view_state import ALL_CHOICE, ViewState, default_view, refresh_interval_ms
from layouts import ids
from layouts.annotations import annotate_dialog, annotation_bar
from layouts.editor import editor_extras
from layouts.panels import Stored, panel_frame, panel_grid
from layouts.timepicker import time_controls, time_keys


def dashboard_page(
    dashboard: Dashboard,
    spec: DashboardSpec,
    view: ViewState,
    variable_choices: dict[str, list[str]],
    *,
    can_edit: bool = False,
    editing: bool = False,
    metrics: list[str] | None = None,
    notice: str = "",
    zone: str = "UTC",
    browser_zone: str | None = None,
    view_panel: str | None = None,
) -> html.Div:
    """A dashboard showing ``view`` (from the URL or the spec's defaults), in view or edit mode."""
    interval = refresh_interval_ms(view.refresh)
    extras = editor_extras(dashboard, dump_spec(spec), metrics or []) if editing else []
    if can_edit and not editing:
        extras = draft_watch(dashboard)
    return html.Div(
        className="dashboard editing" if editing else "dashboard",
        children=[
            # The view's own Location: its callback lives wholly inside this page.
            dcc.Location(id=ids.VIEW_URL, refresh="callback-nav"),
            dcc.Store(id=ids.DASHBOARD_SLUG, data=dashboard.slug),
            dcc.Store(id=ids.VIEW_DEFAULTS, data=asdict(default_view(spec))),
            dcc.Store(id=ids.VARIABLE_CHOICES, data=variable_choices),
            dcc.Store(id=ids.TIME_RANGE, data={**view.time_range, "tz": zone}),
            dcc.Store(id=ids.ZONE_SETTING, data=spec.time.timezone),
            dcc.Store(id=ids.TIME_HISTORY, data=[]),
            dcc.Store(id=ids.VARIABLES, data=view.variables),
            dcc.Interval(id=ids.AUTO_REFRESH, interval=interval or 60_000, disabled=not interval),
            *time_keys(),
            html.Div(
                className="toolbar",
                children=[
                    html.Div(
                        className="toolbar-title",
                        children=[
                            html.H1(spec.title),
                            html.Div(
                                className="tags",
                                children=[html.Span(t, className="tag") for t in spec.tags],
                            ),
                            *([] if editing else view_actions(dashboard, can_edit)),
                        ],
                    ),
                    # On a phone the controls fold behind this toggle (CSS only, no script).
                    dcc.Checklist(
                        id=ids.CONTROLS_TOGGLE,
                        options=[{"label": "☰ Time range, zone & refresh", "value": "open"}],
                        value=[],
                        className="controls-toggle",
                    ),
                    time_controls(view, notice, zone, browser_zone),
                ],
            ),
            *extras,
            variable_bar(spec, view, variable_choices),
            panel_grid(spec, editable=editing, stored=(dashboard.slug, dashboard.version)),
            inspect_modal(),
            fullscreen_modal(spec, view_panel, (dashboard.slug, dashboard.version)),
            *([annotate_dialog()] if can_edit else []),
        ],
    )


def draft_watch(dashboard: Dashboard) -> list[html.Component]:
    """In view mode, where an editor learns that this browser holds unsaved edits."""
    return [
        dcc.Store(id=ids.DASHBOARD_ID, data=dashboard.id),
        dcc.Store(id=ids.DRAFTS, storage_type="local"),
        html.Div(id=ids.DRAFT_NOTICE, className="editor-banner"),
    ]


def draft_notice(slug: str, saved_at: str) -> html.Div:
    """ "You have unsaved changes", with the way back to them."""
    return html.Div(
        className="banner warning",
        children=[
            html.Span(f"You have unsaved changes to this dashboard (from {saved_at}). "),
            html.A("Continue editing", href=f"/d/{slug}/edit", className="button"),
        ],
    )


def view_actions(dashboard: Dashboard, can_edit: bool) -> list[html.Component]:
    """Links from view mode: edit (for editors), history, and the JSON export."""
    actions = [
        html.A("History", href=f"/d/{dashboard.slug}/history", className="button"),
        html.Button("Export JSON", id=ids.VIEW_EXPORT, className="button"),
        dcc.Download(id=ids.VIEW_EXPORT_DOWNLOAD),
    ]
    if can_edit:
        actions.insert(0, html.A("Edit", href=f"/d/{dashboard.slug}/edit", className="button",
                                 id="edit-link"))  # fmt: skip
    return actions


def variable_bar(spec: DashboardSpec, view: ViewState, choices: dict[str, list[str]]) -> html.Div:
    """One dropdown per dashboard variable ("All", the empty selection, applies no
    filter), and the annotations' tag filter."""
    controls = []
    for variable in spec.variables:
        options = [{"label": value, "value": value} for value in choices.get(variable.name, [])]
        if variable.include_all:
            options.insert(0, {"label": "All", "value": ALL_CHOICE})
        everything = [ALL_CHOICE] if variable.include_all else []
        selected = view.variables.get(variable.name) or everything
        controls.append(
            html.Label(
                className="variable",
                children=[
                    html.Span(variable.label or variable.name, className="variable-label"),
                    dcc.Dropdown(
                        id=ids.variable(variable.name),
                        options=options,
                        value=selected if variable.multi else (selected[:1] or [None])[0],
                        multi=variable.multi,
                        clearable=True,
                        className="variable-select",
                    ),
                ],
            )
        )
    return html.Div(className="variable-bar", children=[*controls, annotation_bar()])


def _modal(
    modal_id: str,
    body_id: str,
    close_id: str,
    title: Any,
    extra: list,
    *,
    title_id: str | None = None,
    body: Any = None,
    card_class: str = "modal-card",
) -> html.Div:
    return html.Div(
        id=modal_id,
        className="modal hidden" if body is None else "modal",
        children=html.Div(
            className=card_class,
            children=[
                html.Div(
                    className="modal-header",
                    children=[
                        html.Span(
                            title, className="modal-title", **({"id": title_id} if title_id else {})
                        ),
                        *extra,
                        html.Button("Close", id=close_id, className="button modal-close"),
                    ],
                ),
                html.Div(body, id=body_id, className="modal-body"),
            ],
        ),
    )


def inspect_modal() -> html.Div:
    """The inspect view: query, SQL, timing, points, CSV download."""
    download = [
        dcc.Store(id=ids.INSPECT_PANEL),
        html.Button(
            "Download CSV",
            id=ids.INSPECT_CSV,
            className="button primary",
            title="One row per point: time, series, value",
        ),
        html.Button(
            "CSV (wide)",
            id=ids.INSPECT_CSV_WIDE,
            className="button",
            title="One row per time, one column per series",
        ),
        dcc.Download(id=ids.INSPECT_DOWNLOAD),
    ]
    return _modal(ids.INSPECT_MODAL, ids.INSPECT_BODY, ids.INSPECT_CLOSE, "Inspect", download)


FULLSCREEN_CARD = "modal-card fullscreen-card"
"""The full-screen view takes the whole window, as Grafana's panel view does."""


def fullscreen_modal(
    spec: DashboardSpec | None = None,
    view_panel: str | None = None,
    stored: Stored | None = None,
) -> html.Div:
    """A panel at full screen size; open on ``view_panel`` (``?viewPanel=`` in the URL),
    drawn live by the panel callbacks as a copy of that saved panel (``stored``)."""
    panel = next((p for p in spec.panels if p.id == view_panel), None) if spec else None
    if panel is None:
        return _modal(ids.FULLSCREEN_MODAL, ids.FULLSCREEN_BODY, ids.FULLSCREEN_CLOSE, "", [],
                      title_id=ids.FULLSCREEN_TITLE, card_class=FULLSCREEN_CARD)  # fmt: skip
    copy = panel.model_copy(update={"id": f"{panel.id}-full"[:40]})
    body = html.Div(
        panel_frame(copy, stored=stored, saved_id=panel.id), className="fullscreen-live"
    )
    return _modal(ids.FULLSCREEN_MODAL, ids.FULLSCREEN_BODY, ids.FULLSCREEN_CLOSE,
                  panel.title, [], title_id=ids.FULLSCREEN_TITLE, body=body,
                  card_class=FULLSCREEN_CARD)  # fmt: skip
