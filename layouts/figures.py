"""Pure figure builders: panel spec + query results -> plotly figure dicts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dashapp.panel_data import PanelData
from dashapp.spec import StatPanel, Threshold, TimeseriesPanel
from db.query import QueryResult, Series
from layouts.units import axis_format, format_value, hover_format

WEBGL_THRESHOLD = 2_000
PALETTE = [
    "#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6",
    "#06b6d4", "#ec4899", "#84cc16", "#f97316", "#64748b",
]  # fmt: skip
THEMES = {
    "light": {"font": "#1f2937", "grid": "rgba(0,0,0,0.08)", "muted": "#6b7280"},
    "dark": {"font": "#e5e7eb", "grid": "rgba(255,255,255,0.10)", "muted": "#9ca3af"},
}


def base_layout(theme: str = "light") -> dict[str, Any]:
    """Layout shared by every chart: transparent, compact, themed."""
    colors = THEMES.get(theme, THEMES["light"])
    return {
        "autosize": True,
        "margin": {"l": 52, "r": 16, "t": 8, "b": 32},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": colors["font"], "size": 12},
        "colorway": PALETTE,
        "xaxis": {"gridcolor": colors["grid"], "zeroline": False},
        "yaxis": {"gridcolor": colors["grid"], "zeroline": False},
    }


def empty_figure(theme: str = "light") -> dict[str, Any]:
    """A blank chart (axes hidden) shown behind a panel message."""
    layout = base_layout(theme)
    layout["xaxis"] = {"visible": False}
    layout["yaxis"] = {"visible": False}
    return {"data": [], "layout": layout}


def render_figure(panel: Any, data: PanelData, theme: str = "light") -> dict[str, Any]:
    """The figure for any panel type that draws a chart."""
    if isinstance(panel, StatPanel):
        previous = data.previous[0] if data.previous else None
        return stat_figure(panel, data.results[0], previous, theme)
    if isinstance(panel, TimeseriesPanel):
        return timeseries_figure(panel, data.results, theme)
    raise ValueError(f"panel type {panel.type!r} is not drawn yet")


def all_series(results: Sequence[QueryResult]) -> list[Series]:
    """Every series of every query of a panel, in order."""
    return [series for result in results for series in result.series]


def timeseries_figure(
    panel: TimeseriesPanel, results: Sequence[QueryResult], theme: str = "light"
) -> dict[str, Any]:
    """Lines, areas, stacked areas, bars or points over time, with thresholds and units."""
    options = panel.options
    series = all_series(results)
    many_points = sum(len(s.values) for s in series) > WEBGL_THRESHOLD
    traces = [_time_trace(s, options.style, options.unit, many_points) for s in series]
    layout = base_layout(theme)
    layout["hovermode"] = "x unified"
    layout["showlegend"] = options.legend and len(traces) > 1
    layout["legend"] = {"orientation": "h", "y": -0.15, "x": 0}
    layout["uirevision"] = panel.id
    layout["xaxis"].update({"type": "date"})
    if results:
        layout["xaxis"]["range"] = [results[0].start, results[0].end]
    yaxis = layout["yaxis"]
    yaxis.update(axis_format(options.unit))
    if options.log_scale:
        yaxis["type"] = "log"
    if options.y_min is not None or options.y_max is not None:
        yaxis["range"] = [options.y_min, options.y_max]
    if options.style == "bars":
        layout["barmode"] = "stack" if len(traces) > 1 else "group"
    ceiling = max((v for s in series for v in s.values if v is not None), default=None)
    layout["shapes"] = threshold_shapes(options.thresholds, options.threshold_style, ceiling)
    return {"data": traces, "layout": layout}


def _time_trace(series: Series, style: str, unit: str, webgl: bool) -> dict[str, Any]:
    trace: dict[str, Any] = {
        "x": series.timestamps,
        "y": series.values,
        "name": series.name,
        "hovertemplate": f"{hover_format(unit)}<extra>{series.name}</extra>",
    }
    if style == "bars":
        return {**trace, "type": "bar"}
    trace["type"] = "scattergl" if webgl and style in ("line", "points") else "scatter"
    trace["mode"] = "markers" if style == "points" else "lines"
    trace["line"] = {"width": 1.5}
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
        if style == "band":
            top = ordered[position + 1].value if position + 1 < len(ordered) else ceiling
            if top is None or top <= threshold.value:
                continue
            shapes.append(
                {
                    "type": "rect",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": threshold.value,
                    "y1": top,
                    "fillcolor": threshold.color,
                    "opacity": 0.08,
                    "line": {"width": 0},
                    "layer": "below",
                }
            )
        else:
            shapes.append(
                {
                    "type": "line",
                    "xref": "paper",
                    "x0": 0,
                    "x1": 1,
                    "y0": threshold.value,
                    "y1": threshold.value,
                    "line": {"color": threshold.color, "width": 1, "dash": "dash"},
                }
            )
    return shapes


def reduce_values(values: Sequence[float | None], how: str) -> float | None:
    """Reduce a series to one number: last, avg, max, min or sum of its non-null values."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if how == "last":
        return present[-1]
    if how == "avg":
        return sum(present) / len(present)
    if how == "max":
        return max(present)
    if how == "min":
        return min(present)
    return sum(present)


def threshold_color(value: float | None, thresholds: Sequence[Threshold], default: str) -> str:
    """Colour of the highest threshold at or below ``value``."""
    color = default
    if value is None:
        return color
    for threshold in sorted(thresholds, key=lambda t: t.value):
        if value >= threshold.value:
            color = threshold.color
    return color


def stat_figure(
    panel: StatPanel,
    current: QueryResult,
    previous: QueryResult | None,
    theme: str = "light",
) -> dict[str, Any]:
    """A big number (reduced over the range), a sparkline, and the change vs the previous period."""
    options = panel.options
    series = current.series[0] if current.series else None
    value = reduce_values(series.values, options.reduce) if series else None
    before = None
    if previous is not None and previous.series:
        before = reduce_values(previous.series[0].values, options.reduce)
    color = threshold_color(value, options.thresholds, PALETTE[0])
    layout = base_layout(theme)
    layout.update(
        {
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "xaxis": {"visible": False, "fixedrange": True},
            "yaxis": {"visible": False, "fixedrange": True},
            "showlegend": False,
        }
    )
    data: list[dict[str, Any]] = []
    if series and options.sparkline:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": series.timestamps,
                "y": series.values,
                "fill": "tozeroy",
                "line": {"color": color, "width": 1.5},
                "fillcolor": _transparent(color),
                "hoverinfo": "skip",
            }
        )
    layout["annotations"] = stat_annotations(value, before, options.unit, options.decimals, color)
    return {"data": data, "layout": layout}


def stat_annotations(
    value: float | None,
    before: float | None,
    unit: str,
    decimals: int | None,
    color: str,
) -> list[dict[str, Any]]:
    """The big number and the change line, as paper-anchored annotations."""
    notes = [
        {
            "text": f"<b>{format_value(value, unit, decimals)}</b>",
            "xref": "paper",
            "yref": "paper",
            "x": 0.5,
            "y": 0.6,
            "showarrow": False,
            "font": {"size": 34, "color": color},
        }
    ]
    change = percent_change(value, before)
    if change is not None:
        arrow = "▲" if change >= 0 else "▼"
        notes.append(
            {
                "text": f"{arrow} {abs(change):.1f}% vs previous period",
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.22,
                "showarrow": False,
                "font": {"size": 12},
            }
        )
    return notes


def percent_change(value: float | None, before: float | None) -> float | None:
    """Change from ``before`` to ``value`` in percent (None when undefined)."""
    if value is None or before is None or before == 0:
        return None
    return (value - before) / abs(before) * 100


def _transparent(color: str) -> str:
    if color.startswith("#") and len(color) == 7:
        red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
        return f"rgba({red},{green},{blue},0.15)"
    return "rgba(59,130,246,0.15)"


def latest_timestamp(results: Sequence[QueryResult]) -> datetime | None:
    """The newest timestamp in any series of the results."""
    stamps = [s.timestamps[-1] for s in all_series(results) if s.timestamps]
    return max(stamps) if stamps else None
