"""Plain points, per-item rejections, timestamps and the one name-normalisation rule.

Normalisation (the same input always gives the same output, so a series keeps its
identity across requests and agents; nothing is refused for its name):

* metric name: every character outside ``A-Z a-z 0-9 _ . : - /`` becomes ``_``; cut to
  200 characters; an empty name becomes ``_``.
* source: NUL becomes ``_``; cut to 200 characters; empty becomes ``default``.
* label name: NUL becomes ``_``; cut to 100 characters; empty becomes ``_``.
* label value: NUL becomes ``_``; cut to 200 characters.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

MAX_NAME = 200
MAX_SOURCE = 200
MAX_LABEL_NAME = 100
MAX_LABEL_VALUE = 200
MAX_MAGNITUDE = 1e300
"""Largest absolute value stored (sums of a few larger ones would overflow a double)."""
DEFAULT_SOURCE = "default"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
_LATEST_NS = int((LATEST - EPOCH).total_seconds()) * 1_000_000_000
_NAME_OK = re.compile(r"[A-Za-z0-9_.:\-/]{1,200}")
_NAME_BAD_CHAR = re.compile(r"[^A-Za-z0-9_.:\-/]")


class Point(NamedTuple):
    """One value of one series; ``timestamp`` None means "now, as the server sees it"."""

    name: str
    source: str
    labels: dict[str, str]
    timestamp: datetime | None
    value: float


class Rejected(NamedTuple):
    """An item a decoder could not turn into points, and why."""

    message: str
    index: int | None = None
    line: int | None = None


class Decoded(NamedTuple):
    """What a body held: its points, the items refused, and how many were skipped on purpose.

    Skipped items (Prometheus staleness markers, string fields, empty histograms) are
    not errors: they carry nothing a numeric series can store.
    """

    points: list[Point]
    rejected: list[Rejected]
    skipped: int = 0


class BodyError(ValueError):
    """The body as a whole cannot be read (bad compression, truncated protobuf, bad JSON)."""


class BodyTooLarge(BodyError):
    """The body decompresses to more than the server accepts."""


@lru_cache(maxsize=65_536)
def normalise_name(name: str) -> str:
    """A metric name the server can store (module docstring has the rule)."""
    if _NAME_OK.fullmatch(name):
        return name
    return _NAME_BAD_CHAR.sub("_", name)[:MAX_NAME] or "_"


@lru_cache(maxsize=65_536)
def normalise_source(source: str) -> str:
    """A source the server can store (module docstring has the rule)."""
    return source.replace("\x00", "_")[:MAX_SOURCE] or DEFAULT_SOURCE


def normalise_label_name(name: str) -> str:
    """A label name the server can store (module docstring has the rule)."""
    if 0 < len(name) <= MAX_LABEL_NAME and "\x00" not in name:
        return name
    return name.replace("\x00", "_")[:MAX_LABEL_NAME] or "_"


def normalise_label_value(value: str) -> str:
    """A label value the server can store (module docstring has the rule)."""
    if len(value) <= MAX_LABEL_VALUE and "\x00" not in value:
        return value
    return value.replace("\x00", "_")[:MAX_LABEL_VALUE]


def normalise_labels(pairs: dict[str, str]) -> dict[str, str]:
    """Labels with every name and value normalised (the same dict when nothing changes)."""
    for key, value in pairs.items():
        if not 0 < len(key) <= MAX_LABEL_NAME or len(value) > MAX_LABEL_VALUE:
            break
        if "\x00" in key or "\x00" in value:
            break
    else:
        return pairs
    return {normalise_label_name(k): normalise_label_value(v) for k, v in pairs.items()}


def storable(value: float) -> bool:
    """Whether a value can be stored: finite and within ±1e300."""
    return -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE


def value_problem(value: float) -> str:
    """Why a value that is not :func:`storable` is refused."""
    return "NaN" if math.isnan(value) else f"{value!r} is not within ±1e300"


def from_epoch_ns(nanoseconds: int) -> datetime:
    """A UTC datetime from integer epoch nanoseconds (microsecond precision kept).

    ValueError outside 1970..2200, the range the server stores.
    """
    if not 0 <= nanoseconds < _LATEST_NS:
        raise ValueError("timestamp must be between 1970 and 2200")
    return EPOCH + timedelta(microseconds=nanoseconds // 1000)


def from_epoch_seconds(seconds: float) -> datetime:
    """A UTC datetime from epoch seconds (int or float); ValueError outside 1970..2200."""
    if not math.isfinite(seconds):
        raise ValueError("timestamp must be finite")
    return from_epoch_ns(round(seconds * 1_000_000) * 1000)
