"""The identity of a series, and the canonical JSON that makes equal labels equal strings."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

SeriesKey = tuple[str, str, str]
"""(name, source, canonical labels JSON): what identifies a series."""


def canonical_json(value: Any) -> str:
    """Serialise JSON with sorted keys, so equal documents are equal strings (SQLite uniques)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def series_key(name: str, source: str, labels: Mapping[str, str]) -> SeriesKey:
    """The identity of a series, with labels in canonical (sorted) form."""
    return (name, source, canonical_json(dict(labels)))
