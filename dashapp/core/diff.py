"""Readable differences between two dashboard versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from dashapp.core.spec import dump_spec, parse_spec

MISSING = object()


@dataclass(frozen=True)
class Change:
    """One difference: a panel or variable added/removed, or a field changed."""

    kind: Literal["added", "removed", "changed"]
    where: str
    field: str = ""
    before: Any = None
    after: Any = None


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts and lists as ``{"options.unit": "ms", "queries.0.metric": "cpu"}``."""
    if isinstance(value, Mapping):
        items = value.items()
    elif isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
        items = ((str(i), v) for i, v in enumerate(value))
    else:
        return {prefix: value}
    flat: dict[str, Any] = {}
    for key, inner in items:
        flat.update(flatten(inner, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _field_changes(where: str, old: Any, new: Any) -> list[Change]:
    before, after = flatten(old), flatten(new)
    changes = []
    for field in sorted(before.keys() | after.keys()):
        a, b = before.get(field, MISSING), after.get(field, MISSING)
        if a != b:
            changes.append(
                Change("changed", where, field, None if a is MISSING else a,
                       None if b is MISSING else b)
            )  # fmt: skip
    return changes


def _by_key(items: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    return {item[key]: item for item in items}


def diff_specs(old_document: Mapping[str, Any], new_document: Mapping[str, Any]) -> list[Change]:
    """What changed from one spec to another: panels and variables added or removed,
    then every field changed, dashboard first (both sides upgraded and filled with defaults).
    """
    old = dump_spec(parse_spec(dict(old_document), stored=True))
    new = dump_spec(parse_spec(dict(new_document), stored=True))
    changes: list[Change] = []
    top_old = {k: v for k, v in old.items() if k not in ("panels", "variables")}
    top_new = {k: v for k, v in new.items() if k not in ("panels", "variables")}
    changes += _field_changes("dashboard", top_old, top_new)
    for kind, key, label in (("variables", "name", "variable"), ("panels", "id", "panel")):
        before, after = _by_key(old[kind], key), _by_key(new[kind], key)
        for name in before.keys() - after.keys():
            changes.append(Change("removed", _describe(label, before[name], key)))
        for name in after.keys() - before.keys():
            changes.append(Change("added", _describe(label, after[name], key)))
        for name in sorted(before.keys() & after.keys()):
            changes += _field_changes(_describe(label, after[name], key), before[name], after[name])
    return changes


def _describe(label: str, item: Mapping[str, Any], key: str) -> str:
    title = item.get("title")
    return f"{label} '{title}' ({item[key]})" if title else f"{label} {item[key]}"


def summarize(changes: list[Change]) -> str:
    """One line: ``2 panels added, 1 removed, 5 fields changed``."""
    added = sum(1 for c in changes if c.kind == "added")
    removed = sum(1 for c in changes if c.kind == "removed")
    changed = sum(1 for c in changes if c.kind == "changed")
    if not changes:
        return "no differences"
    return f"{added} added, {removed} removed, {changed} fields changed"
