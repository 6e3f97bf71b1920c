"""What each panel type needs from the query engine, fetched through the cache."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from dashapp.core.panel_data import PanelData, max_points
from dashapp.core.reductions import VALUE_AGGREGATIONS, Reduction, from_buckets, from_summary
from dashapp.core.results import QueryResult, SummaryResult
from dashapp.core.spec import (
    BarPanel,
    GaugePanel,
    HeatmapPanel,
    Query,
    StatPanel,
    TablePanel,
    TextPanel,
    TimeseriesPanel,
)
from dashapp.core.timerange import TimeRange
from db.cached import panel_histogram, panel_query, panel_summary


def load_panel(
    panel: Any,
    time_range: TimeRange,
    variables: Mapping[str, Sequence[str]] | None = None,
    viewport_px: int | None = None,
    tail_grace: float | None = None,
) -> PanelData:
    """Run every query of ``panel`` at a resolution its width can show (``tail_grace``:
    how old its newest blocks may be, see :func:`db.blockcache.cached_pieces`)."""
    if isinstance(panel, TextPanel) or not panel.queries:
        return PanelData([])
    points = max_points(panel, viewport_px)
    options = {"variables": variables, "tail_grace": tail_grace}
    if isinstance(panel, HeatmapPanel):
        spec = panel.queries[0]
        histogram = panel_histogram(spec, time_range, points, panel.options.buckets, **options)
        return PanelData([], histogram=histogram)
    if isinstance(panel, StatPanel | GaugePanel):  # one number: one series
        return _reduced(panel, panel.queries[:1], time_range, points, options | {"series_limit": 1})
    options["series_limit"] = getattr(panel.options, "series_limit", 20)
    if isinstance(panel, BarPanel | TablePanel):
        return _reduced(panel, panel.queries, time_range, points, options)
    prefer_m4 = isinstance(panel, TimeseriesPanel) and panel.options.style in ("line", "points")
    results = [
        panel_query(spec, time_range, points, prefer_m4=prefer_m4, **options)
        for spec in panel.queries
    ]
    return PanelData(results)


def _reduced(
    panel: Any,
    specs: Sequence[Query],
    time_range: TimeRange,
    points: int,
    options: dict[str, Any],
) -> PanelData:
    """Buckets (for sparklines), and one exact reduction per series where the aggregation
    allows it; stats also get the previous period's. ``options``: the cached reads'
    variables, series limit and tail grace."""
    results = [panel_query(spec, time_range, points, **options) for spec in specs]
    summaries, reductions = [], []
    for spec, result in zip(specs, results, strict=True):
        summary, reduced = _reductions(spec, time_range, result, options)
        summaries += summary
        reductions += reduced
    data = PanelData(results, summaries=summaries, reductions=reductions)
    if not (isinstance(panel, StatPanel) and panel.options.show_change):
        return data
    before = TimeRange(time_range.start - time_range.span, time_range.start)
    previous = [panel_query(specs[0], before, points, **options)]
    _, earlier = _reductions(specs[0], before, previous[0], options)
    return replace(data, previous=previous, previous_reductions=earlier)


def _reductions(
    spec: Query, time_range: TimeRange, buckets: QueryResult, options: dict[str, Any]
) -> tuple[list[SummaryResult], list[Reduction]]:
    if spec.agg not in VALUE_AGGREGATIONS:
        return [], from_buckets(buckets)
    summary = panel_summary(spec, time_range, **options)
    return [summary], from_summary(summary)
