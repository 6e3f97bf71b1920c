"""Value distributions over time, for heatmap panels."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dashapp.core.results import Histogram
from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange, aligned_range
from db.sqlfunctions import floor_int, time_bucket
from db.tsdb import rollups
from db.tsdb.query import bucket_step, matching_groups

Counted = list[tuple[datetime, int, int]]
"""(time bucket, bin index, samples) rows of a histogram, by time."""


def histogram(
    session: Session,
    spec: Query,
    time_range: TimeRange,
    max_points: int,
    bins: int,
    *,
    variables: Mapping[str, Sequence[str]] | None = None,
    step: timedelta | None = None,
) -> Histogram:
    """Bin every matching series' samples by value, per time bucket, between the lowest
    and highest value in the range (see :func:`bin_counts` for what a sample is)."""
    started = time.perf_counter()
    groups, _ = matching_groups(
        session, spec.model_copy(update={"group_by": []}), variables or {}, 1
    )
    ids = [info.id for _, members in groups for info in members]
    step = step or bucket_step(spec, time_range.span, max_points)
    window = aligned_range(time_range, step)
    if not ids:
        return empty(window, step, 0)
    level = rollups.usable_level(session, step, "avg", ids, window)
    rows = rollups.shaped_rows(level, step, rollups.covering(session, level, ids, window)).c
    low, high = session.execute(select(func.min(rows.min), func.max(rows.max))).one()
    if low is None:
        return empty(window, step, len(ids))
    counted, source = bin_counts(session, ids, window, step, (low, high, bins))
    elapsed = (time.perf_counter() - started) * 1000
    return assemble(counted, (low, high, bins), window, step, len(ids), elapsed, source)


def empty(window: TimeRange, step: timedelta, series: int) -> Histogram:
    """A histogram with no samples."""
    return Histogram([], [], [], window.start, window.end, step, series, 0.0)


def bin_counts(
    session: Session,
    ids: Sequence[int],
    window: TimeRange,
    step: timedelta,
    scale: tuple[float, float, int],
    *,
    raw: bool = False,
) -> tuple[Counted, str]:
    """Samples per (time bucket, value bin) over ``window``, bins spanning ``scale`` (low,
    high, bins); and where they were read from.

    Short ranges bin raw points. Where buckets are rollup-sized, a sample is the average
    of a rollup row (counted ``count`` times): cheap at the price of smoothing within a
    minute or an hour. Hours not rolled up yet (or ``raw``) average their points per
    rollup bucket in the query, so the answer does not depend on the worker's progress.
    """
    low, high, bins = scale
    width = (high - low) / bins or 1.0
    want = rollups.level_for(step, "avg")
    level = None if raw else rollups.usable_level(session, step, "avg", ids, window)
    rows = rollups.shaped_rows(level, step, rollups.covering(session, level, ids, window)).c
    value, weight, t = rows.sum / rows.count, rows.count, rows.t
    if level is None and want is not None:
        averaged = (
            select(rows.t, (func.sum(rows.sum) / func.count()).label("v"),
                   func.count().label("n"))
            .group_by(rows.sid, rows.t, time_bucket(want, rows.ts))
            .subquery()
        )  # fmt: skip
        value, weight, t = averaged.c.v, averaged.c.n, averaged.c.t
    index = floor_int((value - low) / width)
    index = case((index >= bins, bins - 1), else_=index)
    counted = session.execute(
        select(t, index, func.sum(weight)).group_by(t, index).order_by(t)
    ).all()
    return [(at, int(b), int(n)) for at, b, n in counted], rollups.describe(level)


def assemble(
    counted: Counted,
    scale: tuple[float, float, int],
    window: TimeRange,
    step: timedelta,
    series: int,
    elapsed_ms: float,
    source: str,
) -> Histogram:
    """The heatmap's matrix (bins x time buckets that hold samples) from counted rows."""
    low, high, bins = scale
    width = (high - low) / bins or 1.0
    times = sorted({t for t, _, _ in counted})
    column = {t: i for i, t in enumerate(times)}
    counts = [[0] * len(times) for _ in range(bins)]
    for t, bin_index, count in counted:
        counts[bin_index][column[t]] += count
    edges = [low + width * i for i in range(bins + 1)]
    return Histogram(
        times, edges, counts, window.start, window.end, step, series, elapsed_ms, source
    )
