"""The evaluator: one expression node at a time, every step at once.

Each node is evaluated once for the whole array of evaluation times (an instant
query has one, a range query one per step, a subquery its own aligned grid), which is
Prometheus' own evaluation model (``rangeEval``) done column-wise with numpy.
"""

from __future__ import annotations

import time as clock

import numpy as np

from dashapp.core.promql import aggregations, binops, functions, histograms, rangefuncs
from dashapp.core.promql import labels as lb
from dashapp.core.promql.errors import QueryTimeout
from dashapp.core.promql.selectors import Plan, Stored, instant, ranges, subquery_grid
from dashapp.core.promql.source import Matcher, MatchOp
from dashapp.core.promql.syntax import (
    RANGE_FUNCTIONS,
    Aggregate,
    Binary,
    Call,
    Negation,
    Node,
    NumberLiteral,
    RangeSelector,
    Selector,
    StringLiteral,
    Subquery,
)
from dashapp.core.promql.values import (
    Ranges,
    RangeSeries,
    Scalars,
    Value,
    Vectors,
    merge,
    require_distinct,
)


class Evaluator:
    """Evaluates nodes over arrays of times, reading series fetched beforehand."""

    def __init__(self, plan: Plan, data: dict[tuple[Matcher, ...], list[Stored]],
                 deadline: float | None) -> None:  # fmt: skip
        self.plan = plan
        self.data = data
        self.deadline = deadline

    def tick(self) -> None:
        """Stop with a timeout error once the deadline has passed."""
        if self.deadline is not None and clock.monotonic() > self.deadline:
            raise QueryTimeout("query timed out in expression evaluation")

    def run(self, node: Node, times: np.ndarray) -> Value:
        """The value of ``node`` at each of ``times`` (ms)."""
        self.tick()
        if isinstance(node, NumberLiteral):
            return Scalars(np.full(len(times), node.value))
        if isinstance(node, StringLiteral):
            return node.value
        if isinstance(node, Selector):
            return self.select(node, times)[0]
        if isinstance(node, RangeSelector):
            return self.range_select(node, times)
        if isinstance(node, Subquery):
            return self.subquery(node, times)
        if isinstance(node, Negation):
            return self.negate(self.run(node.expr, times))
        if isinstance(node, Binary):
            return self.binary(node, times)
        if isinstance(node, Aggregate):
            param = None if node.param is None else self.run(node.param, times)
            vec = self.run(node.expr, times)
            return aggregations.aggregate(node.op, vec, node.grouping, node.without, param)
        return self.call(node, times)

    def _refs(self, at, offset: float, times: np.ndarray) -> np.ndarray:
        pinned = self.plan.at(at)
        base = times if pinned is None else np.full(len(times), pinned)
        return base - offset

    def select(self, node: Selector, times: np.ndarray) -> tuple[Vectors, np.ndarray]:
        """An instant vector selector, and the times of the samples it picked."""
        refs = self._refs(node.at, node.offset, times)
        return instant(self.data[node.matchers], refs, self.plan.lookback)

    def range_select(self, node: RangeSelector, times: np.ndarray) -> Ranges:
        """A range vector selector: windows ``[ref - range, ref]`` per step."""
        selector = node.selector
        ends = self._refs(selector.at, selector.offset, times)
        return ranges(self.data[selector.matchers], ends, node.range)

    def subquery(self, node: Subquery, times: np.ndarray) -> Ranges:
        """A subquery: the inner expression on its aligned grid, cut into windows."""
        ends = self._refs(node.at, node.offset, times)
        step = self.plan.subquery_step_of(node)
        grid = subquery_grid(float(ends.min()), float(ends.max()), node.range, step)
        inner = self.run(node.expr, grid) if len(grid) else Vectors.empty(0)
        series = [
            RangeSeries(labels, grid[row], inner.values[i][row])
            for i, (labels, row) in enumerate(zip(inner.labels, inner.present, strict=True))
            if row.any()
        ]
        return Ranges(series, ends, node.range)

    def negate(self, value: Value) -> Value:
        """Unary minus: drops ``__name__``; equal label sets are an error."""
        if isinstance(value, Scalars):
            return Scalars(-value.values)
        negated = Vectors([lb.drop_name(x) for x in value.labels], -value.values, value.present)
        return require_distinct(negated)

    def binary(self, node: Binary, times: np.ndarray) -> Value:
        """Any binary operator, dispatched on the operand types."""
        left, right = self.run(node.lhs, times), self.run(node.rhs, times)
        if isinstance(left, Scalars) and isinstance(right, Scalars):
            return binops.scalar_scalar(node, left, right)
        if isinstance(right, Scalars):
            return binops.vector_scalar(node, left, right, swapped=False)
        if isinstance(left, Scalars):
            return binops.vector_scalar(node, right, left, swapped=True)
        if node.card == "many-to-many":
            return binops.set_operation(node, left, right)
        return binops.vector_vector(node, left, right)

    def call(self, node: Call, times: np.ndarray) -> Value:
        """A function call."""
        if node.name in RANGE_FUNCTIONS:
            return self.range_call(node, times)
        if node.name == "timestamp":
            return self.timestamp(node.args[0], times)
        args = [self.run(arg, times) for arg in node.args]
        if node.name == "absent":
            return absent(args[0].present.any(axis=0), absent_labels(node.args[0]))
        if node.name == "histogram_quantile":
            return histograms.histogram_quantile(args, times)
        return functions.FUNCTIONS[node.name](args, times)

    def timestamp(self, arg: Node, times: np.ndarray) -> Vectors:
        """``timestamp()``: a selector's own sample times, else the evaluation times."""
        if isinstance(arg, Selector):
            vec, sample_times = self.select(arg, times)
        else:
            vec = self.run(arg, times)
            sample_times = np.broadcast_to(times, vec.values.shape)
        return merge([lb.drop_name(x) for x in vec.labels], sample_times / 1000, vec.present)

    def range_call(self, node: Call, times: np.ndarray) -> Vectors:
        """A function of a range vector, over every (series, step) window at once."""
        position = next(
            i for i, a in enumerate(node.args) if isinstance(a, RangeSelector | Subquery)
        )
        scalars = [self.run(a, times).values for i, a in enumerate(node.args) if i != position]
        ranges = self.run(node.args[position], times)
        steps = len(times)
        lo, hi = self._windows(ranges)
        if node.name == "absent_over_time":
            seen = (hi > lo).any(axis=0) if len(lo) else np.zeros(steps, dtype=bool)
            return absent(seen, absent_labels(node.args[position]))
        used = np.nonzero((hi > lo).any(axis=1))[0]
        if len(used) == 0:
            return Vectors.empty(steps)
        series = [ranges.series[i] for i in used]
        starts = np.concatenate(([0], np.cumsum([len(s.times) for s in series])))
        lo, hi = lo[used] + starts[:-1, None], hi[used] + starts[:-1, None]
        count = len(series)
        window = rangefuncs.Window(
            np.tile(times, count), np.tile(ranges.ends, count), ranges.range,
            [np.tile(a, count) for a in scalars], starts, np.repeat(np.arange(count), steps),
        )  # fmt: skip
        self.tick()
        out, ok = rangefuncs.FUNCTIONS[node.name](
            np.concatenate([s.times for s in series]), np.concatenate([s.values for s in series]),
            lo.ravel(), hi.ravel(), window,
        )  # fmt: skip
        keep_name = node.name == "last_over_time"
        labels = [s.labels if keep_name else lb.drop_name(s.labels) for s in series]
        vec = Vectors(labels, out.reshape(count, steps), ok.reshape(count, steps))
        return require_distinct(vec)

    def _windows(self, ranges: Ranges) -> tuple[np.ndarray, np.ndarray]:
        """Each series' window slices ``[lo, hi)`` of its own samples, per step."""
        steps = len(ranges.ends)
        lo = np.zeros((len(ranges.series), steps), dtype=np.intp)
        hi = np.zeros_like(lo)
        for row, series in enumerate(ranges.series):
            if row % 256 == 255:
                self.tick()
            lo[row], hi[row] = ranges.bounds(series)
        return lo, hi


def absent_labels(node: Node) -> lb.Labels:
    """Labels of ``absent()``'s answer: the selector's equality matchers, each name once."""
    if isinstance(node, RangeSelector):
        node = node.selector
    if not isinstance(node, Selector):
        return lb.EMPTY
    out: dict[str, str] = {}
    seen: set[str] = set()
    for matcher in node.matchers:
        if matcher.name == lb.NAME:
            continue
        if matcher.op is MatchOp.EQUAL and matcher.name not in seen:
            out[matcher.name] = matcher.value
            seen.add(matcher.name)
        else:
            out.pop(matcher.name, None)
    return lb.make(out)


def absent(seen: np.ndarray, labels: lb.Labels) -> Vectors:
    """1 (with ``labels``) at each step where nothing was ``seen``."""
    missing = ~seen
    return Vectors([labels], np.ones((1, len(seen))), missing[None, :].copy())
