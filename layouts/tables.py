"""Table panels: one sortable row per series with last, min, max and average."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dashapp.reductions import Reduction
from dashapp.spec import TablePanel

STATISTICS = ("last", "min", "max", "avg")
# d3-format expressions (dash-ag-grid evaluates them in the browser) printing each unit.
_FORMAT = {
    "percent": "d3.format('.1f')(params.value) + '%'",
    "percentunit": "d3.format('.1%')(params.value)",
    "bytes": "d3.format('.3~s')(params.value) + 'B'",
    "bits": "d3.format('.3~s')(params.value) + 'b'",
    "seconds": "d3.format('.3~s')(params.value) + 's'",
    "ms": "d3.format('.3~f')(params.value) + ' ms'",
    "reqps": "d3.format('.3~s')(params.value) + ' req/s'",
    "ops": "d3.format('.3~s')(params.value) + ' ops/s'",
    "celsius": "d3.format('.1f')(params.value) + ' °C'",
}
# The grid takes its colours from the page's CSS variables, so it follows the theme.
GRID_THEME = {
    "function": "themeQuartz.withParams({backgroundColor: 'var(--surface)', "
    "foregroundColor: 'var(--text)', headerBackgroundColor: 'var(--surface-2)', "
    "borderColor: 'var(--border)', fontFamily: 'inherit', fontSize: 13, spacing: 6})"
}


def table_columns(panel: TablePanel) -> list[dict[str, Any]]:
    """AG Grid column definitions: the series name, then each statistic in the panel's unit."""
    expression = _FORMAT.get(panel.options.unit, "d3.format('.4~g')(params.value)")
    formatter = {"function": f"params.value == null ? '' : {expression}"}
    columns: list[dict[str, Any]] = [{"field": "series", "headerName": "Series", "flex": 2}]
    columns += [
        {
            "field": name,
            "headerName": name.capitalize(),
            "type": "rightAligned",
            "valueFormatter": formatter,
            "flex": 1,
        }
        for name in STATISTICS
    ]
    return columns


def table_rows(panel: TablePanel, reductions: Sequence[Reduction]) -> list[dict[str, Any]]:
    """One row per series: its last, min, max and average over the range."""
    return [
        {"series": r.name, **{name: r.value(name) for name in STATISTICS}}
        for r in list(reductions)[: panel.options.series_limit]
    ]
