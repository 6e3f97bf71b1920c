"""Time controls: presets, an absolute range, back, zoom out, refresh and share."""

from __future__ import annotations

from dash import dcc, html

from dashapp.core.view_state import REFRESH_CHOICES, ViewState
from layouts import ids

TIME_PRESETS = [
    ("Last 15 minutes", "now-15m"),
    ("Last 1 hour", "now-1h"),
    ("Last 6 hours", "now-6h"),
    ("Last 24 hours", "now-24h"),
    ("Last 7 days", "now-7d"),
    ("Last 30 days", "now-30d"),
]
CUSTOM = "custom"


def preset_value(view: ViewState) -> str:
    """The preset matching a view's range, or ``custom``."""
    presets = {value for _, value in TIME_PRESETS}
    return view.time_from if view.time_to == "now" and view.time_from in presets else CUSTOM


def time_preset_options() -> list[dict[str, str]]:
    """Preset choices, plus "Custom range" for absolute or unusual ranges."""
    options = [{"label": label, "value": value} for label, value in TIME_PRESETS]
    return [*options, {"label": "Custom range", "value": CUSTOM}]


def time_controls(view: ViewState, notice: str = "") -> html.Div:
    """The toolbar's right side: every control that changes what time the panels show;
    ``notice`` says what of the URL was ignored."""
    return html.Div(
        className="toolbar-controls",
        children=[
            html.Button("Back", id=ids.BACK, className="button", title="Previous time range"),
            html.Button("Zoom out", id=ids.ZOOM_OUT, className="button", title="Twice the range"),
            dcc.Dropdown(
                id=ids.TIME_PRESET,
                options=time_preset_options(),
                value=preset_value(view),
                clearable=False,
                searchable=False,
                className="time-preset",
            ),
            html.Div(
                className="absolute-range",
                children=[
                    dcc.Input(
                        id=ids.TIME_FROM,
                        value=view.time_from,
                        debounce=True,
                        className="time-input",
                        placeholder="from: now-6h or ISO time",
                    ),
                    html.Span("→", className="muted"),
                    dcc.Input(
                        id=ids.TIME_TO,
                        value=view.time_to,
                        debounce=True,
                        className="time-input",
                        placeholder="to: now",
                    ),
                    html.Button("Apply", id=ids.TIME_APPLY, className="button"),
                ],
            ),
            dcc.Dropdown(
                id=ids.REFRESH_PICKER,
                options=[{"label": f"⟳ {c}", "value": c} for c in REFRESH_CHOICES],
                value=view.refresh,
                clearable=False,
                searchable=False,
                className="refresh-picker",
            ),
            html.Button("Refresh", id=ids.REFRESH_BUTTON, className="button"),
            html.Span(id=ids.SHARE_URL, className="share-url", hidden=True),
            dcc.Clipboard(
                id=ids.SHARE_COPY,
                target_id=ids.SHARE_URL,
                title="Copy a link to this view",
                className="button share-copy",
                children="Copy link",
            ),
            html.Div(notice, id=ids.TIME_ERROR, className="time-error", role="alert"),
        ],
    )
