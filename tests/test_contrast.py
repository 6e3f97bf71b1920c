"""WCAG AA contrast of every colour the app ships (issue 28, item 7), read from the
stylesheet (assets/app.css) and the chart theme (layouts/theme.py) as they are, so a
bad colour added to either fails here: text 4.5:1, series and other graphics 3:1."""

from __future__ import annotations

from pathlib import Path

import pytest
import tinycss2
import webcolors

from layouts.theme import NAMED_COLORS, PALETTE, THEMES

STYLESHEET = Path(__file__).parent.parent / "assets" / "app.css"
TEXT, GRAPHICS = 4.5, 3.0


def luminance(color: str) -> float:
    """WCAG relative luminance of a CSS colour (hex or name)."""
    red, green, blue = webcolors.html5_parse_simple_color(webcolors.normalize_hex(color))
    channels = [c / 255 for c in (red, green, blue)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    """WCAG contrast ratio of two opaque colours (1 to 21)."""
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def declared(selector: str) -> dict[str, str]:
    """The custom properties a rule of the stylesheet sets (``--text: #1f2937``)."""
    rules = tinycss2.parse_stylesheet(STYLESHEET.read_text(), skip_whitespace=True)
    found: dict[str, str] = {}
    for rule in rules:
        if rule.type != "qualified-rule":
            continue
        selectors = {s.strip() for s in tinycss2.serialize(rule.prelude).split(",")}
        if selector not in selectors:
            continue
        for item in tinycss2.parse_declaration_list(rule.content, skip_whitespace=True):
            if item.type == "declaration" and item.name.startswith("--"):
                found[item.name] = tinycss2.serialize(item.value).strip()
    return found


LIGHT = declared(":root")
DARK = {**LIGHT, **declared(".app.dark")}
DASH_DARK = declared("html:has(.app.dark)")  # Dash's own components, portals included
THEMES_CSS = {"light": LIGHT, "dark": DARK}
BACKGROUNDS = ("--bg", "--surface", "--surface-2")


def foregrounds(variables: dict[str, str]) -> list[str]:
    """Every variable that colours text: text, muted, accent, danger, warning, ..."""
    words = ("text", "muted", "accent", "danger", "warning", "link")
    # A button's background (``--*-fill``) and the text on it are checked as a pair.
    return sorted(
        v for v in variables
        if any(w in v for w in words) and not v.endswith("-fill") and v != "--accent-text"
    )  # fmt: skip


def test_the_stylesheet_declares_both_themes() -> None:
    assert {"--text", "--muted", "--surface", "--bg", "--accent"} <= set(LIGHT)
    assert DARK["--surface"] != LIGHT["--surface"] and DASH_DARK, "dark theme rules missing"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_colours_read_on_every_background(theme: str) -> None:
    variables = THEMES_CSS[theme]
    failing = {
        (fg, bg): round(contrast(variables[fg], variables[bg]), 2)
        for fg in foregrounds(variables)
        for bg in BACKGROUNDS
        if contrast(variables[fg], variables[bg]) < TEXT
    }
    assert failing == {}, failing


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_primary_buttons_read(theme: str) -> None:
    variables = THEMES_CSS[theme]
    fills = [v for v in variables if v.endswith("-fill")]
    assert {"--accent-fill", "--danger-fill"} <= set(fills)
    for fill in fills:
        assert contrast(variables["--accent-text"], variables[fill]) >= TEXT, fill


def test_dash_components_read_in_the_dark() -> None:
    """Dropdown menus, placeholders ("all tags"), the clear button, date boxes: dark on dark
    was the issue's "dark blue on black", white boxes the "date box staying white"."""
    menu = DASH_DARK["--Dash-Fill-Inverse-Strong"]
    assert contrast(menu, DARK["--text"]) >= TEXT  # a dark menu, not a white one
    for role in ("--Dash-Text-Strong", "--Dash-Text-Primary", "--Dash-Text-Weak"):
        for background in (menu, DARK["--surface"], DARK["--bg"]):
            assert contrast(DASH_DARK[role], background) >= TEXT, (role, background)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_series_colour_shows_on_both_chart_backgrounds(theme: str) -> None:
    """Issue 28: api-1's #1f2937 vanished on the dark panels. One palette for both themes
    (a host keeps its colour when you switch), each colour 3:1 against either surface."""
    surface = THEMES_CSS[theme]["--surface"]
    failing = {c: round(contrast(c, surface), 2) for c in PALETTE if contrast(c, surface) < 3}
    assert failing == {}, failing
    named = {n: c for n, c in NAMED_COLORS.items() if contrast(c, surface) < GRAPHICS}
    assert named == {}, named  # threshold lines and bands: "orange", "yellow", ...


def test_chart_text_reads_on_its_panel() -> None:
    for theme, variables in THEMES_CSS.items():
        chart = THEMES[theme]
        assert contrast(chart["font"], variables["--surface"]) >= TEXT
        assert contrast(chart["muted"], variables["--surface"]) >= TEXT
