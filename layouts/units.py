"""Units: how values print in stats and tables, and how chart axes label them."""

from __future__ import annotations

import math
from typing import Any

NO_VALUE = "\u2013"  # an en dash, as dashboards print a missing number
_SI_PREFIXES = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")]
_BINARY_PREFIXES = [(2**40, "Ti"), (2**30, "Gi"), (2**20, "Mi"), (2**10, "Ki")]

# Plotly axis settings per unit: d3 tick format and a suffix.
_AXIS: dict[str, dict[str, Any]] = {
    "none": {},
    "short": {"tickformat": "~s"},
    "percent": {"ticksuffix": "%", "tickformat": "~r"},
    "percentunit": {"tickformat": ".0%"},
    "bytes": {"tickformat": "~s", "ticksuffix": "B"},
    "bits": {"tickformat": "~s", "ticksuffix": "b"},
    "seconds": {"tickformat": "~s", "ticksuffix": "s"},
    "ms": {"tickformat": "~s", "ticksuffix": " ms"},
    "reqps": {"tickformat": "~s", "ticksuffix": " req/s"},
    "ops": {"tickformat": "~s", "ticksuffix": " ops/s"},
    "celsius": {"ticksuffix": " °C"},
}


def axis_format(unit: str) -> dict[str, Any]:
    """Plotly axis properties that label ticks in ``unit``."""
    return dict(_AXIS.get(unit, {}))


def hover_format(unit: str) -> str:
    """A plotly hovertemplate fragment printing ``y`` in ``unit``."""
    settings = _AXIS.get(unit, {})
    number = "%{y:" + settings.get("tickformat", ".4~g").replace("~r", ".4~g") + "}"
    return number + settings.get("ticksuffix", "")


def format_value(value: float | None, unit: str, decimals: int | None = None) -> str:
    """Human-readable value with its unit: ``1.5 GiB``, ``93.2%``, ``250 ms``, ``1.2k req/s``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NO_VALUE
    if unit == "percent":
        return f"{_number(value, decimals)}%"
    if unit == "percentunit":
        return f"{_number(value * 100, decimals)}%"
    if unit == "bytes":
        return _scaled(value, _BINARY_PREFIXES, "B", decimals)
    if unit == "bits":
        return _scaled(value, _SI_PREFIXES, "b", decimals)
    if unit == "seconds":
        return _duration(value, decimals)
    if unit == "ms":
        return _duration(value / 1000, decimals)
    if unit == "reqps":
        return _scaled(value, _SI_PREFIXES, " req/s", decimals)
    if unit == "ops":
        return _scaled(value, _SI_PREFIXES, " ops/s", decimals)
    if unit == "celsius":
        return f"{_number(value, decimals)} °C"
    if unit == "short":
        return _scaled(value, _SI_PREFIXES, "", decimals)
    return _number(value, decimals)


def _number(value: float, decimals: int | None) -> str:
    if decimals is not None:
        return f"{value:.{decimals}f}"
    magnitude = abs(value)
    if magnitude >= 100 or value == int(value):
        return f"{value:.0f}"
    if magnitude >= 10:
        text = f"{value:.1f}"
        return f"{value:.0f}" if abs(float(text)) >= 100 else text  # 99.99 -> 100, not 100.0
    return f"{value:.3g}" if magnitude < 1 else f"{value:.2f}".rstrip("0").rstrip(".")


def _scaled(
    value: float, prefixes: list[tuple[float, str]], suffix: str, decimals: int | None
) -> str:
    prefix, scaled = "", value
    for size, candidate in prefixes:
        if abs(value) >= size:
            prefix, scaled = candidate, value / size
            break
    number = _number(scaled, decimals)
    if suffix.startswith(" ") or not suffix:
        return f"{number}{prefix}{suffix}"
    return f"{number} {prefix}{suffix}"


def _duration(seconds: float, decimals: int | None) -> str:
    magnitude = abs(seconds)
    if magnitude == 0:
        return "0 s"
    if magnitude < 1e-3:
        return f"{_number(seconds * 1e6, decimals)} µs"
    if magnitude < 1:
        return f"{_number(seconds * 1000, decimals)} ms"
    if magnitude < 60:
        return f"{_number(seconds, decimals)} s"
    if magnitude < 3600:
        return f"{_number(seconds / 60, decimals)} min"
    if magnitude < 86400:
        return f"{_number(seconds / 3600, decimals)} h"
    return f"{_number(seconds / 86400, decimals)} d"
