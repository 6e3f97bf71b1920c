"""Component ids shared by layouts and callbacks (one place, no string typos)."""

from __future__ import annotations

from typing import Any

# Shell
URL = "url"
PAGE = "page"
APP_ROOT = "app-root"
THEME = "theme"
THEME_TOGGLE = "theme-toggle"
VIEWPORT = "viewport"
HOME_SEARCH = "home-search"
HOME_LIST = "home-list"
LOGIN_LINK = "login-link"

# Annotations
ANNOTATIONS = "annotations"
ANNOTATION_TAGS = "annotation-tags"
ANNOTATE_MODAL = "annotate-modal"
ANNOTATE_CANCEL = "annotate-cancel"
ANNOTATE_AT = "annotate-at"
ANNOTATE_WHEN = "annotate-when"
ANNOTATE_TEXT = "annotate-text"
ANNOTATE_TAGS = "annotate-tags"
ANNOTATE_PANEL_ONLY = "annotate-panel-only"
ANNOTATE_ERROR = "annotate-error"
ANNOTATE_SAVE = "annotate-save"

# Explore page
EXPLORE_URL = "explore-url"
EXPLORE_SEARCH = "explore-search"
EXPLORE_RESULTS = "explore-results"
EXPLORE_METRICS = "explore-metrics"
EXPLORE_SOURCE = "explore-source"
EXPLORE_AGG = "explore-agg"
EXPLORE_GROUP = "explore-group"
EXPLORE_RANGE = "explore-range"
EXPLORE_STATUS = "explore-status"
EXPLORE_GRAPH = "explore-graph"
EXPLORE_DASHBOARD = "explore-dashboard"
EXPLORE_ADD = "explore-add"
EXPLORE_ADDED = "explore-added"

# Admin page
ADMIN_MESSAGE = "admin-message"
ADMIN_USERS = "admin-users-section"
ADMIN_TOKENS = "admin-tokens-section"
ADMIN_NEW_USER = "admin-new-user"
ADMIN_NEW_PASSWORD = "admin-new-password"
ADMIN_NEW_ROLE = "admin-new-role"
ADMIN_ADD_USER = "admin-add-user"
ADMIN_TOKEN_NAME = "admin-token-name"
ADMIN_TOKEN_SCOPES = "admin-token-scopes"
ADMIN_TOKEN_EXPIRES = "admin-token-expires"
ADMIN_ADD_TOKEN = "admin-add-token"
ADMIN_TOKEN_SECRET = "admin-token-secret"
ADMIN_PASSWORD_SECRET = "admin-password-secret"
ADMIN_CONFIRM = "admin-confirm"  # "Revoke token telegraf?", "Delete bob?", ...
ADMIN_CONFIRM_TEXT = "admin-confirm-text"
ADMIN_CONFIRM_YES = "admin-confirm-yes"
ADMIN_CONFIRM_NO = "admin-confirm-no"
ADMIN_PENDING = "admin-pending"
AUDIT_ACTOR = "audit-actor"
AUDIT_ACTION = "audit-action"
AUDIT_DATES = "audit-dates"
AUDIT_TABLE = "audit-table"
AUDIT_NEWER = "audit-newer"
AUDIT_OLDER = "audit-older"
AUDIT_OFFSET = "audit-offset"
AUDIT_INFO = "audit-info"

# Dashboard view state
VIEW_URL = "view-url"
DASHBOARD_SLUG = "dashboard-slug"
VIEW_DEFAULTS = "view-defaults"
VARIABLE_CHOICES = "variable-choices"
TIME_RANGE = "time-range"
TIME_HISTORY = "time-history"
VARIABLES = "variables"
TIME_PRESET = "time-preset"
TIME_FROM = "time-from"
TIME_TO = "time-to"
TIME_APPLY = "time-apply"
TIME_ERROR = "time-error"
TIME_ZONE = "time-zone"
CONTROLS_TOGGLE = "controls-toggle"
TIME_CALENDAR = "time-calendar"
TIME_KEYS = "time-keys"  # set once the page listens for the time picker's shortcuts
TIME_SHORTCUT = "time-shortcut"  # the last shortcut: {"action": back|forward|zoom-out, "at"}
ZONE_SETTING = "zone-setting"
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
PANEL_SORT = "panel-sort"
PANEL_SORT_STATE = "panel-sort-state"
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
INSPECT_CSV_WIDE = "inspect-csv-wide"
PE_TOUCHED = "pe-touched"
INSPECT_DOWNLOAD = "inspect-download"
INSPECT_CLOSE = "inspect-close"
FULLSCREEN_MODAL = "fullscreen-modal"
FULLSCREEN_BODY = "fullscreen-body"
FULLSCREEN_CLOSE = "fullscreen-close"
FULLSCREEN_TITLE = "fullscreen-title"


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


# Editor
EDITOR_BASE = "editor-base"
EDITOR_DRAFT = "editor-draft"
EDITOR_DIRTY = "editor-dirty"
UNLOAD_GUARD = "unload-guard"
EDITOR_BANNER = "editor-banner"
DRAFTS = "drafts"
DRAFT_NOTICE = "draft-notice"
DASHBOARD_ID = "dashboard-id"
PANEL_GRID = "panel-grid"
EDIT_GRID = "edit-grid"  # its own id, so editor callbacks never see the view page's grid
ADD_PANEL_TYPE = "add-panel-type"
ADD_PANEL = "add-panel"
SAVE = "save"
SAVE_MESSAGE = "save-message"
SAVE_COPY = "save-copy"
DISCARD = "discard-draft"
RELOAD_LATEST = "reload-latest"
EXPORT = "export-json"
VIEW_EXPORT = "view-export"
VIEW_EXPORT_DOWNLOAD = "view-export-download"
EXPORT_DOWNLOAD = "export-download"
DUPLICATE_DASHBOARD = "duplicate-dashboard"
DELETE_DASHBOARD = "delete-dashboard"
DELETE_CONFIRM = "delete-confirm"
SETTING = "setting"
VARIABLE_FIELD = "variable-field"
VARIABLE_ADD = "variable-add"
VARIABLE_REMOVE = "variable-remove"
PANEL_EDIT = "panel-edit"
PANEL_DUPLICATE = "panel-duplicate"
PANEL_REMOVE = "panel-remove"

# Panel editor
EDITING_PANEL = "editing-panel"
SCROLLED_TO = "scrolled-to"  # the panel the page last scrolled to (clientside)
PE_MODAL = "pe-modal"
PE_FORM = "pe-form"
PE_FIELD = "pe-field"
PE_OPTION = "pe-option"
PE_OPTIONS = "pe-options"
PE_QUERY = "pe-query"
PE_QUERIES = "pe-queries"
PE_QUERY_ADD = "pe-query-add"
PE_QUERY_REMOVE = "pe-query-remove"
PE_ERROR = "pe-error"
PE_PREVIEW = "pe-preview"
PE_APPLY = "pe-apply"
PE_CANCEL = "pe-cancel"
PE_CONFIRM = "pe-confirm"  # "Discard your changes to this panel?"
PE_DISCARD = "pe-discard"
PE_KEEP = "pe-keep"

# History, create, import
HISTORY_A = "history-a"
HISTORY_B = "history-b"
HISTORY_DIFF = "history-diff"
HISTORY_RESTORE = "history-restore"
HISTORY_MESSAGE = "history-message"
CREATE_TITLE = "create-title"
CREATE_SLUG = "create-slug"
CREATE_TEMPLATE = "create-template"
CREATE_SUBMIT = "create-submit"
CREATE_ERROR = "create-error"
IMPORT_UPLOAD = "import-upload"
IMPORT_TEXT = "import-text"
IMPORT_SUBMIT = "import-submit"
IMPORT_ERRORS = "import-errors"
UNDELETE = "undelete"
HOME_MESSAGE = "home-message"


def setting(name: str) -> dict[str, str]:
    """Id of one dashboard-settings field in the editor."""
    return {"type": SETTING, "name": name}


def form_part(kind: str, name: str) -> dict[str, str]:
    """Id of a panel-editor field, option or error slot."""
    return {"type": kind, "name": name}


def query_part(index: int, name: str) -> dict[str, Any]:
    """Id of one field of the panel editor's ``index``-th query."""
    return {"type": PE_QUERY, "index": index, "name": name}
