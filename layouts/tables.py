"""Table panels: one row per series with last, min, max and average, sortable by column.

Plain HTML drawn from Python: a dozen rows need no grid library, and the page loads
without one (AG Grid cost a dashboard with a table about a quarter of a second).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dash import html

from dashapp.core.reductions import Reduction
from dashapp.core.spec import TablePanel
from layouts import ids
from layouts.units import format_value

STATISTICS = ("last", "min", "max", "avg")
COLUMNS = ("series", *STATISTICS)
UNSORTED: dict[str, Any] = {"column": None, "descending": False}


def sort_button_id(panel_id: str, column: str) -> dict[str, str]:
    """Id of the header button that sorts a table panel by ``column``."""
    return {"type": ids.PANEL_SORT, ids.TABLE_KEY: panel_id, "column": column}


def table_frame(panel: TablePanel) -> html.Div:
    """The table's header of sort buttons and its body, which a callback fills."""
    header = [
        html.Th(
            html.Button(column.capitalize(), id=sort_button_id(panel.id, column), className=name)
        )
        for column, name in zip(COLUMNS, header_classes(None), strict=True)
    ]
    table = html.Table(
        className="data-table",
        children=[
            html.Thead(html.Tr(header)),
            html.Tbody(id=ids.panel_part(ids.PANEL_TABLE, panel.id, ids.TABLE_KEY)),
        ],
    )
    return html.Div(table, className="table-scroll")


def static_table(body: Any) -> html.Table:
    """A table with a plain header around rows from ``table_body`` (full screen, preview)."""
    header = [
        html.Th(column.capitalize(), className=None if column == "series" else "numeric")
        for column in COLUMNS
    ]
    return html.Table(className="data-table", children=[html.Thead(html.Tr(header)), body])


def table_rows(panel: TablePanel, reductions: Sequence[Reduction]) -> list[dict[str, Any]]:
    """One row per series: its last, min, max and average over the range."""
    return [
        {"series": r.name, **{name: r.value(name) for name in STATISTICS}}
        for r in list(reductions)[: panel.options.series_limit]
    ]


def next_sort(current: dict[str, Any] | None, clicked: str) -> dict[str, Any]:
    """Sort state after a header click: a new column sorts names A-Z and numbers largest
    first; clicking the sorted column again reverses it."""
    current = current or UNSORTED
    if current.get("column") == clicked:
        return {"column": clicked, "descending": not current.get("descending")}
    return {"column": clicked, "descending": clicked != "series"}


def sort_rows(rows: list[dict[str, Any]], sort: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Rows in the order ``sort`` asks for; rows without a value go last either way."""
    sort = sort or UNSORTED
    column = sort.get("column")
    if column not in COLUMNS:
        return list(rows)
    present = [row for row in rows if row[column] is not None]
    missing = [row for row in rows if row[column] is None]
    present.sort(key=lambda row: row[column], reverse=bool(sort.get("descending")))
    return present + missing


def header_classes(sort: dict[str, Any] | None) -> list[str]:
    """Each header button's class, marking the sorted column and its direction."""
    sort = sort or UNSORTED
    classes = []
    for column in COLUMNS:
        name = "table-sort" if column == "series" else "table-sort numeric"
        if sort.get("column") == column:
            name += " sorted-desc" if sort.get("descending") else " sorted-asc"
        classes.append(name)
    return classes


def table_body(panel: TablePanel, rows: Sequence[dict[str, Any]]) -> list[html.Tr]:
    """The rows as cells, each statistic printed in the panel's unit."""
    unit = panel.options.unit
    return [
        html.Tr(
            [html.Td(row["series"])]
            + [html.Td(format_value(row[name], unit), className="numeric") for name in STATISTICS]
        )
        for row in rows
    ]
