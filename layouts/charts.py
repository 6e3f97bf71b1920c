"""Charts over time or across series: timeseries, bar and heatmap figures."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dashapp.core.reductions import Reduction
from dashapp.core.results import Histogram, QueryResult, Series
from dashapp.core.spec import BarPanel, HeatmapPanel, Threshold, TimeseriesPanel
from dashapp.core.units import labels_at
from layouts.plaintext import plain
from layouts.theme import axis_times, base_layout, compact, hex_color, series_colors
from layouts.units import axis_format, format_value, hover

WEBGL_THRESHOLD = 40_000


def all_series(results: Sequence[QueryResult]) -> list[Series]:
    """Every series of every query of a panel, in order."""
    return [series for result in results for series in result.series]


def timeseries_figure(
    panel: TimeseriesPanel, results: Sequence[QueryResult], theme: str = "light"
) -> dict[str, Any]:
    """Lines, areas, stacked areas, bars or points over time, with thresholds and units.

    Many points switch line and point charts to WebGL (``scattergl``).
    """
    options = panel.options
    series = all_series(results)
    webgl = sum(len(s.values) for s in series) > WEBGL_THRESHOLD
    palette = series_colors([s.name for s in series], options.colors)
    # Overlapping translucent fills turn muddy: several series in "area" draw as lines
    # (choose "stacked" to fill them on top of each other).
    style = "line" if options.style == "area" and len(series) > 1 else options.style
    traces = [time_trace(s, style, options.unit, webgl, palette[s.name]) for s in series]
    layout = base_layout(theme)
    layout["hovermode"] = "x unified"
    layout["showlegend"] = options.legend and len(traces) > 1
    layout["legend"] = {"orientation": "h", "y": -0.15, "x": 0}
    layout["uirevision"] = panel.id
    layout["xaxis"].update({"type": "date"})
    if results:
        layout["xaxis"]["range"] = axis_times([results[0].start, results[0].end])
    yaxis = layout["yaxis"]
    filled = style in ("area", "stacked", "bars")  # plotly's range then reaches zero
    drawn = [*_heights(series, stacked=options.style in ("stacked", "bars")),
             *(t.value for t in options.thresholds), *([0.0] if filled else [])]  # fmt: skip
    bounds = (options.y_min, options.y_max)
    yaxis.update(axis_format(options.unit, drawn, bounds, log=options.log_scale))
    if options.log_scale:
        yaxis["type"] = "log"
    if options.y_min is not None or options.y_max is not None:
        # A fixed bound on one side only: plotly autoranges the other ("max" or "min").
        yaxis["range"] = [options.y_min, options.y_max]
        if options.y_max is None:
            yaxis["autorange"] = "max"
        elif options.y_min is None:
            yaxis["autorange"] = "min"
    if options.style == "bars":
        layout["barmode"] = "stack" if len(traces) > 1 else "group"
    ceiling = max((v for s in series for v in s.values if v is not None), default=None)
    layout["shapes"] = threshold_shapes(options.thresholds, options.threshold_style, ceiling)
    return {"data": traces, "layout": layout}


def _heights(series: Sequence[Series], stacked: bool) -> list[float | None]:
    """The values the y axis must reach: each point, or each stack's total."""
    if not stacked or len(series) < 2:
        return [v for s in series for v in s.values]
    totals: dict[Any, float] = {}
    for item in series:
        for moment, value in zip(item.timestamps, item.values, strict=True):
            if value is not None:
                totals[moment] = totals.get(moment, 0.0) + value
    return [*totals.values(), *(v for s in series for v in s.values)]


def time_trace(series: Series, style: str, unit: str, webgl: bool, color: str) -> dict[str, Any]:
    """One series drawn in a timeseries panel's ``style`` and ``color`` (WebGL when
    ``webgl``); its tooltip prints each value in ``unit``."""
    trace: dict[str, Any] = {
        "x": axis_times(series.timestamps),
        "y": compact(series.values),
        "name": plain(series.name),
        "marker": {"color": color},
        **hover(unit, series.values),
    }
    if style == "bars":
        return {**trace, "type": "bar"}
    trace["type"] = "scattergl" if webgl and style in ("line", "points") else "scatter"
    trace["mode"] = "markers" if style == "points" else "lines"
    trace["line"] = {"width": 1.5, "color": color}
    if style == "points":
        trace["marker"] = {"size": 4, "color": color}
    if style == "area":
        trace["fill"] = "tozeroy"
    elif style == "stacked":
        trace["stackgroup"] = "stack"
    return trace


def threshold_shapes(
    thresholds: Sequence[Threshold], style: str = "line", ceiling: float | None = None
) -> list[dict[str, Any]]:
    """Horizontal lines at each threshold, or bands from each one up to the next.

    The last band ends at ``ceiling`` (the highest value drawn), so bands never
    stretch the y axis beyond the data.
    """
    ordered = sorted(thresholds, key=lambda t: t.value)
    shapes = []
    for position, threshold in enumerate(ordered):
        color = hex_color(threshold.color)
        if style == "band":
            top = ordered[position + 1].value if position + 1 < len(ordered) else ceiling
            if top is None or top <= threshold.value:
                continue
            shapes.append(
                {
                    "type": "rect", "xref": "paper", "x0": 0, "x1": 1,
                    "y0": threshold.value, "y1": top, "fillcolor": color,
                    "opacity": 0.1, "line": {"width": 0}, "layer": "below",
                }
            )  # fmt: skip
        else:
            shapes.append(
                {
                    "type": "line", "xref": "paper", "x0": 0, "x1": 1,
                    "y0": threshold.value, "y1": threshold.value,
                    "line": {"color": color, "width": 1, "dash": "dash"},
                }
            )  # fmt: skip
    return shapes


def bar_figure(
    panel: BarPanel, reductions: Sequence[Reduction], theme: str = "light"
) -> dict[str, Any]:
    """One bar per series (or group), each series reduced over the range."""
    options = panel.options
    series = list(reductions)[: options.series_limit]
    names = [plain(s.name) for s in series]
    values = [s.value(options.reduce) for s in series]
    labels = [format_value(v, options.unit) for v in values]
    palette = series_colors(names, options.colors)
    horizontal = options.orientation == "horizontal"
    trace = {
        "type": "bar",
        "x": values if horizontal else names,
        "y": names if horizontal else values,
        "orientation": "h" if horizontal else "v",
        "text": labels,
        "textposition": "auto",
        "hovertemplate": "%{text}<extra>%{" + ("y" if horizontal else "x") + "}</extra>",
        "marker": {"color": [palette[name] for name in names]},
    }
    layout = base_layout(theme)
    layout["showlegend"] = False
    value_axis = layout["xaxis" if horizontal else "yaxis"]
    value_axis.update(axis_format(options.unit, [0.0, *values]))
    layout["xaxis" if not horizontal else "yaxis"].update({"type": "category"})
    if horizontal:
        layout["yaxis"]["autorange"] = "reversed"
        layout["margin"]["l"] = 90
    return {"data": [trace], "layout": layout}


def heatmap_figure(
    panel: HeatmapPanel, histogram: Histogram, theme: str = "light"
) -> dict[str, Any]:
    """Time on x, value bins on y, sample counts as colour."""
    options = panel.options
    centres = [
        (low + high) / 2 for low, high in zip(histogram.edges, histogram.edges[1:], strict=False)
    ]
    trace = {
        "type": "heatmap",
        "x": axis_times(histogram.times),
        "y": labels_at(options.unit, centres),  # in order: a category axis of the bins' words
        "z": histogram.counts,
        "colorscale": options.colorscale,
        "hovertemplate": "%{x}<br>%{y}: %{z} samples<extra></extra>",
        "colorbar": {
            "thickness": 10,
            "outlinewidth": 0,
            "title": {"text": "samples", "side": "right"},
        },
    }
    layout = base_layout(theme)
    layout["xaxis"].update({"type": "date", "range": axis_times([histogram.start, histogram.end])})
    layout["yaxis"].update({"type": "category"})
    layout["uirevision"] = panel.id
    layout["margin"] = {**layout["margin"], "b": 44}  # room for the date under the times
    return {"data": [trace], "layout": layout}
