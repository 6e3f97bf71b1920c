"""Dash callback requests as the renderer sends them, built from the app's callback map.

A callback is named by its output key (``dash_app.callback_map``); its inputs and states
get the values given by ``(component id, property)``, pattern-matching ids their
wildcards filled (MATCH and ALLSMALLER with ``key``, ALL with one component).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from flask import Flask

WILDCARDS = (["MATCH"], ["ALLSMALLER"], ["ALL"])


def dash_app(app: Flask) -> Any:
    """The Dash app mounted on ``app``."""
    return app.extensions["dashapp.dash"]


def parse_id(text: str | Mapping[str, Any]) -> str | dict[str, Any]:
    """A component id as the map spells it: a string, or a pattern-matching dict."""
    if isinstance(text, Mapping):
        return dict(text)
    return json.loads(text) if text.startswith("{") else text


def concrete(component: str | dict[str, Any], key: str) -> str | dict[str, Any]:
    """The id of one component matching ``component``'s wildcards."""
    if isinstance(component, str):
        return component
    return {name: key if value in WILDCARDS else value for name, value in component.items()}


def is_all(component: str | dict[str, Any]) -> bool:
    return isinstance(component, dict) and ["ALL"] in component.values()


def pattern_name(component: str | dict[str, Any]) -> str:
    """The name :func:`values` are keyed by: the id, or a pattern's ``type``."""
    return component if isinstance(component, str) else str(component.get("type"))


def output_parts(output: str) -> list[tuple[str | dict[str, Any], str]]:
    """(id, property) of each output of a callback keyed ``output``."""
    text = output[2:-2] if output.startswith("..") else output
    parts = []
    for part in text.split("..."):
        ident, prop = part.rsplit(".", 1)
        parts.append((parse_id(ident), prop))
    return parts


def body(
    app: Flask,
    output: str,
    values: Mapping[tuple[str, str], Any],
    changed: list[str] | None = None,
    key: str = "x",
) -> dict[str, Any]:
    """The JSON a renderer posts to ``/_dash-update-component`` for the callback keyed
    ``output``: ``values`` by (id or pattern type, property), None where not given;
    ``changed`` names the inputs that fired (``id.property``); wildcards take ``key``."""
    entry = dash_app(app).callback_map[output]

    def item(spec: Mapping[str, Any]) -> Any:
        component = parse_id(spec["id"])
        value = values.get((pattern_name(component), spec["property"]))
        single = {"id": concrete(component, key), "property": spec["property"], "value": value}
        return [single] if is_all(component) else single

    outputs = []
    for component, prop in output_parts(output):
        single = {"id": concrete(component, key), "property": prop}
        outputs.append([single] if is_all(component) else single)
    return {
        "output": output,
        "outputs": outputs if output.startswith("..") else outputs[0],
        "inputs": [item(spec) for spec in entry["inputs"]],
        "state": [item(spec) for spec in entry["state"]],
        "changedPropIds": changed or [],
    }


def post(client: Any, payload: Any, csrf: str | None = None) -> Any:
    """POST a callback body (with the CSRF header a page's renderer sends, if given)."""
    headers = {"X-CSRFToken": csrf} if csrf else {}
    return client.post("/_dash-update-component", json=payload, headers=headers)


def chart_output(app: Flask) -> str:
    """The key of the chart panels' callback."""
    return next(
        key for key in dash_app(app).callback_map if "panel-graph" in key and ".figure" in key
    )
