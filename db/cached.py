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

from dashapp.extensions import cache, database
from dashapp.spec import Query
from dashapp.timerange import TimeRange, aligned_range
from db import rollups
from db.query import QueryResult, bucket_step, query

log = logging.getLogger(__name__)
REFRESH_LIMIT = 2000
"""Series-hours a query refreshes before reading; any left over are read from raw points."""


def _generation_key(metric: str) -> str:
    return "gen:" + hashlib.sha1(metric.encode()).hexdigest()


def data_generation(metric: str) -> int:
    """A counter that changes whenever points of ``metric`` are written."""
    return int(cache.get(_generation_key(metric)) or 0)


def mark_written(metrics_written: Iterable[str]) -> None:
    """Invalidate cached query results for these metric names (called after ingest commits)."""
    for metric in set(metrics_written):
        cache.cache.inc(_generation_key(metric))


def panel_query(
    spec: Query,
    time_range: TimeRange,
    max_points: int,
    *,
    variables: Mapping[str, Sequence[str]] | None = None,
    series_limit: int = 20,
    prefer_m4: bool = False,
    timeout_ms: int | None = None,
) -> QueryResult:
    """Run ``spec`` through the cache; on a miss, refresh its rollups, then query in time."""
    window = aligned_range(time_range, bucket_step(spec, time_range.span, max_points))
    chosen = tuple(sorted((k, tuple(v)) for k, v in (variables or {}).items()))
    fingerprint = repr(
        (spec, window, max_points, chosen, series_limit, prefer_m4, data_generation(spec.metric))
    )
    key = "q:" + hashlib.sha256(fingerprint.encode()).hexdigest()
    hit = cache.get(key)
    if hit is not None:
        return replace(hit, cached=True)
    with database.transaction(timeout_ms or database.statement_timeout_ms) as session:
        rollups.refresh(session, spec.metric, limit=REFRESH_LIMIT)
    with database.read_session(timeout_ms) as session:
        result = query(
            session,
            spec,
            window,
            max_points,
            variables=dict(chosen),
            series_limit=series_limit,
            prefer_m4=prefer_m4,
        )
    cache.set(key, result)
    return result
