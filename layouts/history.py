"""A dashboard's history: every saved version, a diff between any two, and restore."""

from __future__ import annotations

from collections.abc import Sequence

from dash import dcc, html

from dashapp.core.diff import Change, summarize
from dashapp.core.records import Dashboard, DashboardVersion
from layouts import ids


def history_page(
    dashboard: Dashboard, versions: Sequence[DashboardVersion], can_restore: bool
) -> html.Div:
    """Versions newest first, with a compare picker preset to the last change."""
    numbers = [v.version for v in versions]
    older = numbers[1] if len(numbers) > 1 else numbers[0]
    return html.Div(
        className="history",
        children=[
            dcc.Store(id="history-slug", data=dashboard.slug),
            html.Div(
                className="toolbar",
                children=[
                    html.H1(f"History of “{dashboard.title}”"),
                    html.A(
                        "Back to the dashboard", href=f"/d/{dashboard.slug}", className="button"
                    ),
                ],
            ),
            html.Div(id=ids.HISTORY_MESSAGE),
            html.Div(
                id="history-table", children=version_table(versions, dashboard.version, can_restore)
            ),
            html.H2("Compare versions"),
            html.Div(
                className="compare",
                children=[
                    dcc.Dropdown(id=ids.HISTORY_A, options=numbers, value=older, clearable=False),
                    html.Span("→"),
                    dcc.Dropdown(
                        id=ids.HISTORY_B, options=numbers, value=numbers[0], clearable=False
                    ),
                ],
            ),
            html.Div(id=ids.HISTORY_DIFF, className="diff"),
        ],
    )


def version_table(
    versions: Sequence[DashboardVersion], current: int, can_restore: bool
) -> html.Table:
    """One row per version: number, author, time, message, and a Restore button."""
    header = html.Tr([html.Th(h) for h in ("Version", "Author", "Saved", "Message", "")])
    rows = []
    for version in versions:
        action = html.Span("current", className="muted") if version.version == current else (
            html.Button("Restore", id={"type": ids.HISTORY_RESTORE, "version": version.version},
                        className="button") if can_restore else ""
        )  # fmt: skip
        rows.append(
            html.Tr(
                [
                    html.Td(str(version.version)),
                    html.Td(version.author or "(unknown)"),
                    html.Td(f"{version.created_at:%Y-%m-%d %H:%M} UTC"),
                    html.Td(version.message or ""),
                    html.Td(action),
                ]
            )
        )
    return html.Table(className="versions", children=[header, *rows])


def diff_view(changes: Sequence[Change]) -> html.Div:
    """Changes grouped by where they happened, each field with its before and after."""
    if not changes:
        return html.Div("These versions are identical.", className="muted")
    items = []
    for change in changes:
        if change.kind in ("added", "removed"):
            text = f"{change.kind.capitalize()}: {change.where}"
            items.append(html.Li(text, className=f"diff-{change.kind}"))
            continue
        items.append(
            html.Li(
                className="diff-changed",
                children=[
                    html.Span(f"{change.where}: ", className="diff-where"),
                    html.Code(change.field),
                    html.Span(" "),
                    html.Del(_short(change.before)),
                    html.Span(" → "),
                    html.Ins(_short(change.after)),
                ],
            )
        )
    return html.Div([html.P(summarize(list(changes)), className="muted"), html.Ul(items)])


def _short(value: object) -> str:
    text = "(none)" if value is None else str(value)
    return text if len(text) <= 80 else text[:77] + "…"
