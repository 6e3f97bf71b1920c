"""Cached reads for callbacks and routes: the one way panels and the API query metrics.

Keys hold the query, the bucket-aligned range, the width in points and the metric's
data generation. Aligning means "last 6h" viewed by a hundred people is one SQL query
per bucket; the generation, bumped by every ingest of that metric, means a cached
answer never hides points that arrived after it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from dashapp.core.results import Histogram
from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange, aligned_range
from db import metrics
from db.cache import cache
from db.engine import database
from db.histogram import histogram
from db.query import (
    QueryResult,
    SummaryResult,
    bucket_step,
    query,
    summarize,
    summary_unit,
)

log = logging.getLogger(__name__)
CATALOG = "*catalog*"  # the generation of the series catalog itself


def _generation_key(metric: str) -> str:
    return "gen:" + hashlib.sha1(metric.encode()).hexdigest()


def data_generation(metric: str) -> int:
    """A counter that changes whenever points of ``metric`` are written."""
    return int(cache.get(_generation_key(metric)) or 0)


def mark_written(metrics_written: Iterable[str], catalog_changed: bool = True) -> None:
    """Invalidate cached results for these metric names (called after writes commit), and
    the catalog's (picker choices, variable values) when series may have been added."""
    names = {*metrics_written, CATALOG} if catalog_changed else set(metrics_written)
    keys = [_generation_key(metric) for metric in names]
    backend = cache.cache
    if hasattr(backend, "inc_many"):  # Redis: one round trip
        backend.inc_many(keys)
    else:
        for key in keys:
            backend.inc(key)


def _through_cache(kind: str, metric: str | None, parts: tuple[Any, ...], compute: Any) -> Any:
    """Return the cached answer for ``parts`` (plus the metric's generation), or compute it.

    On a miss, ``compute(session)`` runs in a read transaction bounded by the statement
    timeout. Reads never write: hours whose rollups are not refreshed yet (the
    worker's job) are read from raw points.
    """
    generation = data_generation(metric or CATALOG)
    fingerprint = repr((kind, parts, generation))
    key = f"{kind}:" + hashlib.sha256(fingerprint.encode()).hexdigest()
    hit = cache.get(key)
    if hit is not None:
        return replace(hit, cached=True) if hasattr(hit, "cached") else hit
    with database.read_session() as session:
        result = compute(session)
    cache.set(key, result)
    return result


def panel_query(
    spec: Query,
    time_range: TimeRange,
    max_points: int,
    *,
    variables: Mapping[str, Sequence[str]] | None = None,
    series_limit: int = 20,
    prefer_m4: bool = False,
) -> QueryResult:
    """Run a panel query through the cache (see :func:`db.query.query`)."""
    step = bucket_step(spec, time_range.span, max_points)
    window = aligned_range(time_range, step)
    chosen = _variables(variables)
    return _through_cache(
        "q",
        spec.metric,
        (spec, window, max_points, chosen, series_limit, prefer_m4),
        lambda session: query(
            session,
            spec,
            window,
            max_points,
            variables=dict(chosen),
            series_limit=series_limit,
            prefer_m4=prefer_m4,
            step=step,
        ),
    )


def panel_summary(
    spec: Query,
    time_range: TimeRange,
    *,
    variables: Mapping[str, Sequence[str]] | None = None,
    series_limit: int = 20,
) -> SummaryResult:
    """Exact per-series statistics over a range through the cache (see
    :func:`db.query.summarize`)."""
    unit = summary_unit(time_range.span)
    window = aligned_range(time_range, unit) if unit else time_range
    chosen = _variables(variables)
    return _through_cache(
        "s",
        spec.metric,
        (spec, window, chosen, series_limit),
        lambda session: summarize(
            session, spec, window, variables=dict(chosen), series_limit=series_limit
        ),
    )


def panel_histogram(
    spec: Query,
    time_range: TimeRange,
    max_points: int,
    bins: int,
    *,
    variables: Mapping[str, Sequence[str]] | None = None,
) -> Histogram:
    """Value distribution over time through the cache (see :func:`db.histogram.histogram`)."""
    step = bucket_step(spec, time_range.span, max_points)
    window = aligned_range(time_range, step)
    chosen = _variables(variables)
    return _through_cache(
        "h",
        spec.metric,
        (spec, window, max_points, bins, chosen),
        lambda session: histogram(
            session, spec, window, max_points, bins, variables=dict(chosen), step=step
        ),
    )


def variable_values(key: str, metric: str | None) -> list[str]:
    """Distinct values of ``source`` or a label, for a dashboard variable's choices."""
    return _through_cache(
        "v",
        None,
        (key, metric),
        lambda session: metrics.label_values(session, key, metric),
    )


def catalog() -> dict[str, Any]:
    """The query pickers' choices (see :func:`db.metrics.catalog_summary`), as a dict."""
    summary = _through_cache("c", None, (), metrics.catalog_summary)
    return {"metrics": summary.metrics, "sources": summary.sources, "labels": summary.labels}


def _variables(variables: Mapping[str, Sequence[str]] | None) -> tuple[Any, ...]:
    return tuple(sorted((k, tuple(v)) for k, v in (variables or {}).items()))
