"""Dash callbacks, one module per page or concern, each with ``register(app)``."""

from __future__ import annotations

from dash import Dash


def register_all(app: Dash) -> None:
    """Register every callback module on ``app``."""
    from callbacks import inspect, panels, router, theme, view

    for module in (router, view, panels, inspect, theme):
        module.register(app)
