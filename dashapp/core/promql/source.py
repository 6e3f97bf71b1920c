"""Where samples come from: the small protocol the engine reads through.

The engine asks its :class:`SampleSource` once per distinct selector for the whole time
window that selector needs (lookback, ranges, offsets, ``@`` and subqueries included),
with the selector's label matchers. The source answers every series whose full label set
(``__name__`` included) satisfies all matchers, each with its samples in that window:

- matching: a label that is absent has the value ``""`` (so ``{a=""}`` matches series
  without ``a``); regular expressions are RE2, anchored at both ends
  (:meth:`Matcher.matches` implements the rule; :func:`matches_all` for a whole set);
- timestamps: float64 epoch milliseconds, ascending, no duplicates; every sample with
  ``start <= t <= end`` must be there (more is harmless: the engine slices);
- values: float64; a Prometheus staleness marker is the NaN with bits
  ``0x7ff0000000000002`` (:data:`STALE_NAN`) and ends the series until its next sample.

:class:`MemorySource` is the reference implementation over series held in memory.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Protocol

import numpy as np
import re2

from dashapp.core.promql.errors import BadData

STALE_NAN_BITS = 0x7FF0000000000002
STALE_NAN: float = struct.unpack("<d", struct.pack("<Q", STALE_NAN_BITS))[0]
"""Prometheus' staleness marker (compare bits with :func:`is_stale`, never with ``==``)."""


class MatchOp(StrEnum):
    """A label matcher's operator."""

    EQUAL = "="
    NOT_EQUAL = "!="
    RE = "=~"
    NOT_RE = "!~"


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re2._Regexp:
    options = re2.Options()
    options.log_errors = False
    try:
        return re2.compile(pattern, options)
    except re2.error as error:
        reason = error.args[0] if error.args else error
        if isinstance(reason, bytes):
            reason = reason.decode(errors="replace")
        raise BadData(f"invalid regular expression {pattern!r}: {reason}") from None


@dataclass(frozen=True)
class Matcher:
    """``name op "value"``, e.g. ``job=~"api|web"``."""

    name: str
    op: MatchOp
    value: str

    def __post_init__(self) -> None:
        if self.op in (MatchOp.RE, MatchOp.NOT_RE):
            _compiled(self.value)

    def matches(self, value: str) -> bool:
        """Whether a label value (``""`` when the label is absent) satisfies this matcher."""
        if self.op is MatchOp.EQUAL:
            return value == self.value
        if self.op is MatchOp.NOT_EQUAL:
            return value != self.value
        found = _compiled(self.value).fullmatch(value) is not None
        return found if self.op is MatchOp.RE else not found

    def __str__(self) -> str:
        return f"{self.name}{self.op.value}{self.value!r}"


def matches_all(matchers: Sequence[Matcher], labels: Mapping[str, str]) -> bool:
    """Whether a series' labels satisfy every matcher."""
    return all(m.matches(labels.get(m.name, "")) for m in matchers)


@dataclass(frozen=True, eq=False)
class RawSeries:
    """A stored series: its full label set and its samples (ms timestamps, values)."""

    labels: Mapping[str, str]
    timestamps: np.ndarray
    values: np.ndarray


class SampleSource(Protocol):
    """Anything that answers label matchers and a time window with raw series."""

    def select(self, matchers: Sequence[Matcher], start: float, end: float) -> Iterable[RawSeries]:
        """Series matching all ``matchers``, with their samples in ``[start, end]`` (ms)."""
        ...


def is_stale(values: np.ndarray) -> np.ndarray:
    """Which values are staleness markers."""
    return np.asarray(values, dtype=np.float64).view(np.uint64) == STALE_NAN_BITS


@dataclass
class MemorySource:
    """A :class:`SampleSource` over series held in memory (tests, small data)."""

    series: list[RawSeries] = field(default_factory=list)
    calls: list[tuple[tuple[Matcher, ...], float, float]] = field(default_factory=list)

    def add(self, labels: Mapping[str, str], timestamps: Sequence[float], values: Sequence[float]):
        """Add one series (timestamps in ms, ascending)."""
        self.series.append(
            RawSeries(
                dict(labels),
                np.asarray(timestamps, dtype=np.float64),
                np.asarray(values, dtype=np.float64),
            )
        )

    def select(self, matchers: Sequence[Matcher], start: float, end: float) -> Iterable[RawSeries]:
        """Series matching all ``matchers``, sliced to ``[start, end]``."""
        self.calls.append((tuple(matchers), start, end))
        for series in self.series:
            if not matches_all(matchers, series.labels):
                continue
            lo = np.searchsorted(series.timestamps, start, side="left")
            hi = np.searchsorted(series.timestamps, end, side="right")
            if hi > lo:
                yield RawSeries(series.labels, series.timestamps[lo:hi], series.values[lo:hi])
