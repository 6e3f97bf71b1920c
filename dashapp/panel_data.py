"""What each panel type needs from the query engine, fetched through the cache."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from dashapp.reductions import VALUE_AGGREGATIONS, Reduction, from_buckets, from_summary
from dashapp.spec import (
    GRID_COLUMNS,
    BarPanel,
    GaugePanel,
    HeatmapPanel,
    Query,
    StatPanel,
    TablePanel,
    TextPanel,
    TimeseriesPanel,
)
from dashapp.timerange import TimeRange
from db.cached import panel_histogram, panel_query, panel_summary
from db.histogram import Histogram
from db.query import QueryResult, SummaryResult

DEFAULT_VIEWPORT_PX = 1600
MAX_VIEWPORT_PX = 8000
SPARKLINE_POINTS = 120
GAUGE_POINTS = 60


@dataclass(frozen=True)
class PanelData:
    """Query results for one panel; per-series reductions (stat, gauge, bar, table), with
    the previous period's for stats; or a histogram (heatmap)."""

    results: list[QueryResult]
    previous: list[QueryResult] = field(default_factory=list)
    histogram: Histogram | None = None
    reductions: list[Reduction] = field(default_factory=list)
    previous_reductions: list[Reduction] = field(default_factory=list)
    summaries: list[SummaryResult] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """True when no query returned a point."""
        if self.histogram is not None:
            return self.histogram.empty
        return not any(result.series for result in self.results)

    @property
    def hidden(self) -> int:
        """Series left out by the panel's series limit, over all its queries."""
        return sum(result.hidden for result in self.results)


def panel_width_px(grid_w: int, viewport_px: int | None = None) -> int:
    """Drawing width of a panel spanning ``grid_w`` of the 24 columns (minus axes)."""
    viewport = DEFAULT_VIEWPORT_PX
    if viewport_px and viewport_px > 200:  # the browser says; no screen is wider than this
        viewport = min(int(viewport_px), MAX_VIEWPORT_PX)
    return max(50, int(viewport * grid_w / GRID_COLUMNS) - 70)


def max_points(panel: Any, viewport_px: int | None = None) -> int:
    """How many buckets a panel can show: its pixel width for charts, fewer for reductions."""
    if isinstance(panel, StatPanel):
        return SPARKLINE_POINTS
    if isinstance(panel, GaugePanel):
        return GAUGE_POINTS
    width = panel_width_px(panel.grid.w, viewport_px)
    if isinstance(panel, HeatmapPanel):
        return max(10, width // 6)  # a heatmap cell needs a few pixels
    if isinstance(panel, TimeseriesPanel) and panel.options.style == "bars":
        return max(10, width // 4)  # a bar needs a few pixels and a gap
    return width


def load_panel(
    panel: Any,
    time_range: TimeRange,
    variables: Mapping[str, Sequence[str]] | None = None,
    viewport_px: int | None = None,
) -> PanelData:
    """Run every query of ``panel`` at a resolution its width can show."""
    if isinstance(panel, TextPanel) or not panel.queries:
        return PanelData([])
    points = max_points(panel, viewport_px)
    if isinstance(panel, HeatmapPanel):
        spec = panel.queries[0]
        histogram = panel_histogram(
            spec, time_range, points, panel.options.buckets, variables=variables
        )
        return PanelData([], histogram=histogram)
    limit = getattr(panel.options, "series_limit", 20)
    if isinstance(panel, StatPanel | GaugePanel):
        return _reduced(panel, panel.queries[:1], time_range, points, variables, 1)
    if isinstance(panel, BarPanel | TablePanel):
        return _reduced(panel, panel.queries, time_range, points, variables, limit)
    prefer_m4 = isinstance(panel, TimeseriesPanel) and panel.options.style in ("line", "points")
    results = [
        panel_query(
            spec, time_range, points, variables=variables, series_limit=limit, prefer_m4=prefer_m4
        )
        for spec in panel.queries
    ]
    return PanelData(results)


def _reduced(
    panel: Any,
    specs: Sequence[Query],
    time_range: TimeRange,
    points: int,
    variables: Mapping[str, Sequence[str]] | None,
    limit: int,
) -> PanelData:
    """Buckets (for sparklines), and one exact reduction per series where the aggregation
    allows it; stats also get the previous period's."""
    results = [
        panel_query(spec, time_range, points, variables=variables, series_limit=limit)
        for spec in specs
    ]
    summaries, reductions = [], []
    for spec, result in zip(specs, results, strict=True):
        summary, reduced = _reductions(spec, time_range, result, variables, limit)
        summaries += summary
        reductions += reduced
    data = PanelData(results, summaries=summaries, reductions=reductions)
    if not (isinstance(panel, StatPanel) and panel.options.show_change):
        return data
    before = TimeRange(time_range.start - time_range.span, time_range.start)
    previous = [panel_query(specs[0], before, points, variables=variables, series_limit=limit)]
    _, earlier = _reductions(specs[0], before, previous[0], variables, limit)
    return replace(data, previous=previous, previous_reductions=earlier)


def _reductions(
    spec: Query,
    time_range: TimeRange,
    buckets: QueryResult,
    variables: Mapping[str, Sequence[str]] | None,
    limit: int,
) -> tuple[list[SummaryResult], list[Reduction]]:
    if spec.agg not in VALUE_AGGREGATIONS:
        return [], from_buckets(buckets)
    summary = panel_summary(spec, time_range, variables=variables, series_limit=limit)
    return [summary], from_summary(summary)
