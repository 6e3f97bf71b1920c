"""Selecting samples: which windows a query reads, and instant and range selection.

:func:`plan` walks the expression once, before evaluation, to find the time window
every distinct selector needs over all steps (lookback or range, offset, ``@`` and
subquery ranges), so the source is asked once per selector. :func:`instant` applies the
lookback delta and staleness markers; :func:`ranges` cuts range-vector windows, which
are closed at both ends as in Prometheus 2.42.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from dashapp.core.promql import labels as lb
from dashapp.core.promql.source import Matcher, is_stale
from dashapp.core.promql.syntax import (
    Aggregate,
    At,
    Binary,
    Call,
    Negation,
    Node,
    RangeSelector,
    Selector,
    Subquery,
)
from dashapp.core.promql.values import Ranges, RangeSeries, Vectors


@dataclass
class Need:
    """What one distinct selector needs: the union of its windows and its step count."""

    start: float = math.inf
    end: float = -math.inf
    steps: int = 0

    def add(self, start: float, end: float, steps: int) -> None:
        """Widen the window and count the steps of one more use."""
        self.start, self.end = min(self.start, start), max(self.end, end)
        self.steps += steps


@dataclass
class Stored:
    """A series as fetched: canonical labels, sample times (ms) and values."""

    labels: lb.Labels
    times: np.ndarray
    values: np.ndarray


@dataclass
class Plan:
    """The windows to fetch, keyed by matchers, and the query's ``start()``/``end()``."""

    start: float
    end: float
    lookback: float
    subquery_step: float
    needs: dict[tuple[Matcher, ...], Need] = field(default_factory=dict)

    def at(self, modifier: At | None) -> float | None:
        """The time an ``@`` modifier pins evaluation to (None: no modifier)."""
        if modifier is None:
            return None
        if modifier.kind == "start":
            return self.start
        if modifier.kind == "end":
            return self.end
        return modifier.time

    def subquery_step_of(self, node: Subquery) -> float:
        """The subquery's resolution: its own, or the default."""
        return node.step or self.subquery_step


def subquery_grid(first: float, last: float, range_: float, step: float) -> np.ndarray:
    """Inner evaluation times: multiples of ``step`` from ``first - range`` to ``last``."""
    begin = math.ceil((first - range_) / step) * step
    if begin > last:
        return np.zeros(0)
    return begin + step * np.arange(int((last - begin) // step) + 1, dtype=np.float64)


def plan(node: Node, low: float, high: float, steps: int, into: Plan) -> None:
    """Record the windows ``node`` reads when evaluated at times in ``[low, high]``."""
    if isinstance(node, Selector | RangeSelector):
        selector = node if isinstance(node, Selector) else node.selector
        pinned = into.at(selector.at)
        first, last = (pinned, pinned) if pinned is not None else (low, high)
        back = into.lookback if isinstance(node, Selector) else node.range
        need = into.needs.setdefault(selector.matchers, Need())
        need.add(first - selector.offset - back, last - selector.offset, steps)
    elif isinstance(node, Subquery):
        pinned = into.at(node.at)
        first, last = (pinned, pinned) if pinned is not None else (low, high)
        grid = subquery_grid(
            first - node.offset, last - node.offset, node.range, into.subquery_step_of(node)
        )
        if len(grid):
            plan(node.expr, grid[0], grid[-1], len(grid), into)
    elif isinstance(node, Aggregate):
        if node.param is not None:
            plan(node.param, low, high, steps, into)
        plan(node.expr, low, high, steps, into)
    elif isinstance(node, Binary):
        plan(node.lhs, low, high, steps, into)
        plan(node.rhs, low, high, steps, into)
    elif isinstance(node, Negation):
        plan(node.expr, low, high, steps, into)
    elif isinstance(node, Call):
        for arg in node.args:
            plan(arg, low, high, steps, into)


def instant(stored: list[Stored], refs: np.ndarray, lookback: float) -> tuple[Vectors, np.ndarray]:
    """Each series' latest sample at or before each reference time, within the lookback.

    A staleness marker as that latest sample means no value. Also returns the chosen
    samples' own times (for ``timestamp()``).
    """
    steps = len(refs)
    values = np.zeros((len(stored), steps))
    present = np.zeros((len(stored), steps), dtype=bool)
    times = np.zeros((len(stored), steps))
    for row, series in enumerate(stored):
        if len(series.times) == 0:
            continue
        index = np.searchsorted(series.times, refs, side="right") - 1
        safe = np.maximum(index, 0)
        chosen = series.values[safe]
        ok = (index >= 0) & (series.times[safe] >= refs - lookback) & ~is_stale(chosen)
        values[row], present[row], times[row] = chosen, ok, series.times[safe]
    return Vectors([s.labels for s in stored], values, present), times


def ranges(stored: list[Stored], ends: np.ndarray, range_: float) -> Ranges:
    """The range vector over windows ``[end - range, end]``, staleness markers removed."""
    series = []
    for item in stored:
        fresh = ~is_stale(item.values)
        series.append(RangeSeries(item.labels, item.times[fresh], item.values[fresh]))
    return Ranges(series, ends, range_)
