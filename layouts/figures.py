"""Which figure a panel draws: one dispatch over the panel types that show a chart."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from dashapp.core.panel_data import PanelData
from dashapp.core.results import QueryResult
from dashapp.core.spec import BarPanel, GaugePanel, HeatmapPanel, StatPanel, TimeseriesPanel
from dashapp.core.zones import wall_clock
from layouts.charts import bar_figure, heatmap_figure, timeseries_figure
from layouts.stats import gauge_figure, stat_figure
from layouts.theme import empty_figure

CHART_TYPES = ("timeseries", "stat", "gauge", "bar", "heatmap")


def render_figure(
    panel: Any,
    data: PanelData,
    theme: str = "light",
    now: datetime | None = None,
    zone: str = "UTC",
) -> dict[str, Any]:
    """The figure for a chart panel (every type but ``table`` and ``text``), its time
    axis on ``zone``'s clock."""
    data = on_wall_clock(data, zone)
    now = wall_clock(now, zone) if now is not None else None
    if isinstance(panel, TimeseriesPanel):
        return timeseries_figure(panel, data.results, theme)
    if isinstance(panel, StatPanel):
        how = panel.options.reduce
        value = data.reductions[0].value(how) if data.reductions else None
        before = data.previous_reductions[0].value(how) if data.previous_reductions else None
        return stat_figure(panel, data.results[0], value, before, theme, now)
    if isinstance(panel, GaugePanel):
        value = data.reductions[0].value(panel.options.reduce) if data.reductions else None
        current = data.results[0] if data.results else None
        return gauge_figure(panel, value, theme, current, now)
    if isinstance(panel, BarPanel):
        return bar_figure(panel, data.reductions, theme)
    if isinstance(panel, HeatmapPanel) and data.histogram is not None:
        return heatmap_figure(panel, data.histogram, theme)
    return empty_figure(theme)


def on_wall_clock(data: PanelData, zone: str) -> PanelData:
    """The panel's data with every time moved onto ``zone``'s wall clock (plotly draws
    date axes without zones, so this is how an axis shows the view's zone)."""
    if zone == "UTC":
        return data

    def result(item: QueryResult) -> QueryResult:
        series = [replace(s, timestamps=[wall_clock(t, zone) for t in s.timestamps])
                  for s in item.series]  # fmt: skip
        return replace(item, series=series, start=wall_clock(item.start, zone),
                       end=wall_clock(item.end, zone))  # fmt: skip

    histogram = data.histogram
    if histogram is not None:
        histogram = replace(
            histogram, times=[wall_clock(t, zone) for t in histogram.times],
            start=wall_clock(histogram.start, zone), end=wall_clock(histogram.end, zone),
        )  # fmt: skip
    return replace(data, results=[result(r) for r in data.results],
                   previous=[result(r) for r in data.previous], histogram=histogram)  # fmt: skip
