"""The panel editor's form, derived from the spec models, and the way back to a panel.

Each panel type's option fields come from its pydantic options model (a ``Literal``
becomes a select, a ``bool`` a checkbox, numbers number boxes, thresholds a
``value:colour`` list), so a new option appears in the editor without UI code.
Validation errors come back keyed by form field, to be shown next to it.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, TypeAdapter, ValidationError

from dashapp.core import units
from dashapp.core.spec import (
    BarOptions,
    GaugeOptions,
    HeatmapOptions,
    Panel,
    Query,
    StatOptions,
    TableOptions,
    TextOptions,
    TimeseriesOptions,
)

OPTIONS: dict[str, type[BaseModel]] = {
    "timeseries": TimeseriesOptions,
    "stat": StatOptions,
    "gauge": GaugeOptions,
    "bar": BarOptions,
    "table": TableOptions,
    "heatmap": HeatmapOptions,
    "text": TextOptions,
}
QUERY_FIELDS = ("metric", "source", "labels", "agg", "group_by", "interval", "mode", "alias")
PANEL_ADAPTER: TypeAdapter[Any] = TypeAdapter(Panel)
Kind = Literal["select", "checkbox", "number", "thresholds", "colors", "markdown", "unit", "text"]


@dataclass(frozen=True)
class Field:
    """One form field: the option's name, how it is edited, and its choices if any."""

    name: str
    kind: Kind
    label: str
    choices: tuple[str, ...] = ()
    help: str = ""


def _kind(annotation: Any, name: str) -> tuple[Kind, tuple[str, ...]]:
    if name == "thresholds":
        return "thresholds", ()
    if name == "colors":
        return "colors", ()
    if name == "content":
        return "markdown", ()
    if name == "unit":  # a known id, suggested, or a custom one typed (suffix:rpm)
        return "unit", tuple(units.UNITS)
    if annotation is bool:
        return "checkbox", ()
    if get_origin(annotation) is Literal:
        return "select", tuple(str(a) for a in get_args(annotation))
    options = (
        get_args(annotation)
        if get_origin(annotation) in (typing.Union, types.UnionType)
        else (annotation,)
    )
    if any(option in (int, float) for option in options):
        return "number", ()
    return "text", ()


def option_fields(panel_type: str) -> list[Field]:
    """The editable options of a panel type, in model order."""
    model = OPTIONS[panel_type]
    fields = []
    for name, info in model.model_fields.items():
        kind, choices = _kind(info.annotation, name)
        label = name.replace("_", " ").capitalize()
        fields.append(Field(name, kind, label, choices, info.description or ""))
    return fields


def thresholds_text(thresholds: list[dict[str, Any]]) -> str:
    """``[{"value": 90, "color": "red"}]`` as ``90:red``."""
    return ", ".join(f"{t['value']:g}:{t.get('color', 'red')}" for t in thresholds)


def parse_thresholds(text: str | None) -> list[dict[str, Any]] | str:
    """``70:orange, 90:red`` as threshold dicts (a bad entry is kept as text to fail validation)."""
    items = []
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        value, _, color = part.partition(":")
        try:
            items.append({"value": float(value), "color": color.strip() or "red"})
        except ValueError:
            return part
    return items


def labels_text(labels: dict[str, str]) -> str:
    """``{"region": "eu"}`` as ``region=eu``."""
    return ", ".join(f"{key}={value}" for key, value in labels.items())


def parse_labels(text: str | None) -> dict[str, str] | str:
    """``region=eu, env=prod`` as a dict (a bad entry is kept as text to fail validation)."""
    labels = {}
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep:
            return part
        labels[key.strip()] = value.strip()
    return labels


def option_values(panel: dict[str, Any]) -> dict[str, Any]:
    """A panel's options as the form shows them (thresholds as text, booleans as checklists)."""
    model = OPTIONS[panel["type"]]
    stored = {"stored": True}  # the form shows what was saved, as it was
    current = model.model_validate(panel.get("options") or {}, context=stored).model_dump()
    values = {}
    for field in option_fields(panel["type"]):
        value = current.get(field.name)
        if field.kind == "thresholds":
            value = thresholds_text(value or [])
        elif field.kind == "colors":
            value = labels_text(value or {})
        elif field.kind == "checkbox":
            value = [field.name] if value else []
        values[field.name] = value
    return values


def query_values(query: dict[str, Any]) -> dict[str, Any]:
    """A query as the form shows it."""
    filled = Query.model_validate(query).model_dump() if query.get("metric") else dict(query)
    return {
        "metric": filled.get("metric"),
        "source": filled.get("source") or "",
        "labels": labels_text(filled.get("labels") or {}),
        "agg": filled.get("agg", "avg"),
        "group_by": filled.get("group_by") or [],
        "interval": filled.get("interval", "auto"),
        "mode": filled.get("mode", "auto"),
        "alias": filled.get("alias") or "",
    }


def _blank_to_none(value: Any) -> Any:
    return None if value in ("", None) else value


def panel_from_form(
    base: dict[str, Any],
    general: dict[str, Any],
    options: dict[str, Any],
    queries: list[dict[str, Any]],
) -> dict[str, Any]:
    """The panel document the form describes (not yet validated)."""
    panel_type = general.get("type") or base["type"]
    option_doc: dict[str, Any] = {}
    for field in option_fields(panel_type):
        if field.name not in options:
            continue
        raw = options[field.name]
        if field.kind == "checkbox":
            option_doc[field.name] = bool(raw)
        elif field.kind == "thresholds":
            option_doc[field.name] = parse_thresholds(raw)
        elif field.kind == "colors":
            option_doc[field.name] = parse_labels(raw)
        elif field.kind == "unit":
            option_doc[field.name] = (raw or "").strip() or "short"
        elif field.kind == "number":
            value = _blank_to_none(raw)
            if value is not None or field.name in ("y_min", "y_max", "decimals", "max"):
                option_doc[field.name] = value
        else:
            option_doc[field.name] = raw
    query_docs = []
    for query in queries:
        doc = {
            "metric": query.get("metric") or "",
            "source": _blank_to_none(query.get("source")),
            "labels": parse_labels(query.get("labels")),
            "agg": query.get("agg") or "avg",
            "group_by": list(query.get("group_by") or []),
            "interval": query.get("interval") or "auto",
            "mode": query.get("mode") or "auto",
            "alias": _blank_to_none(query.get("alias")),
        }
        query_docs.append(doc)
    return {
        "id": base["id"],
        "type": panel_type,
        "title": general.get("title") or "",
        "description": general.get("description") or "",
        "grid": base.get("grid", {"x": 0, "y": 0, "w": 12, "h": 8}),
        "queries": [] if panel_type == "text" else query_docs,
        "options": option_doc,
    }


def untouched_form(panel: dict[str, Any]) -> dict[str, Any]:
    """The panel document the editor's form describes before anyone changes a field."""
    general = {key: panel.get(key, "") for key in ("title", "description")}
    queries = [query_values(q) for q in panel.get("queries", [])]
    return panel_from_form(
        panel,
        {**general, "type": panel["type"]},
        option_values(panel),
        queries or [query_values({"metric": None})],  # the form starts a new panel's query
    )


def form_changed(
    panel: dict[str, Any],
    general: dict[str, Any],
    options: dict[str, Any],
    queries: list[dict[str, Any]],
) -> bool:
    """Whether the form holds changes to ``panel`` (leaving the editor then asks first)."""
    return panel_from_form(panel, general, options, queries) != untouched_form(panel)


def form_key(location: tuple[Any, ...]) -> str:
    """The form field a pydantic error location points at: ``title``, ``option:unit``,
    ``query:0:metric``."""
    parts = list(location)
    if parts and parts[0] in OPTIONS:  # the discriminated union's tag
        parts = parts[1:]
    if not parts:
        return "panel"
    if parts[0] == "options" and len(parts) > 1:
        return f"option:{parts[1]}"
    if parts[0] == "queries" and len(parts) > 2:
        return f"query:{parts[1]}:{parts[2]}"
    return str(parts[0])


def validate_panel(document: dict[str, Any]) -> tuple[Any | None, dict[str, str]]:
    """The validated panel, or None and the errors keyed by form field."""
    try:
        return PANEL_ADAPTER.validate_python(document), {}
    except ValidationError as error:
        errors: dict[str, str] = {}
        for detail in error.errors(include_url=False):
            key = form_key(tuple(detail["loc"]))
            errors.setdefault(key, plain_message(key, detail))
        return None, errors


def plain_message(key: str, detail: Mapping[str, Any]) -> str:
    """What a validation error means to someone filling in the form, in their words."""
    kind, limits = detail.get("type", ""), detail.get("ctx") or {}
    if key.endswith(":metric") and kind in ("string_too_short", "string_type", "missing"):
        return "Pick a metric."
    if kind == "value_error":  # our own rules say it in plain words already
        return str(detail.get("msg", "Not valid.")).removeprefix("Value error, ")
    if key.endswith(":labels"):
        return "Write labels as key=value, separated by commas (region=eu, env=prod)."
    if key == "option:thresholds":
        return "Write thresholds as value:colour, separated by commas (70:orange, 90:red)."
    if key == "option:colors":
        return "Write colours as series=colour, separated by commas (web-1=red, web-2=#0ea5e9)."
    messages = {
        "string_too_short": "This cannot be empty.",
        "string_too_long": f"Too long: at most {limits.get('max_length')} characters.",
        "missing": "This is required.",
        "float_parsing": "Enter a number.",
        "int_parsing": "Enter a whole number.",
        "int_from_float": "Enter a whole number.",
        "greater_than_equal": f"At least {limits.get('ge')}.",
        "less_than_equal": f"At most {limits.get('le')}.",
        "greater_than": f"More than {limits.get('gt')}.",
        "string_pattern_mismatch": "Use letters, digits and simple punctuation only.",
        "literal_error": f"Choose one of {limits.get('expected', 'the listed values')}.",
        "too_long": f"Too many: at most {limits.get('max_length')}.",
    }
    if kind in messages:
        return messages[kind]
    return str(detail.get("msg", "Not valid.")).removeprefix("Value error, ")


def variables_from_rows(
    rows: dict[int, dict[str, Any]],
    existing: list[dict[str, Any]],
    remove: int | None = None,
    add: bool = False,
) -> list[dict[str, Any]]:
    """The dashboard's variables from the editor's rows (``flags`` is the multi/All
    checklist); what the rows do not show (such as ``default``) is kept from ``existing``."""
    variables = []
    for index in sorted(rows):
        if index == remove:
            continue
        row = rows[index]
        flags = row.get("flags") or []
        before = existing[index] if index < len(existing) else {}
        variables.append(
            {
                **before,
                "name": row.get("name") or "",
                "label": row.get("label") or "",
                "metric": row.get("metric") or None,
                "key": row.get("key") or "source",
                "multi": "multi" in flags,
                "include_all": "include_all" in flags,
            }
        )
    if add:
        variables.append({"name": f"var{len(variables) + 1}", "key": "source"})
    return variables
