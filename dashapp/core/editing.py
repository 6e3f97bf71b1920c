"""Edits to a dashboard draft: pure functions from a spec document to a new one.

The editor keeps its draft as a plain JSON document and validates it in full only
on save, so a half-finished edit is never lost and never stored.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from typing import Any

from dashapp.core.spec import GRID_COLUMNS, PANEL_TYPES

Document = dict[str, Any]
DEFAULT_SIZE = {"stat": (6, 5), "gauge": (6, 6), "text": (8, 6), "table": (12, 8)}
PLACEHOLDER_TEXT = "Write **markdown** here."


def _panels(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    return list(document.get("panels", []))


def new_panel_id(document: Mapping[str, Any], base: str = "panel") -> str:
    """An id no panel of ``document`` uses: ``base``, ``base-2``, ``base-3``..."""
    taken = {panel["id"] for panel in _panels(document)}
    stem = re.sub(r"[^A-Za-z0-9_-]", "-", base)[:30] or "panel"
    stem = re.sub(r"-\d+$", "", stem) or "panel"
    candidate, number = stem, 1
    while candidate in taken:
        number += 1
        candidate = f"{stem}-{number}"
    return candidate


def bottom(document: Mapping[str, Any]) -> int:
    """The first grid row below every panel."""
    return max(
        (p["grid"]["y"] + p["grid"]["h"] for p in _panels(document) if "grid" in p), default=0
    )


def add_panel(
    document: Mapping[str, Any], panel_type: str, at_top: bool = False
) -> tuple[Document, str]:
    """A new panel of ``panel_type`` at the bottom of the grid, or ``at_top`` (where an
    editor who clicked Add is looking, the others moving down); returns (document, id)."""
    if panel_type not in PANEL_TYPES:
        raise ValueError(f"unknown panel type {panel_type!r}")
    width, height = DEFAULT_SIZE.get(panel_type, (12, 8))
    panel_id = new_panel_id(document, panel_type)
    panel: dict[str, Any] = {
        "id": panel_id,
        "type": panel_type,
        "title": f"New {panel_type} panel",
        "grid": {"x": 0, "y": 0 if at_top else bottom(document), "w": width, "h": height},
        "queries": [],
    }
    if panel_type == "text":
        panel["options"] = {"content": PLACEHOLDER_TEXT}
    updated = copy.deepcopy(dict(document))
    if at_top:
        for existing in _panels(updated):
            if "grid" in existing:
                existing["grid"]["y"] = existing["grid"].get("y", 0) + height
    updated["panels"] = [*_panels(updated), panel]
    return updated, panel_id


def compact(document: Mapping[str, Any]) -> Document:
    """Every panel moved up as far as it goes without overlapping another (the grid's
    vertical compaction, so removing or shrinking a panel leaves no gap)."""
    updated = copy.deepcopy(dict(document))
    placed: list[dict[str, int]] = []
    gridded = [p for p in _panels(updated) if {"x", "y", "w", "h"} <= set(p.get("grid", {}))]
    for panel in sorted(gridded, key=lambda p: (p["grid"]["y"], p["grid"]["x"])):
        grid = panel["grid"]
        y = grid["y"]
        while y > 0 and not any(_overlaps({**grid, "y": y - 1}, other) for other in placed):
            y -= 1
        grid["y"] = y
        placed.append(grid)
    return updated


def _overlaps(a: Mapping[str, int], b: Mapping[str, int]) -> bool:
    return (a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"]
            and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"])  # fmt: skip


def remove_panel(document: Mapping[str, Any], panel_id: str) -> Document:
    """The document without panel ``panel_id``."""
    updated = copy.deepcopy(dict(document))
    updated["panels"] = [p for p in _panels(updated) if p["id"] != panel_id]
    return updated


def duplicate_panel(document: Mapping[str, Any], panel_id: str) -> tuple[Document, str]:
    """A copy of a panel placed below everything; returns (document, the copy's id)."""
    source = next(p for p in _panels(document) if p["id"] == panel_id)
    clone = copy.deepcopy(source)
    clone["id"] = new_panel_id(document, panel_id)
    clone["title"] = f"{source.get('title') or 'Panel'} (copy)"
    clone["grid"] = {**source.get("grid", {"x": 0, "w": 12, "h": 8}), "x": 0, "y": bottom(document)}
    updated = copy.deepcopy(dict(document))
    updated["panels"] = [*_panels(updated), clone]
    return updated, clone["id"]


def replace_panel(document: Mapping[str, Any], panel: Mapping[str, Any]) -> Document:
    """The document with the panel of the same id replaced (its grid position kept)."""
    updated = copy.deepcopy(dict(document))
    panels = []
    for existing in _panels(updated):
        if existing["id"] == panel["id"]:
            existing = {
                **copy.deepcopy(dict(panel)),
                "grid": existing.get("grid", panel.get("grid")),
            }
        panels.append(existing)
    updated["panels"] = panels
    return updated


def apply_layout(document: Mapping[str, Any], layout: Sequence[Mapping[str, Any]]) -> Document:
    """Positions from the grid's ``layout`` prop (``{i: "panel-<id>", x, y, w, h}``)."""
    positions = {
        item["i"].removeprefix("panel-"): {
            "x": max(0, min(int(item["x"]), GRID_COLUMNS - 1)),
            "y": max(0, int(item["y"])),
            "w": max(1, min(int(item["w"]), GRID_COLUMNS)),
            "h": max(2, int(item["h"])),
        }
        for item in layout
        if str(item.get("i", "")).startswith("panel-")
    }
    updated = copy.deepcopy(dict(document))
    for panel in _panels(updated):
        if panel["id"] in positions:
            panel["grid"] = positions[panel["id"]]
    return updated


def positions(document: Mapping[str, Any]) -> dict[str, tuple[int, int, int, int]]:
    """Each panel's (x, y, w, h), to tell whether a grid layout event moved anything."""
    return {
        p["id"]: tuple(p.get("grid", {}).get(k, 0) for k in ("x", "y", "w", "h"))  # type: ignore[misc]
        for p in _panels(document)
    }


def set_settings(document: Mapping[str, Any], **settings: Any) -> Document:
    """Title, description, tags and default time/refresh, as typed (validated on save)."""
    updated = copy.deepcopy(dict(document))
    for key in ("title", "description"):
        if key in settings:
            updated[key] = settings[key] or ""
    if "tags" in settings:
        updated["tags"] = [t.strip() for t in (settings["tags"] or "").split(",") if t.strip()]
    time = dict(updated.get("time") or {})
    fields = (("time_from", "from"), ("time_to", "to"), ("refresh", "refresh"),
              ("timezone", "timezone"))  # fmt: skip
    for key, field in fields:
        if key in settings and settings[key] is not None:
            time[field] = settings[key]
    updated["time"] = time
    return updated


def set_variables(document: Mapping[str, Any], variables: Sequence[Mapping[str, Any]]) -> Document:
    """Replace the dashboard's variables."""
    updated = copy.deepcopy(dict(document))
    updated["variables"] = [dict(v) for v in variables]
    return updated
