"""Units on charts: plotly axis and tooltip settings computed by the one formatter
(:mod:`dashapp.core.units`), so ticks, tooltips, stats and tables read alike.

For a chart with one axis per unit (Explore), ``yaxis.update(axis_format(unit, values))``
for each axis, and ``trace.update(hover(unit, values))`` for each trace, is all it takes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from dashapp.core.units import NO_VALUE, axis_ticks, format_value, format_values

__all__ = ["NO_VALUE", "axis_format", "format_value", "hover", "value_range"]


def value_range(values: Iterable[float | None]) -> tuple[float, float] | None:
    """The lowest and highest value present, or None when there is none."""
    present = [v for v in values if v is not None]
    return (min(present), max(present)) if present else None


def axis_format(
    unit: str,
    values: Iterable[float | None],
    bounds: Sequence[float | None] = (None, None),
    log: bool = False,
) -> dict[str, Any]:
    """Plotly axis properties labelling ticks in ``unit``: round steps of the unit's scale
    over the ``values`` drawn (and fixed ``bounds``), their text from the formatter.
    Pass 0 among the values where plotly's range reaches zero (bars, filled areas).

    Nothing (plotly's own ticks) when there is nothing to draw.
    """
    found = value_range([*values, *(b for b in bounds if b is not None)])
    if found is None:
        return {}
    low, high = found
    if bounds[0] is not None:
        low = bounds[0]
    if bounds[1] is not None:
        high = bounds[1]
    tickvals, ticktext = axis_ticks(unit, low, high, log=log)
    return {"tickmode": "array", "tickvals": tickvals, "ticktext": ticktext}


def hover(unit: str, values: Sequence[float | None], name: str = "%{fullData.name}") -> dict:
    """A trace's tooltip: each value as the formatter prints it (``customdata``), and the
    series name read from the trace (never pasted into the template: a name holding
    ``%{...}`` or markup would be read as template or HTML)."""
    return {
        "customdata": format_values(values, unit),
        "hovertemplate": f"%{{customdata}}<extra>{name}</extra>",
    }


def tick_labels(unit: str, ticks: Sequence[float]) -> list[str]:
    """Labels for ticks a caller chose itself (each value formatted on its own)."""
    return [format_value(tick, unit) for tick in ticks]
