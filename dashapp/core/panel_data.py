"""What a panel is drawn from (:class:`PanelData`), and how many points its width can show."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from dashapp.core.reductions import Reduction
from dashapp.core.results import NO_PERCENTILES, Histogram, QueryResult, SummaryResult
from dashapp.core.spec import (
    GRID_COLUMNS,
    GaugePanel,
    HeatmapPanel,
    Query,
    StatPanel,
    TimeseriesPanel,
)
from dashapp.core.timerange import nice_step, parse_duration

DEFAULT_VIEWPORT_PX = 1600
MAX_VIEWPORT_PX = 8000
SPARKLINE_POINTS = 120
GAUGE_POINTS = 60
M4_AGGREGATIONS = frozenset({"avg", "min", "max", "last"})
"""Aggregations a line may draw as M4 points: those that keep values' meaning."""


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
    def empty_note(self) -> str:
        """What an empty panel says: that percentiles need raw points retention dropped,
        or that the range has no data."""
        if any(NO_PERCENTILES in result.source for result in self.results):
            return "No percentiles here: they need raw points, which retention has dropped"
        return "No data in this time range"

    @property
    def hidden(self) -> int:
        """Series left out by the panel's series limit, over all its queries."""
        return sum(result.hidden for result in self.results)


def bucket_step(spec: Query, span: timedelta, max_points: int) -> timedelta:
    """Bucket width: the spec's interval or ``span / max_points``, rounded up to a nice step."""
    minimum = None if spec.interval == "auto" else parse_duration(spec.interval)
    return nice_step(span, max_points, minimum)


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
