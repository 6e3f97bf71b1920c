"""The query engine: which series a panel query matches, and their points in buckets.

Every source of points has the same shape as a rollup row (count, sum, min, max,
first/last with their timestamps, time of min/max, increase): a raw point is a
rollup of one. So one set of statements answers from raw points for short ranges
and from per-minute or per-hour rollups for long ones, with identical results.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from dashapp.core.panel_data import bucket_step
from dashapp.core.results import QueryResult, Series, SeriesInfo, Summary, SummaryResult
from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange, aligned_range
from db import rollups
from db.metrics import find_series
from db.sqlfunctions import epoch_seconds, first_by, last_by, percentile

M4_AGGREGATIONS = frozenset({"avg", "min", "max", "last"})
PERCENTILES = {"p50": 0.5, "p90": 0.9, "p99": 0.99}
COLUMNS_READ = {
    "avg": ("sum", "count"), "min": ("min",), "max": ("max",), "sum": ("sum",),
    "count": ("count",), "last": ("last", "last_ts"),
    "rate": ("increase", "first", "first_ts", "last", "last_ts"),
}  # fmt: skip
"""The rollup-shaped columns each aggregation's statement reads (see the statements below)."""
M4_COLUMNS = ("first", "first_ts", "min", "min_ts", "max", "max_ts", "last", "last_ts")
TOTALS_COLUMNS = ("count", "min", "max", "sum", "last", "last_ts")
RATE_LOOKBACK = timedelta(minutes=5)
"""How old a counter's previous point may be for a rate to count the increase since it."""


def matches(info: SeriesInfo, query: Query, variables: Mapping[str, Sequence[str]]) -> bool:
    """Whether a series passes the query's source pattern and label filters."""
    if query.source and not _value_matches(info.source, query.source, variables):
        return False
    return all(
        _value_matches(info.labels.get(key, ""), wanted, variables)
        for key, wanted in query.labels.items()
    )


def _value_matches(actual: str, wanted: str, variables: Mapping[str, Sequence[str]]) -> bool:
    if wanted.startswith("$"):
        chosen = variables.get(wanted[1:])
        return not chosen or any(fnmatchcase(actual, pattern) for pattern in chosen)
    return fnmatchcase(actual, wanted)


def group_key(info: SeriesInfo, group_by: Sequence[str]) -> tuple[str, ...]:
    """The values of the group-by keys for a series (``source``, ``name`` or a label)."""
    values = []
    for key in group_by:
        if key == "source":
            values.append(info.source)
        elif key == "name":
            values.append(info.name)
        else:
            values.append(info.labels.get(key, ""))
    return tuple(values)


Groups = list[tuple[tuple[str, ...], list[SeriesInfo]]]
"""Shown groups of a query: (group key, member series), sorted by key."""
PerGroup = list[tuple[list[datetime], list[float | None]]]
"""(timestamps, values) of each shown group, in the order of :data:`Groups`."""


def matching_groups(
    session: Session | None,
    spec: Query,
    variables: Mapping[str, Sequence[str]],
    limit: int,
    candidates: Sequence[SeriesInfo] | None = None,
) -> tuple[Groups, int]:
    """The first ``limit`` groups of matching series (by group key), and how many there are.

    ``candidates`` are the metric's series when the caller has them already (cached).
    """
    groups: dict[tuple[str, ...], list[SeriesInfo]] = {}
    if candidates is None:
        assert session is not None, "matching_groups needs a session or the candidates"
        candidates = find_series(session, spec.metric)
    found = candidates
    for info in found:
        if matches(info, spec, variables):
            groups.setdefault(group_key(info, spec.group_by), []).append(info)
    return sorted(groups.items())[:limit], len(groups)


def uses_m4(spec: Query, shown: Groups, prefer_m4: bool) -> bool:
    """Whether a query draws M4 points: single-series lines asked for M4, or preferring it
    with an aggregation that keeps values' meaning."""
    single = all(len(members) == 1 for _, members in shown)
    return single and (
        spec.mode == "m4" or (spec.mode == "auto" and prefer_m4 and spec.agg in M4_AGGREGATIONS)
    )


def query(
    session: Session,
    spec: Query,
    time_range: TimeRange,
    max_points: int,
    *,
    variables: Mapping[str, Sequence[str]] | None = None,
    series_limit: int = 20,
    prefer_m4: bool = False,
    step: timedelta | None = None,
) -> QueryResult:
    """Run one panel query: bucketed aggregation (or M4) over the matching series.

    Without ``group_by`` all matching series are combined into one line; with it, one
    line per distinct group. M4 (first, last, min and max point of every bucket) is
    used for single-series lines when asked for, or when ``prefer_m4`` and the
    aggregation keeps values' meaning (avg, min, max, last). ``step`` overrides the
    bucket width (callers that aligned the range already pass the width they used).
    """
    started = time.perf_counter()
    shown, total = matching_groups(session, spec, variables or {}, series_limit)
    step = step or bucket_step(spec, time_range.span, max_points)
    window = aligned_range(time_range, step)
    use_m4 = uses_m4(spec, shown, prefer_m4)
    per_group, sql, source = group_buckets(session, spec, shown, window, step, use_m4)
    return QueryResult(
        series=assemble(spec, shown, per_group),
        start=window.start,
        end=window.end,
        step=step,
        mode="m4" if use_m4 else "buckets",
        total_series=total,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        sql=sql,
        source=source,
    )


def group_buckets(
    session: Session,
    spec: Query,
    shown: Groups,
    window: TimeRange,
    step: timedelta,
    m4: bool,
    *,
    raw: bool = False,
) -> tuple[PerGroup, str, str]:
    """Each shown group's bucket values (or M4 points) over an aligned ``window``, with the
    SQL that ran and where it read from (raw points if ``raw``, else rollups if usable).
    Every bucket depends only on the points in it (and, for ``rate``, on the point before
    it within :data:`RATE_LOOKBACK` or a step), so any aligned window gives the same
    values for the buckets it shares with another."""
    single = all(len(members) == 1 for _, members in shown)
    position = {info.id: i for i, (_, members) in enumerate(shown) for info in members}
    per_group: PerGroup = [([], []) for _ in shown]
    if not position:
        return per_group, "", "points"
    lookback = max(step, RATE_LOOKBACK)
    # Rows that may hold a bucket's previous point: a rollup row starts up to a step
    # before its last point.
    reach = TimeRange(window.start - lookback - step, window.end) if spec.agg == "rate" else window
    level = None if raw else rollups.usable_level(session, step, spec.agg, position, reach)
    group = None if single else position
    if not m4 and spec.agg in PERCENTILES:  # every value, not rollup-shaped rows
        source = rollups.covering(session, level, position, reach)
        points = rollups.shaped_rows(level, step, source, group)
    else:
        needed = M4_COLUMNS if m4 else COLUMNS_READ[spec.agg]
        points = rollups.shaped(session, level, step, position, reach, group, needed)
    if m4:
        statement = _m4(points)
    elif spec.agg == "rate":
        statement = _rate(points, window.start, lookback)
    else:
        statement = _buckets(points, spec.agg)
    # Core execution: no ORM row machinery, and the SQL text comes from the cached
    # compiled form instead of compiling the statement again for the inspect view.
    result = session.connection().execute(statement)
    rows = result.all()
    sql = result.context.compiled.string if result.context.compiled else ""
    _collect(rows, per_group, position if single else None, m4=m4)
    return per_group, sql, rollups.describe(level)


def assemble(spec: Query, shown: Groups, per_group: PerGroup) -> list[Series]:
    """The result lines of the shown groups, leaving out groups without a point."""
    series = [
        Series(legend(spec, key, len(shown)), dict(zip(spec.group_by, key, strict=True)), *data)
        for (key, _), data in zip(shown, per_group, strict=True)
    ]
    return [s for s in series if s.values]


def legend(spec: Query, key: tuple[str, ...], count: int) -> str:
    """A line's legend entry: the alias and/or the group's values, else the metric."""
    label = ", ".join(key)
    if spec.alias:
        return f"{spec.alias} {label}".strip() if count > 1 else spec.alias
    return label or spec.metric


def _aggregate(agg: str, c: Any) -> Any:
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


def _buckets(points: Subquery, agg: str) -> Select[Any]:
    c = points.c
    return select(c.g, c.t, _aggregate(agg, c)).group_by(c.g, c.t).order_by(c.g, c.t)


def _rate(points: Subquery, start: datetime, lookback: timedelta) -> Select[Any]:
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


def _m4(points: Subquery) -> Select[Any]:
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


def _collect(
    rows: Sequence[Any],
    per_group: list[tuple[list[datetime], list[float | None]]],
    position: Mapping[int, int] | None,
    m4: bool,
) -> None:
    """Append result rows to their group's (timestamps, values), mapping series ids if needed."""
    for row in rows:
        xs, ys = per_group[position[row[0]] if position is not None else row[0]]
        if not m4:
            xs.append(row[1])
            ys.append(row[2])
            continue
        corners = sorted({(row[i], row[i + 1]) for i in (2, 4, 6, 8)}, key=lambda p: p[0])
        for ts, value in corners:
            if xs and xs[-1] == ts:
                continue
            xs.append(ts)
            ys.append(value)


def summary_unit(span: timedelta) -> timedelta | None:
    """The rollup level a summary of ``span`` reads (None: raw points), its edges rounded
    to that unit: a day or more reads hours, two hours or more reads minutes."""
    if span >= timedelta(days=1):
        return timedelta(hours=1)
    if span >= timedelta(hours=2):
        return timedelta(minutes=1)
    return None


def summarize(
    session: Session,
    spec: Query,
    time_range: TimeRange,
    *,
    variables: Mapping[str, Sequence[str]] | None = None,
    series_limit: int = 20,
) -> SummaryResult:
    """Count, min, max, average, sum and last value of each group over the whole range.

    Exact (from every point, or from rollups holding every point), unlike reducing a
    panel's buckets, whose min and max are those of bucket averages and move with the
    panel's width. The range widens to whole minutes or hours to read rollups.
    """
    started = time.perf_counter()
    shown, total = matching_groups(session, spec, variables or {}, series_limit)
    unit = summary_unit(time_range.span)
    window = aligned_range(time_range, unit) if unit else time_range
    found, source = group_totals(session, shown, window, unit)
    return SummaryResult(
        summaries(spec, shown, found), window.start, window.end, total,
        (time.perf_counter() - started) * 1000, source,
    )  # fmt: skip


Totals = dict[int, tuple[int, float, float, float, float, datetime]]
"""Per shown group (by position): count, min, max, sum, last value, time of the last."""


def group_totals(
    session: Session, shown: Groups, window: TimeRange, unit: timedelta | None
) -> tuple[Totals, str]:
    """Each shown group's totals over ``window`` (read at rollup level ``unit`` when no hour
    in it is pending), and where they were read from."""
    found, source = slot_totals(session, shown, window, unit, None)
    return {index: row for (index, _), row in found.items()}, source


def slot_totals(
    session: Session,
    shown: Groups,
    window: TimeRange,
    unit: timedelta | None,
    slot: timedelta | None,
    *,
    raw: bool = False,
) -> tuple[dict[tuple[int, Any], tuple], str]:
    """Totals per (group position, start of a ``slot``-wide time slot) over ``window``, or
    per group only (slot None); and where they were read from. ``slot`` must be a
    multiple of ``unit``."""
    position = {info.id: i for i, (_, members) in enumerate(shown) for info in members}
    usable = unit and not raw
    level = rollups.usable_level(session, unit, "avg", position, window) if usable else None
    if not position:
        return {}, rollups.describe(level)
    step = slot or unit or window.span
    rows = rollups.shaped(session, level, step, position, window, position, TOTALS_COLUMNS)
    c = rows.c
    keys = (c.g, c.t) if slot else (c.g,)
    statement = select(
        *keys, func.sum(c.count), func.min(c.min), func.max(c.max), func.sum(c.sum),
        last_by(c.last, c.last_ts), func.max(c.last_ts),
    ).group_by(*keys)  # fmt: skip
    width = len(keys)
    found = {
        (row[0], row[1] if slot else None): tuple(row[width:]) for row in session.execute(statement)
    }
    return found, rollups.describe(level)


def summaries(spec: Query, shown: Groups, found: Totals) -> list[Summary]:
    """The summaries of the shown groups that have points, from their totals."""
    result = []
    for index, (key, _) in enumerate(shown):
        row = found.get(index)
        if row is None:
            continue
        count, low, high, total_sum, last, last_ts = row
        result.append(
            Summary(
                legend(spec, key, len(shown)),
                dict(zip(spec.group_by, key, strict=True)),
                int(count),
                low,
                high,
                total_sum / count if count else None,
                total_sum,
                last,
                last_ts,
            )
        )
    return result
