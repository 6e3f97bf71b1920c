"""The inspect view's content: per query, what ran, where from, how long, how much."""

from __future__ import annotations

import json
from typing import Any

from dash import html

from dashapp.core.export import wide_rows
from dashapp.core.panel_data import PanelData
from dashapp.core.timerange import format_duration


def inspect_body(panel: Any, data: PanelData) -> list[Any]:
    """One section per query: the query, source, step, timing, point count and the SQL."""
    if data.histogram is not None:
        h = data.histogram
        facts = {
            "source": h.source,
            "bucket": format_duration(h.step),
            "bins": len(h.edges) - 1,
            "time buckets": len(h.times),
            "series": h.total_series,
            "query time": f"{h.elapsed_ms:.1f} ms",
            "served from cache": _yes(h.cached),
        }
        return [_section(panel.queries[0].model_dump(), facts, "")]
    sections = []
    for spec, result in zip(panel.queries, data.results, strict=False):
        facts = {
            "source": result.source,
            "mode": result.mode,
            "bucket": format_duration(result.step),
            "range": f"{result.start:%Y-%m-%d %H:%M:%S} → {result.end:%Y-%m-%d %H:%M:%S} UTC",
            "series shown": f"{len(result.series)} of {result.total_series}",
            "points": result.points,
            "query time": f"{result.elapsed_ms:.1f} ms",
            "served from cache": _yes(result.cached),
        }
        sections.append(_section(spec.model_dump(), facts, result.sql))
    if not sections:
        return [html.P("This panel has no query.")]
    return [*sections, data_section(data), json_section(panel)]


DATA_ROWS = 100


def data_section(data: PanelData) -> html.Section:
    """The panel's data as a table: a row per time, a column per series (first rows)."""
    header, rows = wide_rows(data)
    shown = rows[-DATA_ROWS:]
    note = f"The last {len(shown)} of {len(rows)} rows; the CSV downloads have them all."
    table = html.Table(
        className="data-table inspect-data",
        children=[
            html.Thead(html.Tr([html.Th(h) for h in header])),
            html.Tbody([html.Tr([html.Td(str(c)) for c in row]) for row in shown]),
        ],
    )
    return html.Section(
        className="inspect-section",
        children=[
            html.H3("Data"),
            html.P(note, className="muted"),
            html.Div(table, className="table-scroll-x inspect-data-scroll"),
        ],
    )


def json_section(panel: Any) -> html.Section:
    """The panel's JSON, as the dashboard stores it."""
    document = panel.model_dump(mode="json", by_alias=True)
    return html.Section(
        className="inspect-section",
        children=[
            html.H3("Panel JSON"),
            html.Pre(json.dumps(document, indent=2), id="inspect-json"),
        ],
    )


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _section(query: dict[str, Any], facts: dict[str, Any], sql: str) -> html.Section:
    return html.Section(
        className="inspect-section",
        children=[
            html.H3(query.get("metric", "query")),
            html.Table(
                className="facts",
                children=[
                    html.Tr([html.Th(name), html.Td(str(value))]) for name, value in facts.items()
                ],
            ),
            html.Details([html.Summary("Query"), html.Pre(json.dumps(query, indent=2))]),
            html.Details([html.Summary("SQL"), html.Pre(sql or "-")]),
        ],
    )
