"""CSV export of what a panel shows."""

from __future__ import annotations

import csv
import io

from dashapp.core.panel_data import PanelData


def panel_csv(data: PanelData) -> str:
    """``time,series,value`` rows for every query result, or ``time,bin_from,bin_to,count``."""
    out = io.StringIO()
    writer = csv.writer(out)
    histogram = data.histogram
    if histogram is not None:
        writer.writerow(["time", "bin_from", "bin_to", "count"])
        for column, moment in enumerate(histogram.times):
            for index, counts in enumerate(histogram.counts):
                low, high = histogram.edges[index], histogram.edges[index + 1]
                writer.writerow([moment.isoformat(), low, high, counts[column]])
        return out.getvalue()
    writer.writerow(["time", "series", "value"])
    for result in data.results:
        for series in result.series:
            for moment, value in zip(series.timestamps, series.values, strict=True):
                name = _cell(series.name)
                writer.writerow([moment.isoformat(), name, "" if value is None else value])
    return out.getvalue()


def _cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula (series names come from clients)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def wide_rows(data: PanelData) -> tuple[list[str], list[list[object]]]:
    """One row per time, one column per series (a spreadsheet's favourite shape):
    (header, rows); a missing value is an empty cell."""
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
    return ["time", *columns], rows


def panel_csv_wide(data: PanelData) -> str:
    """The wide table of :func:`wide_rows` as CSV (the histogram stays long)."""
    if data.histogram is not None:
        return panel_csv(data)
    header, rows = wide_rows(data)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
