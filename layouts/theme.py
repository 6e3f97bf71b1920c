"""Chart styling shared by every figure: palette, light and dark themes."""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import webcolors

# Twenty colours ordered so that neighbours differ most: numbered series (web-1,
# web-2, ...) take neighbouring slots, see series_colors. Mid tones only: each keeps 3:1
# contrast (WCAG AA for graphics) on the light and the dark panels alike, so a host keeps
# its colour when the theme changes (tests/test_contrast.py).
PALETTE = [
    "#3b82f6", "#d97706", "#059669", "#ec4899", "#8b5cf6",
    "#65a30d", "#ef4444", "#0891b2", "#ea580c", "#64748b",
    "#6366f1", "#a16207", "#0f766e", "#e11d48", "#a855f7",
    "#4d7c0f", "#0284c7", "#b45309", "#c026d3", "#78716c",
]  # fmt: skip
_NUMBERED = re.compile(r"^(.*?)(\d+)$")
THEMES = {
    "light": {"font": "#1f2937", "grid": "rgba(0,0,0,0.08)", "muted": "#6b7280",
              "track": "#e5e7eb"},
    "dark": {"font": "#e5e7eb", "grid": "rgba(255,255,255,0.10)", "muted": "#9ca3af",
             "track": "#374151"},
}  # fmt: skip
NAMED_COLORS = {
    "red": "#ef4444", "orange": "#d97706", "yellow": "#a16207", "green": "#059669",
    "blue": "#3b82f6", "purple": "#8b5cf6", "gray": "#6b7280", "grey": "#6b7280",
}  # fmt: skip


def axis_times(moments: Sequence[datetime]) -> list[str]:
    """Times as plotly's date axes should show them: wall-clock strings without a zone.

    Plotly draws epoch milliseconds on the browser's own clock, whatever the view's zone;
    a zone-less string is drawn as written. Moments arrive already on the view's clock
    (see ``layouts.figures.on_wall_clock``), so the axis shows the view's zone.
    """
    return [_wall_text(moment) for moment in moments]


def _wall_text(moment: datetime) -> str:
    text = moment.replace(tzinfo=None).isoformat(sep=" ")
    return text[:23] if moment.microsecond else text


def compact(values: Sequence[float | None]) -> list[float | None]:
    """Values rounded to six significant digits of the series' spread: more than a chart
    can show, and about a third less JSON to send and parse than full doubles.

    Digits follow the spread, not the value: a counter near 1e9 moving by 1 keeps them.
    """
    present = [abs(v) for v in values if v is not None]
    if not present:
        return list(values)
    largest = max(present)
    spread = max(v for v in values if v is not None) - min(v for v in values if v is not None)
    extra = math.ceil(math.log10(largest / spread)) if spread and largest else 0
    digits = min(17, 6 + max(0, extra) if spread else 15)
    return [None if v is None else float(f"{v:.{digits}g}") for v in values]


def colors(theme: str) -> dict[str, str]:
    """The colour set of a theme (light when unknown)."""
    return THEMES.get(theme, THEMES["light"])


def base_layout(theme: str = "light") -> dict[str, Any]:
    """Layout shared by every chart: transparent, compact, themed."""
    palette = colors(theme)
    return {
        "autosize": True,
        "margin": {"l": 52, "r": 16, "t": 8, "b": 32},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": palette["font"], "size": 12},
        "colorway": PALETTE,
        "xaxis": {"gridcolor": palette["grid"], "zeroline": False},
        "yaxis": {"gridcolor": palette["grid"], "zeroline": False},
        "hoverlabel": {"namelength": -1},
    }


def empty_figure(theme: str = "light") -> dict[str, Any]:
    """A blank chart (axes hidden) shown behind a panel message."""
    layout = base_layout(theme)
    layout["xaxis"] = {"visible": False}
    layout["yaxis"] = {"visible": False}
    return {"data": [], "layout": layout}


def hex_color(color: str) -> str:
    """A colour as hex: our named shades (red is the palette's red), then any CSS name."""
    if color in NAMED_COLORS or color.startswith("#"):
        return NAMED_COLORS.get(color, color)
    try:
        return webcolors.name_to_hex(color)
    except ValueError:
        return color  # stored before colours were checked: plotly draws what it can


def series_colors(
    names: Sequence[str], overrides: Mapping[str, str] | None = None
) -> dict[str, str]:
    """A colour per series name, chosen by the name itself, not its position.

    The same host gets the same colour in every panel, and adding or filtering a
    series leaves the others alone; numbered names (web-1, web-2, ...) never share one
    among twenty. Two names whose slots clash in one panel: the one sorting later takes
    the next free colour (only then can a filter change a colour). ``overrides`` (the
    panel's ``colors`` option) win.
    """
    overrides = overrides or {}
    chosen: dict[str, str] = {}
    taken = {hex_color(c) for n, c in overrides.items() if n in names}
    for name in sorted(set(names)):
        if name in overrides:
            chosen[name] = hex_color(overrides[name])
            continue
        slot = _slot(name)
        for step in range(len(PALETTE)):
            candidate = PALETTE[(slot + step) % len(PALETTE)]
            if candidate not in taken:
                break
        else:
            candidate = PALETTE[slot]
        taken.add(candidate)
        chosen[name] = candidate
    return chosen


def _slot(name: str) -> int:
    """A series' own palette slot: a hash of its name, except that names ending in a
    number (web-1, web-2) take consecutive slots after their prefix's."""
    numbered = _NUMBERED.match(name)
    if numbered and len(numbered.group(2)) < 9:
        prefix, number = numbered.groups()
        return (zlib.crc32(prefix.encode()) + int(number)) % len(PALETTE)
    return zlib.crc32(name.encode()) % len(PALETTE)


def transparent(color: str, alpha: float = 0.15) -> str:
    """``rgba()`` of a hex or named colour at ``alpha``."""
    digits = hex_color(color).lstrip("#")
    if len(digits) in (3, 4):
        digits = "".join(d * 2 for d in digits)
    try:
        red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    except ValueError:
        return f"rgba(59,130,246,{alpha})"
    return f"rgba({red},{green},{blue},{alpha})"
