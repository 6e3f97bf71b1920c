"""Component ids shared by layouts and callbacks (one place, no string typos)."""

from __future__ import annotations

# Shell
URL = "url"
PAGE = "page"
APP_ROOT = "app-root"
THEME = "theme"
THEME_TOGGLE = "theme-toggle"
VIEWPORT = "viewport"

# Dashboard view state
VIEW_URL = "view-url"
DASHBOARD_SLUG = "dashboard-slug"
VIEW_DEFAULTS = "view-defaults"
TIME_RANGE = "time-range"
TIME_HISTORY = "time-history"
VARIABLES = "variables"
TIME_PRESET = "time-preset"
TIME_FROM = "time-from"
TIME_TO = "time-to"
TIME_APPLY = "time-apply"
TIME_ERROR = "time-error"
ZOOM_OUT = "zoom-out"
BACK = "time-back"
REFRESH_PICKER = "refresh-picker"
REFRESH_BUTTON = "refresh-button"
AUTO_REFRESH = "auto-refresh"
SHARE_URL = "share-url"
SHARE_COPY = "share-copy"
VARIABLE = "variable"

# Panels (pattern-matching ids carry the panel id)
PANEL_GRAPH = "panel-graph"
PANEL_TABLE = "panel-table"
PANEL_STATUS = "panel-status"
PANEL_NOTE = "panel-note"
PANEL_SPEC = "panel-spec"
PANEL_META = "panel-meta"
PANEL_INSPECT = "panel-inspect"
PANEL_FULLSCREEN = "panel-fullscreen"

# Modals
INSPECT_MODAL = "inspect-modal"
INSPECT_BODY = "inspect-body"
INSPECT_PANEL = "inspect-panel"
INSPECT_CSV = "inspect-csv"
INSPECT_DOWNLOAD = "inspect-download"
INSPECT_CLOSE = "inspect-close"
FULLSCREEN_MODAL = "fullscreen-modal"
FULLSCREEN_BODY = "fullscreen-body"
FULLSCREEN_CLOSE = "fullscreen-close"


CHART_KEY = "panel"
TABLE_KEY = "table"
"""Table panels key their parts differently, so the chart callback's MATCH never sees them."""


def panel_part(kind: str, panel_id: str, key: str = CHART_KEY) -> dict[str, str]:
    """Pattern-matching id of one part (graph, status, spec, ...) of a panel."""
    return {"type": kind, key: panel_id}


def panel_graph(panel_id: str) -> dict[str, str]:
    """Id of a panel's chart."""
    return panel_part(PANEL_GRAPH, panel_id)


def panel_status(panel_id: str, key: str = CHART_KEY) -> dict[str, str]:
    """Id of a panel's message area (no data, errors)."""
    return panel_part(PANEL_STATUS, panel_id, key)


def panel_spec(panel_id: str, key: str = CHART_KEY) -> dict[str, str]:
    """Id of the store holding a panel's spec."""
    return panel_part(PANEL_SPEC, panel_id, key)


def variable(name: str) -> dict[str, str]:
    """Id of a dashboard variable's dropdown."""
    return {"type": VARIABLE, "name": name}


def grid_item(panel_id: str) -> str:
    """Id of a panel's grid cell; the grid keys children by string id."""
    return f"panel-{panel_id}"
