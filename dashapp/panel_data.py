"""What each panel type needs from the query engine, fetched through the cache."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dashapp.spec import GRID_COLUMNS, StatPanel, TimeseriesPanel
from dashapp.timerange import TimeRange
from db.cached import panel_query
from db.query import QueryResult

DEFAULT_VIEWPORT_PX = 1600
SPARKLINE_POINTS = 120


@dataclass(frozen=True)
class PanelData:
    """Query results for one panel, plus the previous period for stats."""

    results: list[QueryResult]
    previous: list[QueryResult]

    @property
    def empty(self) -> bool:
        """True when no query returned a point."""
        return not any(result.series for result in self.results)


def panel_width_px(grid_w: int, viewport_px: int | None = None) -> int:
    """Approximate drawing width of a panel spanning ``grid_w`` of the 24 columns."""
    return max(50, int((viewport_px or DEFAULT_VIEWPORT_PX) * grid_w / GRID_COLUMNS) - 60)


def load_panel(
    panel: Any,
    time_range: TimeRange,
    variables: Mapping[str, Sequence[str]] | None = None,
    viewport_px: int | None = None,
) -> PanelData:
    """Run every query of ``panel`` at a resolution its width can show."""
    if isinstance(panel, StatPanel):
        results = [_query(q, time_range, SPARKLINE_POINTS, variables, 1) for q in panel.queries[:1]]
        before = TimeRange(time_range.start - time_range.span, time_range.start)
        previous = [_query(q, before, SPARKLINE_POINTS, variables, 1) for q in panel.queries[:1]]
        return PanelData(results, previous)
    width = panel_width_px(panel.grid.w, viewport_px)
    limit = getattr(panel.options, "series_limit", 20)
    prefer_m4 = isinstance(panel, TimeseriesPanel) and panel.options.style in ("line", "points")
    results = [
        _query(q, time_range, width, variables, limit, prefer_m4=prefer_m4) for q in panel.queries
    ]
    return PanelData(results, [])


def _query(
    query: Any,
    time_range: TimeRange,
    max_points: int,
    variables: Mapping[str, Sequence[str]] | None,
    series_limit: int,
    prefer_m4: bool = False,
) -> QueryResult:
    return panel_query(
        query,
        time_range,
        max_points,
        variables=variables,
        series_limit=series_limit,
        prefer_m4=prefer_m4,
    )
