"""Dashboard-level controls: the time range picker and the URL that mirrors it."""

from __future__ import annotations

from urllib.parse import urlencode

from dash import Dash, Input, Output

from layouts import ids


def register(app: Dash) -> None:
    """Wire the time preset to the shared time range and the URL."""
    app.callback(
        Output(ids.TIME_RANGE, "data"),
        Output(ids.URL, "search"),
        Input(ids.TIME_PRESET, "value"),
        prevent_initial_call=True,
    )(choose_preset)


def choose_preset(value: str) -> tuple[dict[str, str], str]:
    """A preset is a relative range ending now; the URL keeps it shareable."""
    time_range = {"from": value, "to": "now"}
    return time_range, "?" + urlencode(time_range)
