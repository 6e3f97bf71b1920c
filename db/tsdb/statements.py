"""The engine's statements: each aggregates rollup-shaped rows (db/tsdb/rollups.py) into
buckets, M4 points or rates, whichever source the rows come from."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.sql import Subquery

from db.sqlfunctions import epoch_seconds, first_by, last_by, percentile

PERCENTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99}
COLUMNS_READ = {
    "avg": ("sum", "count"), "min": ("min",), "max": ("max",), "sum": ("sum",),
    "count": ("count",), "last": ("last", "last_ts"),
    "rate": ("increase", "first", "first_ts", "last", "last_ts"),
}  # fmt: skip
"""The rollup-shaped columns each aggregation's statement reads (see the statements below)."""
M4_COLUMNS = ("first", "first_ts", "min", "min_ts", "max", "max_ts", "last", "last_ts")
TOTALS_COLUMNS = ("count", "min", "max", "sum", "last", "last_ts")


def aggregate(agg: str, c: Any) -> Any:
    if agg == "avg":
        return func.sum(c.sum) / func.sum(c.count)
    if agg in ("min", "max"):
        return getattr(func, agg)(getattr(c, agg))
    if agg == "sum":
        return func.sum(c.sum)
    if agg == "count":
        return func.sum(c.count)
    if agg == "last":
        return last_by(c.last, c.last_ts)
    if agg in PERCENTILES:
        return percentile(PERCENTILES[agg], c.value)
    raise ValueError(f"unknown aggregation {agg!r}")


def buckets(points: Subquery, agg: str) -> Select[Any]:
    c = points.c
    return select(c.g, c.t, aggregate(agg, c)).group_by(c.g, c.t).order_by(c.g, c.t)


def rate(points: Subquery, start: datetime, lookback: timedelta) -> Select[Any]:
    """Per-second rate of counters: (increase inside rows + increase between rows) / seconds.

    A drop between rows is a counter reset and counts the new value as the increase;
    dividing by the span actually observed keeps partial buckets and gaps honest. The
    increase from the previous row counts only when that row ends at most ``lookback``
    (a step, and at least :data:`RATE_LOOKBACK`) before the bucket: a bucket's rate then
    depends on nothing older, so it is the same whichever range asked for it (the
    results cache stitches blocks of buckets), and a long gap is not spread into the
    bucket after it.
    """
    c = points.c
    by_series = {"partition_by": c.sid, "order_by": c.ts}
    steps = select(
        c.g,
        c.t,
        c.increase,
        c.first,
        c.first_ts,
        c.last_ts,
        func.lag(c.last).over(**by_series).label("prev_last"),
        func.lag(c.last_ts).over(**by_series).label("prev_last_ts"),
    ).subquery()
    s = steps.c
    recent = epoch_seconds(s.prev_last_ts) >= epoch_seconds(s.t) - lookback.total_seconds()
    between = case(
        (s.prev_last.is_(None), 0.0),
        (~recent, 0.0),
        (s.first >= s.prev_last, s.first - s.prev_last),
        else_=s.first,
    )
    since = case((recent, s.prev_last_ts), else_=s.first_ts)
    # Series of a group share the bucket's span, so summed increases over it give summed rates.
    seconds = func.max(epoch_seconds(s.last_ts)) - func.min(epoch_seconds(since))
    return (
        select(s.g, s.t, func.sum(s.increase + between) / func.nullif(seconds, 0))
        .where(s.t >= start)
        .group_by(s.g, s.t)
        .order_by(s.g, s.t)
    )


def m4(points: Subquery) -> Select[Any]:
    """First, last, min and max point of every bucket of every series (M4).

    Drawn as a line, these points give the same pixels as all raw points when one
    bucket is one pixel column; at most four points per bucket, ties included.
    """
    c = points.c
    return (
        select(
            c.g,
            c.t,
            # (time, value) of the first, lowest, highest and last point
            func.min(c.first_ts),
            first_by(c.first, c.first_ts),
            first_by(c.min_ts, c.min),
            func.min(c.min),
            last_by(c.max_ts, c.max),
            func.max(c.max),
            func.max(c.last_ts),
            last_by(c.last, c.last_ts),
        )
        .group_by(c.g, c.t)
        .order_by(c.g, c.t)
    )
