"""Dash callbacks, one module per page or concern, each with ``register(app)``."""

from __future__ import annotations

from dash import Dash


def register_all(app: Dash) -> None:
    """Register every callback module on ``app``."""
    from callbacks import (
        admin,
        annotate,
        editor,
        editor_actions,
        explore,
        history,
        inspect,
        manage,
        panel_editor,
        panels,
        router,
        shortcuts,
        theme,
        view,
    )

    modules = (router, view, panels, inspect, theme, editor, editor_actions, panel_editor,
               history, manage, admin, explore, annotate, shortcuts)  # fmt: skip
    for module in modules:
        module.register(app)
