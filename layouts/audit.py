"""The admin page's audit log: who did what, through which channel, to what, and when;
filtered by actor, action and dates, a page at a time."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from dash import dcc, html

from dashapp.core.records import AuditEntry, AuditPage
from layouts import ids

PAGE_SIZE = 50


def audit_section(actors: Sequence[str], actions: Sequence[str]) -> html.Section:
    """Filters (actor, action, dates in UTC), the table a callback fills, and paging."""
    return html.Section(
        className="audit",
        children=[
            html.H2("Audit log"),
            html.Div(
                className="admin-form audit-filters",
                children=[
                    dcc.Dropdown(
                        id=ids.AUDIT_ACTOR,
                        options=list(actors),
                        placeholder="any actor",
                        className="audit-filter",
                    ),
                    dcc.Dropdown(
                        id=ids.AUDIT_ACTION,
                        options=list(actions),
                        placeholder="any action",
                        className="audit-filter",
                    ),
                    dcc.DatePickerRange(
                        id=ids.AUDIT_DATES,
                        start_date_placeholder_text="from (UTC)",
                        end_date_placeholder_text="to (UTC)",
                        clearable=True,
                        className="audit-dates",
                    ),
                ],
            ),
            dcc.Store(id=ids.AUDIT_OFFSET, data=0),
            html.Div(id=ids.AUDIT_TABLE, className="table-scroll-x"),
            html.Div(
                className="audit-pager",
                children=[
                    html.Button("Newer", id=ids.AUDIT_NEWER, className="button", disabled=True),
                    html.Span(id=ids.AUDIT_INFO, className="muted"),
                    html.Button("Older", id=ids.AUDIT_OLDER, className="button", disabled=True),
                ],
            ),
        ],
    )


def _detail(detail: dict[str, Any]) -> str:
    return ", ".join(f"{key}={json.dumps(value)}" for key, value in detail.items())


def _actor(entry: AuditEntry, deleted: Collection[str]) -> str:
    name = entry.actor or "(system)"
    return f"{name} (deleted)" if entry.actor in deleted else name


def audit_table(page: AuditPage, deleted: Collection[str] = ()) -> html.Table | html.P:
    """One row per entry, newest first; accounts deleted since are marked."""
    if not page.entries:
        return html.P("No entries match.", className="muted")
    header = ("Time (UTC)", "Actor", "Channel", "Action", "Target", "Detail")
    rows = [
        html.Tr(
            [
                html.Td(f"{e.at:%Y-%m-%d %H:%M:%S}", className="nowrap"),
                html.Td(_actor(e, deleted)),
                html.Td(e.channel),
                html.Td(html.Code(e.action)),
                html.Td(e.target),
                html.Td(_detail(e.detail), className="audit-detail"),
            ]
        )
        for e in page.entries
    ]
    return html.Table(
        id="audit-entries",
        className="versions admin-table",
        children=[html.Thead(html.Tr([html.Th(h) for h in header])), html.Tbody(rows)],
    )


def page_info(page: AuditPage) -> str:
    """``51 to 100 of 312``."""
    if not page.total:
        return ""
    last = page.offset + len(page.entries)
    return f"{page.offset + 1} to {last} of {page.total}"
