"""Label sets as sorted tuples of (name, value) pairs, and Go-compatible number text.

A label with an empty value does not exist (Prometheus' rule), so helpers drop them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

import numpy as np

Labels = tuple[tuple[str, str], ...]
NAME = "__name__"
EMPTY: Labels = ()
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def make(pairs: Mapping[str, str] | Iterable[tuple[str, str]]) -> Labels:
    """A canonical label set: sorted by name, empty values dropped."""
    items = pairs.items() if isinstance(pairs, Mapping) else pairs
    return tuple(sorted((str(k), str(v)) for k, v in items if v != ""))


def get(labels: Labels, name: str) -> str:
    """The value of ``name`` ("" when absent)."""
    for key, value in labels:
        if key == name:
            return value
    return ""


def without(labels: Labels, names: Iterable[str]) -> Labels:
    """``labels`` less the given names."""
    drop = set(names)
    return tuple(pair for pair in labels if pair[0] not in drop)


def keep(labels: Labels, names: Iterable[str]) -> Labels:
    """Only the given names of ``labels``."""
    wanted = set(names)
    return tuple(pair for pair in labels if pair[0] in wanted)


def drop_name(labels: Labels) -> Labels:
    """``labels`` without ``__name__``."""
    return tuple(pair for pair in labels if pair[0] != NAME)


def with_label(labels: Labels, name: str, value: str) -> Labels:
    """``labels`` with ``name`` set to ``value`` (removed when ``value`` is empty)."""
    rest = [pair for pair in labels if pair[0] != name]
    if value != "":
        rest.append((name, value))
    return tuple(sorted(rest))


def valid_name(name: str) -> bool:
    """Whether ``name`` is a valid Prometheus label name."""
    return _LABEL_NAME.fullmatch(name) is not None


def text(labels: Labels) -> str:
    """Prometheus' ``Labels.String()``: ``{a="1", b="2"}``."""
    body = ", ".join(f"{name}={_go_quote(value)}" for name, value in labels)
    return "{" + body + "}"


def _go_quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def format_float(value: float) -> str:
    """Go's ``strconv.FormatFloat(v, 'f', -1, 64)``: shortest digits, never an exponent."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return np.format_float_positional(value, trim="-")


def parse_float(text_value: str) -> float:
    """Go's ``strconv.ParseFloat``: decimal, hex, Inf and NaN spellings; ValueError if not."""
    body = text_value.strip()
    if body != text_value or "_" in body or not body:
        raise ValueError(text_value)
    lowered = body.lstrip("+-").lower()
    if lowered in ("inf", "infinity", "nan"):
        return float(body)
    if lowered.startswith("0x"):
        return float.fromhex(body)
    if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?", body):
        raise ValueError(text_value)
    return float(body)
