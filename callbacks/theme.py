"""Light or dark theme, remembered in the browser; the viewport width for chart resolution."""

from __future__ import annotations

from dash import Dash, Input, Output, State

from layouts import ids


def register(app: Dash) -> None:
    """Toggle and apply the theme; measure the window once per page load."""
    app.callback(
        Output(ids.THEME, "data"),
        Input(ids.THEME_TOGGLE, "n_clicks"),
        State(ids.THEME, "data"),
        prevent_initial_call=True,
    )(toggle_theme)
    app.callback(Output(ids.APP_ROOT, "className"), Input(ids.THEME, "data"))(apply_theme)
    # The browser alone knows its width; charts ask for that many buckets, no more.
    app.clientside_callback(
        "function(_) { return window.innerWidth; }",
        Output(ids.VIEWPORT, "data"),
        Input(ids.URL, "pathname"),
    )


def toggle_theme(_clicks: int | None, theme: str | None) -> str:
    """Switch light <-> dark."""
    return "light" if theme == "dark" else "dark"


def apply_theme(theme: str | None) -> str:
    """The app root's classes for a theme."""
    return "app dark" if theme == "dark" else "app"
