"""Dash callbacks, one module per page or concern, each with ``register(app)``."""

from __future__ import annotations

from dash import Dash


def register_all(app: Dash) -> None:
    """Register every callback module on ``app``."""
    from callbacks import dashboard, panels, router

    for module in (router, dashboard, panels):
        module.register(app)
