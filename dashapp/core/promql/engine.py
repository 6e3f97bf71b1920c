"""Entry points: instant and range queries, from the query text to a result."""

from __future__ import annotations

import math
import time as clock
from datetime import datetime, timedelta

import numpy as np

from dashapp.core.promql import labels as lb
from dashapp.core.promql.errors import BadData, TooExpensive
from dashapp.core.promql.evaluator import Evaluator
from dashapp.core.promql.results import Matrix, Result, Sample, Scalar, Series, String, Vector
from dashapp.core.promql.selectors import Plan, Stored, plan
from dashapp.core.promql.source import SampleSource
from dashapp.core.promql.syntax import Aggregate, Call, Node, parse
from dashapp.core.promql.values import Ranges, Scalars, Value

LOOKBACK_SECONDS = 300.0
SUBQUERY_STEP_SECONDS = 60.0
MAX_POINTS = 11_000
DOCUMENTED = {"matrix": "range vector", "vector": "instant vector"}
Moment = float | datetime
Span = float | timedelta


def _ms(moment: Moment) -> float:
    """Epoch milliseconds of a time given as seconds or an aware datetime."""
    seconds = moment.timestamp() if isinstance(moment, datetime) else float(moment)
    if not math.isfinite(seconds):
        raise BadData(f"cannot parse {moment!r} to a valid timestamp")
    return float(round(seconds * 1000))


def _span_ms(span: Span) -> float:
    seconds = span.total_seconds() if isinstance(span, timedelta) else float(span)
    return float(math.floor(seconds * 1000))


def evaluate_instant(
    expr: str, time: Moment, source: SampleSource, *, lookback: Span = LOOKBACK_SECONDS,
    max_cost: int | None = None, timeout: float | None = None,
    subquery_step: Span = SUBQUERY_STEP_SECONDS,
) -> Result:  # fmt: skip
    """Evaluate ``expr`` at ``time`` (epoch seconds or datetime), as ``/api/v1/query`` does.

    Returns a :class:`Scalar`, :class:`String`, :class:`Vector` or (for a range vector
    expression) :class:`Matrix`. ``lookback`` is the lookback delta, ``max_cost`` the
    cap on series x steps plus samples read, ``timeout`` seconds of evaluation,
    ``subquery_step`` the resolution of subqueries that give none.
    """
    at = _ms(time)
    node = parse(expr)
    value = _evaluate(node, np.array([at]), at, at, source, lookback, max_cost, timeout,
                      subquery_step)  # fmt: skip
    if isinstance(value, str):
        return String(at, value)
    if isinstance(value, Scalars):
        return Scalar(at, float(value.values[0]))
    if isinstance(value, Ranges):
        return Matrix(tuple(_window_series(value)))
    rows = np.nonzero(value.present[:, 0])[0].tolist()
    if not _keeps_order(node):
        rows.sort(key=lambda r: value.labels[r])
    samples = (Sample(dict(value.labels[r]), at, float(value.values[r, 0])) for r in rows)
    return Vector(tuple(samples))


def evaluate_range(
    expr: str, start: Moment, end: Moment, step: Span, source: SampleSource, *,
    lookback: Span = LOOKBACK_SECONDS, max_cost: int | None = None,
    timeout: float | None = None, subquery_step: Span = SUBQUERY_STEP_SECONDS,
) -> Matrix:  # fmt: skip
    """Evaluate ``expr`` from ``start`` to ``end`` every ``step``, as ``/api/v1/query_range``.

    Refuses (:class:`BadData`) a step that is not positive, an end before the start,
    more than 11,000 points per series and expressions that are not a scalar or an
    instant vector, with Prometheus' wording.
    """
    first, last, every = _ms(start), _ms(end), _span_ms(step)
    if last < first:
        raise BadData("end timestamp must not be before start time")
    if every <= 0:
        raise BadData(
            "zero or negative query resolution step widths are not accepted. Try a positive integer"
        )
    if (last - first) // every > MAX_POINTS:
        raise BadData(
            "exceeded maximum resolution of 11,000 points per timeseries. "
            "Try decreasing the query resolution (?step=XX)"
        )
    node = parse(expr)
    if node.kind not in ("scalar", "vector"):
        kind = DOCUMENTED.get(node.kind, node.kind)
        raise BadData(
            f'invalid expression type "{kind}" for range query, must be Scalar or instant Vector'
        )
    times = first + every * np.arange(int((last - first) // every) + 1, dtype=np.float64)
    value = _evaluate(node, times, first, last, source, lookback, max_cost, timeout,
                      subquery_step)  # fmt: skip
    if isinstance(value, Scalars):
        return Matrix((_series(lb.EMPTY, times, value.values),))
    order = sorted(range(len(value.labels)), key=lambda r: value.labels[r])
    out = [
        _series(value.labels[r], times[value.present[r]], value.values[r, value.present[r]])
        for r in order
        if value.present[r].any()
    ]
    return Matrix(tuple(out))


def _evaluate(node: Node, times: np.ndarray, start: float, end: float, source: SampleSource,
              lookback: Span, max_cost: int | None, timeout: float | None,
              subquery_step: Span) -> Value:  # fmt: skip
    began = clock.monotonic()
    deadline = None if timeout is None else began + timeout
    query = Plan(start, end, _span_ms(lookback), _span_ms(subquery_step))
    plan(node, float(times[0]), float(times[-1]), len(times), query)
    data = _fetch(query, source, max_cost)
    with np.errstate(all="ignore"):
        return Evaluator(query, data, deadline).run(node, times)


def _fetch(query: Plan, source: SampleSource, max_cost: int | None):
    data: dict = {}
    cost = 0
    for matchers, need in query.needs.items():
        found = []
        for raw in source.select(matchers, need.start, need.end):
            times = np.asarray(raw.timestamps, dtype=np.float64)
            values = np.asarray(raw.values, dtype=np.float64)
            found.append(Stored(lb.make(raw.labels), times, values))
            cost += len(times) + need.steps
            if max_cost is not None and cost > max_cost:
                raise TooExpensive(
                    f"query cost exceeds the limit of {max_cost} (series x steps plus samples read)"
                )
        found.sort(key=lambda s: s.labels)
        data[matchers] = found
    return data


def _keeps_order(node: Node) -> bool:
    """Whether Prometheus defines the order of this instant vector (sorting, top-k)."""
    if isinstance(node, Call):
        return node.name in ("sort", "sort_desc")
    return isinstance(node, Aggregate) and node.op in ("topk", "bottomk")


def _series(labels: lb.Labels, times: np.ndarray, values: np.ndarray) -> Series:
    times, values = np.array(times, dtype=np.float64), np.array(values, dtype=np.float64)
    times.flags.writeable = values.flags.writeable = False
    return Series(dict(labels), times, values)


def _window_series(value: Ranges):
    end, begin = float(value.ends[0]), float(value.ends[0]) - value.range
    for item in sorted(value.series, key=lambda s: s.labels):
        inside = (item.times >= begin) & (item.times <= end)
        if inside.any():
            yield _series(item.labels, item.times[inside], item.values[inside])
