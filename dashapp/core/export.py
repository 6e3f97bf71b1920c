"""CSV export of what a panel shows."""

from __future__ import annotations

import csv
import io
from typing import Any

from dashapp.core.panel_data import PanelData
from dashapp.core.units import unit_header


def _named(column: str, unit: str | None) -> str:
    """A column header naming the unit of its raw values: ``value (bytes)``."""
    words = unit_header(unit)
    return f"{column} ({words})" if words else column


def panel_unit(panel: Any) -> str | None:
    """The unit a panel prints its values in (None for panels without one)."""
    return getattr(getattr(panel, "options", None), "unit", None)


def panel_csv(data: PanelData, unit: str | None = None) -> str:
    """``time,series,value`` rows for every query result, or ``time,bin_from,bin_to,count``.

    Values stay raw numbers (a spreadsheet computes with them); the header names their
    unit: ``value (bytes)``, ``bin_from (ms)``."""
    out = io.StringIO()
    writer = csv.writer(out)
    histogram = data.histogram
    if histogram is not None:
        writer.writerow(["time", _named("bin_from", unit), _named("bin_to", unit), "count"])
        for column, moment in enumerate(histogram.times):
            for index, counts in enumerate(histogram.counts):
                low, high = histogram.edges[index], histogram.edges[index + 1]
                writer.writerow([moment.isoformat(), low, high, counts[column]])
        return out.getvalue()
    writer.writerow(["time", "series", _named("value", unit)])
    for result in data.results:
        for series in result.series:
            for moment, value in zip(series.timestamps, series.values, strict=True):
                name = _cell(series.name)
                writer.writerow([moment.isoformat(), name, "" if value is None else value])
    return out.getvalue()


def _cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula (series names come from clients)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def wide_rows(data: PanelData, unit: str | None = None) -> tuple[list[str], list[list[object]]]:
    """One row per time, one column per series (a spreadsheet's favourite shape):
    (header, rows); a missing value is an empty cell; headers name the unit."""
    columns: dict[str, dict[object, float | None]] = {}
    for result in data.results:
        for series in result.series:
            name, n = _cell(series.name), 2
            while name in columns:
                name, n = f"{_cell(series.name)} ({n})", n + 1
            columns[name] = dict(zip(series.timestamps, series.values, strict=True))
    times = sorted({moment for values in columns.values() for moment in values})
    rows = [
        [
            moment.isoformat(),
            *("" if (v := values.get(moment)) is None else v for values in columns.values()),
        ]
        for moment in times
    ]
    return ["time", *(_named(name, unit) for name in columns)], rows


def panel_csv_wide(data: PanelData, unit: str | None = None) -> str:
    """The wide table of :func:`wide_rows` as CSV (the histogram stays long)."""
    if data.histogram is not None:
        return panel_csv(data, unit)
    header, rows = wide_rows(data, unit)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
