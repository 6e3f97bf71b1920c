"""Time controls: presets, an absolute range, back, zoom out, refresh and share."""

from __future__ import annotations

from datetime import UTC, datetime

from dash import dcc, html

from dashapp.core.view_state import REFRESH_CHOICES, ViewState
from dashapp.core.zones import BROWSER, offset_label, wall_clock, zone_names
from layouts import ids

TIME_PRESETS = [
    ("Last 5 minutes", "now-5m"),
    ("Last 15 minutes", "now-15m"),
    ("Last 30 minutes", "now-30m"),
    ("Last 1 hour", "now-1h"),
    ("Last 3 hours", "now-3h"),
    ("Last 6 hours", "now-6h"),
    ("Last 12 hours", "now-12h"),
    ("Last 24 hours", "now-24h"),
    ("Last 2 days", "now-2d"),
    ("Last 7 days", "now-7d"),
    ("Last 30 days", "now-30d"),
    ("Last 90 days", "now-90d"),
    ("Today", "now/d"),
    ("Yesterday", "now-1d/d|now/d"),
    ("This week", "now/w"),
]
CUSTOM = "custom"


def preset_range(value: str) -> dict[str, str]:
    """A preset's range: ``from`` up to now, or ``from|to``."""
    time_from, _, time_to = value.partition("|")
    return {"from": time_from, "to": time_to or "now"}


def preset_value(view: ViewState) -> str:
    """The preset matching a view's range, or ``custom``."""
    for _, value in TIME_PRESETS:
        if preset_range(value) == {"from": view.time_from, "to": view.time_to}:
            return value
    return CUSTOM


def time_preset_options() -> list[dict[str, str]]:
    """Preset choices, plus "Custom range" for absolute or unusual ranges."""
    options = [{"label": label, "value": value} for label, value in TIME_PRESETS]
    return [*options, {"label": "Custom range", "value": CUSTOM}]


def shown_time(time: str, zone: str) -> str:
    """How the from/to boxes show a time: relative as typed, absolute on the zone's clock."""
    if time.isdigit():
        moment = datetime.fromtimestamp(int(time) / 1000, UTC)
        return wall_clock(moment, zone).strftime("%Y-%m-%d %H:%M:%S")
    return time


def zone_options(zone: str, browser: str | None) -> list[dict[str, str]]:
    """The zone picker's choices: the browser's zone, UTC, then every IANA zone; the
    current one labelled with its offset."""
    options = [{"label": f"Browser time ({browser or 'unknown'})", "value": BROWSER},
               {"label": "UTC", "value": "UTC"}]  # fmt: skip
    options += [{"label": name, "value": name} for name in zone_names()]
    for option in options:
        if option["value"] == zone:
            option["label"] = offset_label(zone)
    return options


def time_controls(
    view: ViewState, notice: str = "", zone: str = "UTC", browser: str | None = None
) -> html.Div:
    """The toolbar's right side: every control that changes what time the panels show,
    and the one zone the view shows; ``notice`` says what of the URL was ignored."""
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
                        value=shown_time(view.time_from, zone),
                        debounce=True,
                        className="time-input",
                        placeholder="from: now-6h or ISO time",
                    ),
                    html.Span("→", className="muted"),
                    dcc.Input(
                        id=ids.TIME_TO,
                        value=shown_time(view.time_to, zone),
                        debounce=True,
                        className="time-input",
                        placeholder="to: now",
                    ),
                    html.Button("Apply", id=ids.TIME_APPLY, className="button"),
                    dcc.DatePickerRange(
                        id=ids.TIME_CALENDAR,
                        className="time-calendar",
                        display_format="YYYY-MM-DD",
                        start_date_placeholder_text="from date",
                        end_date_placeholder_text="to date",
                        minimum_nights=0,
                        clearable=False,
                        number_of_months_shown=1,
                    ),
                ],
            ),
            dcc.Dropdown(
                id=ids.TIME_ZONE,
                options=zone_options(zone, browser),
                value=zone,
                clearable=False,
                className="time-zone",
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


def time_keys() -> list:
    """The stores of the time picker's keyboard shortcuts (see callbacks/shortcuts.py)."""
    return [dcc.Store(id=ids.TIME_KEYS), dcc.Store(id=ids.TIME_SHORTCUT)]
