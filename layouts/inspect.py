"""The inspect view's content: per query, what ran, where from, how long, how much, and
which blocks of the answer came from the cache and which were computed."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from dash import html

from dashapp.core.export import panel_unit, wide_rows
from dashapp.core.panel_data import PanelData
from dashapp.core.reductions import VALUE_AGGREGATIONS
from dashapp.core.results import Block
from dashapp.core.timerange import format_duration
from dashapp.core.units import unit_header


def inspect_body(panel: Any, data: PanelData) -> list[Any]:
    """One section per query: the query, source, step, timing, point count, the blocks of
    the answer (cached or computed) and the SQL."""
    if data.histogram is not None:
        h = data.histogram
        facts = {
            "source": h.source, "bucket": format_duration(h.step), "bins": len(h.edges) - 1,
            "time buckets": len(h.times), "series": h.total_series,
            "query time": f"{h.elapsed_ms:.1f} ms",
            "served from cache": cache_use(h.blocks, h.cached),
        }  # fmt: skip
        return [_section(panel.queries[0].model_dump(), facts, "", h.blocks)]
    summaries = iter(data.summaries)  # one per query with a value aggregation, in order
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
            "served from cache": cache_use(result.blocks, result.cached),
        }
        blocks = result.blocks
        summary = next(summaries, None) if spec.agg in VALUE_AGGREGATIONS else None
        if summary is not None:
            facts["totals from cache"] = cache_use(summary.blocks, summary.cached)
            blocks = (*blocks, *summary.blocks)
        sections.append(_section(spec.model_dump(), facts, result.sql, blocks))
    if not sections:
        return [html.P("This panel has no query.")]
    return [*sections, data_section(data, panel_unit(panel)), json_section(panel)]


DATA_ROWS = 100


def data_section(data: PanelData, unit: str | None = None) -> html.Section:
    """The panel's data as a table: a row per time, a column per series (first rows),
    raw values; the note above names their unit (the CSV headers do too)."""
    header, rows = wide_rows(data)
    shown = rows[-DATA_ROWS:]
    note = f"The last {len(shown)} of {len(rows)} rows; the CSV downloads have them all."
    words = unit_header(unit)
    if words:
        note = f"Raw values in {words}. {note}"
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


def cache_use(blocks: Sequence[Block], cached: bool) -> str:
    """``yes``, ``no``, or how many of the answer's blocks came from the cache."""
    if not blocks:
        return "yes" if cached else "no"
    hits = sum(1 for block in blocks if block.cached)
    if hits == len(blocks):
        return "yes"
    if hits == 0:
        return "no"
    return f"{hits} of {len(blocks)} blocks (the rest computed)"


def blocks_table(blocks: Sequence[Block]) -> html.Table:
    """One row per block: its range, kind, whether it was cached, its source and cost."""
    header = html.Tr([html.Th(name) for name in ("range (UTC)", "kind", "", "source", "time")])
    rows = [
        html.Tr(
            [
                html.Td(f"{block.start:%m-%d %H:%M} → {block.end:%m-%d %H:%M}"),
                html.Td(block.kind),
                html.Td(
                    "cached" if block.cached else "computed",
                    className="block-cached" if block.cached else "block-computed",
                ),
                html.Td(block.source),
                html.Td("-" if block.cached else f"{block.elapsed_ms:.1f} ms"),
            ]
        )
        for block in blocks
    ]
    return html.Table(className="facts blocks", children=[header, *rows])


def _section(
    query: dict[str, Any], facts: dict[str, Any], sql: str, blocks: Sequence[Block] = ()
) -> html.Section:
    hits = sum(1 for block in blocks if block.cached)
    children = [
        html.H3(query.get("metric", "query")),
        html.Table(
            className="facts",
            children=[
                html.Tr([html.Th(name), html.Td(str(value))]) for name, value in facts.items()
            ],
        ),
    ]
    if blocks:
        label = f"Blocks: {hits} cached, {len(blocks) - hits} computed"
        children.append(html.Details([html.Summary(label), blocks_table(blocks)]))
    children += [
        html.Details([html.Summary("Query"), html.Pre(json.dumps(query, indent=2))]),
        html.Details([html.Summary("SQL"), html.Pre(sql or "-")]),
    ]
    return html.Section(className="inspect-section", children=children)
