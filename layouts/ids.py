"""Component ids shared by layouts and callbacks (one place, no string typos)."""

from __future__ import annotations

URL = "url"
PAGE = "page"
THEME_STORE = "theme"

TIME_RANGE = "time-range"
TIME_PRESET = "time-preset"
REFRESH_BUTTON = "refresh-button"
DASHBOARD_SLUG = "dashboard-slug"

PANEL_GRAPH = "panel-graph"
PANEL_STATUS = "panel-status"
PANEL_SPEC = "panel-spec"


def panel_graph(panel_id: str) -> dict[str, str]:
    """Id of a panel's chart."""
    return {"type": PANEL_GRAPH, "panel": panel_id}


def panel_status(panel_id: str) -> dict[str, str]:
    """Id of a panel's message area (no data, errors)."""
    return {"type": PANEL_STATUS, "panel": panel_id}


def panel_spec(panel_id: str) -> dict[str, str]:
    """Id of the store holding a panel's spec."""
    return {"type": PANEL_SPEC, "panel": panel_id}


def grid_item(panel_id: str) -> str:
    """Id of a panel's grid cell; the grid keys children by string id."""
    return f"panel-{panel_id}"
