"""PromQL: a pure evaluator of Prometheus' query language over numpy arrays.

Semantics are Prometheus 2.42's for float samples (the Debian package the compliance
suite runs beside it); docs/promql.md lists what is supported and the deliberate gaps.

Public surface::

    evaluate_instant(expr, time, source, *, lookback=300, max_cost=None, timeout=None,
                     subquery_step=60) -> Scalar | String | Vector | Matrix
    evaluate_range(expr, start, end, step, source, *, lookback=300, max_cost=None,
                   timeout=None, subquery_step=60) -> Matrix
    parse(expr) -> node   (``.kind``: "scalar", "vector", "matrix" or "string")
    selector_matchers(selector) -> tuple[Matcher, ...]   (``match[]`` of the series APIs)

Times are epoch seconds (float) or aware datetimes; durations seconds or timedeltas.
``source`` is any :class:`SampleSource` (``select(matchers, start_ms, end_ms)`` returning
:class:`RawSeries`; see :mod:`dashapp.core.promql.source` for the exact contract and
:class:`MemorySource` for an implementation). The engine calls it once per distinct
selector, before evaluating, for the whole window that selector needs.

Results (:mod:`~dashapp.core.promql.results`) are frozen dataclasses with times in epoch
milliseconds; ``format_value``/``format_time`` give the Prometheus API's text for them.
Errors are :class:`PromQLError` subclasses whose ``error_type`` is the Prometheus API
``errorType``: :class:`BadData` (and :class:`Unsupported`) -> ``bad_data``,
:class:`ExecutionError` (and :class:`TooExpensive`, the ``max_cost`` cap) -> ``execution``,
:class:`QueryTimeout` -> ``timeout``.

Imports nothing of the project outside this package (an import-linter contract).
"""

from dashapp.core.promql.engine import evaluate_instant, evaluate_range
from dashapp.core.promql.errors import (
    BadData,
    ExecutionError,
    PromQLError,
    QueryTimeout,
    TooExpensive,
    Unsupported,
)
from dashapp.core.promql.results import (
    Matrix,
    Result,
    Sample,
    Scalar,
    Series,
    String,
    Vector,
    format_time,
    format_value,
)
from dashapp.core.promql.source import (
    STALE_NAN,
    Matcher,
    MatchOp,
    MemorySource,
    RawSeries,
    SampleSource,
    is_stale,
    matches_all,
)
from dashapp.core.promql.syntax import parse, selector_matchers

__all__ = [
    "STALE_NAN",
    "BadData",
    "ExecutionError",
    "MatchOp",
    "Matcher",
    "Matrix",
    "MemorySource",
    "PromQLError",
    "QueryTimeout",
    "RawSeries",
    "Result",
    "Sample",
    "SampleSource",
    "Scalar",
    "Series",
    "String",
    "TooExpensive",
    "Unsupported",
    "Vector",
    "evaluate_instant",
    "evaluate_range",
    "format_time",
    "format_value",
    "is_stale",
    "matches_all",
    "parse",
    "selector_matchers",
]
