"""Creating and importing dashboards, and the admins' list of deleted ones."""

from __future__ import annotations

from collections.abc import Sequence

from dash import dcc, html

from dashapp.core.records import DashboardSummary, DeletedDashboard
from layouts import ids

TEMPLATES = [("Blank dashboard", "blank"), ("Service health (demo)", "demo")]


def _field(label: str, control: object) -> html.Label:
    return html.Label(
        className="form-field", children=[html.Span(label, className="form-label"), control]
    )


def create_page(existing: Sequence[DashboardSummary]) -> html.Div:
    """Title, slug and a starting point: blank, the demo, or a copy of a dashboard."""
    options = [{"label": label, "value": value} for label, value in TEMPLATES]
    options += [{"label": f"Copy of “{d.title}”", "value": f"copy:{d.slug}"} for d in existing]
    title = dcc.Input(id=ids.CREATE_TITLE, className="text-input", placeholder="Checkout service")
    slug = dcc.Input(id=ids.CREATE_SLUG, className="text-input", placeholder="from the title")
    template = dcc.Dropdown(id=ids.CREATE_TEMPLATE, options=options, value="blank", clearable=False)
    return html.Div(
        className="form-page",
        children=[
            html.H1("New dashboard"),
            _field("Title", title),
            _field("Slug (optional)", slug),
            _field("Start from", template),
            html.Button("Create", id=ids.CREATE_SUBMIT, className="button primary"),
            html.Div(id=ids.CREATE_ERROR, className="field-error"),
        ],
    )


def import_page() -> html.Div:
    """Upload or paste a dashboard's JSON; it is checked before anything is stored."""
    return html.Div(
        className="form-page",
        children=[
            html.H1("Import a dashboard"),
            dcc.Upload(
                id=ids.IMPORT_UPLOAD,
                className="upload",
                accept=".json,application/json",
                children=html.Div(["Drop a JSON file here or ", html.A("choose one")]),
            ),
            dcc.Textarea(
                id=ids.IMPORT_TEXT,
                className="json-input",
                placeholder='…or paste it: {"schema_version": 2, "title": …}',
            ),
            html.Button("Import", id=ids.IMPORT_SUBMIT, className="button primary"),
            html.Div(id=ids.IMPORT_ERRORS),
        ],
    )


IMPORT_CHOICE = "import-choice"


def import_choice(slug: str, title: str) -> html.Div:
    """The imported dashboard is already here: replace it (a new version) or add a copy."""
    return html.Div(
        className="banner warning import-choice",
        children=[
            html.Span(["“", title, "” is already here (", dcc.Link(f"/d/{slug}", href=f"/d/{slug}"),
                       "). Replace it with the import (as a new version, its history kept), "
                       "or import a copy beside it?"]),
            html.Button("Replace it", id={"type": IMPORT_CHOICE, "action": "replace", "slug": slug},
                        className="button danger"),
            html.Button("Import a copy", id={"type": IMPORT_CHOICE, "action": "copy", "slug": slug},
                        className="button"),
        ],
    )  # fmt: skip


def deleted_section(deleted: Sequence[DeletedDashboard]) -> html.Div | None:
    """Deleted dashboards with a Restore button each (shown to admins)."""
    if not deleted:
        return None
    rows = [
        html.Li(
            className="deleted",
            children=[
                html.Span(f"{d.title} ({d.slug}), deleted {d.deleted_at:%Y-%m-%d %H:%M} UTC"),
                html.Button(
                    "Restore", id={"type": ids.UNDELETE, "dashboard": d.id}, className="button"
                ),
            ],
        )
        for d in deleted
    ]
    return html.Details(className="editor-section", children=[
        html.Summary(f"Deleted dashboards ({len(deleted)})"), html.Ul(rows)])  # fmt: skip
