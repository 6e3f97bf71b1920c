"""Single-number panels: stat (value, sparkline, change, staleness) and gauge."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dashapp.core.results import QueryResult, Series
from dashapp.core.spec import GaugePanel, StatPanel, Threshold
from dashapp.core.units import axis_ticks, nice_ceiling
from layouts.theme import (
    PALETTE,
    axis_times,
    base_layout,
    colors,
    compact,
    hex_color,
    transparent,
)
from layouts.units import format_value


def threshold_color(value: float | None, thresholds: Sequence[Threshold], default: str) -> str:
    """Colour of the highest threshold at or below ``value``."""
    color = default
    if value is None:
        return color
    for threshold in sorted(thresholds, key=lambda t: t.value):
        if value >= threshold.value:
            color = hex_color(threshold.color)
    return color


def percent_change(value: float | None, before: float | None) -> float | None:
    """Change from ``before`` to ``value`` in percent (None when undefined)."""
    if value is None or before is None or before == 0:
        return None
    return (value - before) / abs(before) * 100


def is_stale(result: QueryResult, stale_after: int, now: datetime) -> bool:
    """Whether the newest bucket with data ended more than ``stale_after`` steps ago."""
    stamps = [s.timestamps[-1] for s in result.series if s.timestamps]
    if not stamps:
        return False
    return now - (max(stamps) + result.step) > result.step * stale_after


def _first(result: QueryResult | None) -> Series | None:
    return result.series[0] if result is not None and result.series else None


def stat_figure(
    panel: StatPanel,
    current: QueryResult,
    value: float | None,
    before: float | None,
    theme: str = "light",
    now: datetime | None = None,
) -> dict[str, Any]:
    """A big number (``value``, the range reduced), a sparkline of ``current``, and the
    change from ``before`` (the previous period's value).

    A stale value (no data for ``stale_after`` intervals) is greyed out and says so.
    """
    options = panel.options
    series = _first(current)
    stale = now is not None and is_stale(current, options.stale_after, now)
    color = (
        colors(theme)["muted"] if stale else threshold_color(value, options.thresholds, PALETTE[0])
    )
    layout = base_layout(theme)
    layout.update(
        {
            "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
            "xaxis": {"visible": False, "fixedrange": True},
            # The sparkline keeps to the bottom third, under the number, not through it.
            "yaxis": {"visible": False, "fixedrange": True, "domain": [0, 0.2]},
            "showlegend": False,
        }
    )
    data: list[dict[str, Any]] = []
    if series and options.sparkline:
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "x": axis_times(series.timestamps),
                "y": compact(series.values),
                "fill": "tozeroy",
                "line": {"color": color, "width": 1.5},
                "fillcolor": transparent(color),
                "hoverinfo": "skip",
            }
        )
    notes = [_big_number(format_value(value, options.unit, options.decimals), color)]
    change = percent_change(value, before) if options.show_change else None
    if stale:
        notes.append(_small_line("stale: no recent data"))
    elif change is not None:
        arrow = "▲" if change >= 0 else "▼"
        notes.append(_small_line(f"{arrow} {abs(change):.1f}% vs previous period"))
    layout["annotations"] = notes
    return {"data": data, "layout": layout}


def _big_number(text: str, color: str) -> dict[str, Any]:
    return {
        "text": f"<b>{text}</b>", "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.6,
        "showarrow": False, "font": {"size": 34, "color": color},
    }  # fmt: skip


def _small_line(text: str) -> dict[str, Any]:
    return {
        "text": text, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.3,
        "showarrow": False, "font": {"size": 12},
    }  # fmt: skip


def gauge_figure(
    panel: GaugePanel,
    value: float | None,
    theme: str = "light",
    current: QueryResult | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A dial from min to max showing ``value``, coloured by thresholds (bands on its track);
    the number and the dial's ticks printed by the unit formatter, like every other panel.

    Without a max, the dial ends at 100 for percent, 1 for a ratio, else at a round number
    of the unit above the value. Like a stat, a stale value (``current`` has no data for
    ``stale_after`` intervals before ``now``) is greyed out and says so.
    """
    options = panel.options
    top = options.max if options.max is not None else nice_ceiling(options.unit, value)
    stale = current is not None and now is not None and is_stale(current, options.stale_after, now)
    muted = colors(theme)["muted"]
    color = muted if stale else threshold_color(value, options.thresholds, PALETTE[0])
    ordered = sorted(options.thresholds, key=lambda t: t.value)
    steps = [
        {
            "range": [t.value, ordered[i + 1].value if i + 1 < len(ordered) else top],
            "color": transparent(t.color, 0.35),
        }
        for i, t in enumerate(ordered)
    ]
    tickvals, ticktext = axis_ticks(options.unit, options.min, top, count=5)
    inside = [(v, t) for v, t in zip(tickvals, ticktext, strict=True)
              if options.min - 1e-9 * abs(top) <= v <= top * (1 + 1e-9)]  # fmt: skip
    bottom = 0.24 if stale else 0.12  # room for the number, and the stale note under it
    indicator = {
        "type": "indicator",
        "mode": "gauge",
        "value": value,
        "gauge": {
            "axis": {
                "range": [options.min, top],
                "tickmode": "array",
                "tickvals": [v for v, _ in inside],
                "ticktext": [t for _, t in inside],
            },
            "bar": {"color": color, "thickness": 0.6},
            "bgcolor": colors(theme)["track"],
            "borderwidth": 0,
            "steps": steps,
        },
        "domain": {"x": [0, 1], "y": [bottom, 1]},
    }
    layout = base_layout(theme)
    layout["margin"] = {"l": 24, "r": 24, "t": 16, "b": 8}
    number = {
        "text": f"<b>{format_value(value, options.unit)}</b>", "xref": "paper",
        "yref": "paper", "x": 0.5, "y": bottom + 0.02, "showarrow": False,
        "font": {"size": 26, **({"color": muted} if stale else {})},
    }  # fmt: skip
    layout["annotations"] = [number]
    if stale:
        layout["annotations"].append({**_small_line("stale: no recent data"), "y": 0.02,
                                      "yanchor": "bottom"})  # fmt: skip
    return {"data": [indicator], "layout": layout}
