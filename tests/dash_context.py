"""Run a Dash callback function outside the renderer, with ``dash.ctx`` filled in."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dash._callback_context import context_value
from dash._utils import AttributeDict
from flask import Response, g


class _Response(Response):
    """The response Dash lets a callback set cookies on; keeps the last one in ``g``."""

    def set_cookie(self, key: str, value: str = "", **options: Any) -> None:  # type: ignore[override]
        super().set_cookie(key, value, **options)
        g.zone_cookie = self.headers["Set-Cookie"]


@contextmanager
def triggered_by(
    component: str | dict[str, Any],
    prop: str,
    value: Any = 1,
    inputs_list: list[Any] | None = None,
    states_list: list[Any] | None = None,
    args_grouping: dict[str, Any] | None = None,
) -> Iterator[None]:
    """Pretend ``component.prop`` (changed to ``value``) triggered the callback."""
    name = (
        component
        if isinstance(component, str)
        else json.dumps(component, separators=(",", ":"), sort_keys=True)
    )
    token = context_value.set(
        AttributeDict(
            triggered_inputs=[{"prop_id": f"{name}.{prop}", "value": value}],
            inputs_list=inputs_list or [],
            states_list=states_list or [],
            args_grouping=args_grouping or {},
            dash_response=_Response(),
        )
    )
    try:
        yield
    finally:
        context_value.reset(token)
