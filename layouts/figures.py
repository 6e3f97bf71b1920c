"""Which figure a panel draws: one dispatch over the panel types that show a chart."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dashapp.core.panel_data import PanelData
from dashapp.core.spec import BarPanel, GaugePanel, HeatmapPanel, StatPanel, TimeseriesPanel
from layouts.charts import bar_figure, heatmap_figure, timeseries_figure
from layouts.stats import gauge_figure, stat_figure
from layouts.theme import empty_figure

CHART_TYPES = ("timeseries", "stat", "gauge", "bar", "heatmap")


def render_figure(
    panel: Any, data: PanelData, theme: str = "light", now: datetime | None = None
) -> dict[str, Any]:
    """The figure for a chart panel (every type but ``table`` and ``text``)."""
    if isinstance(panel, TimeseriesPanel):
        return timeseries_figure(panel, data.results, theme)
    if isinstance(panel, StatPanel):
        how = panel.options.reduce
        value = data.reductions[0].value(how) if data.reductions else None
        before = data.previous_reductions[0].value(how) if data.previous_reductions else None
        return stat_figure(panel, data.results[0], value, before, theme, now)
    if isinstance(panel, GaugePanel):
        value = data.reductions[0].value(panel.options.reduce) if data.reductions else None
        return gauge_figure(panel, value, theme)
    if isinstance(panel, BarPanel):
        return bar_figure(panel, data.reductions, theme)
    if isinstance(panel, HeatmapPanel) and data.histogram is not None:
        return heatmap_figure(panel, data.histogram, theme)
    return empty_figure(theme)
