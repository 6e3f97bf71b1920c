"""The query engine: which series a panel query matches, and their points in buckets.

Every source of points has the same shape as a rollup row (count, sum, min, max,
first/last with their timestamps, time of min/max, increase): a raw point is a
rollup of one. So one set of statements answers from raw points for short ranges
and from per-minute or per-hour rollups for long ones, with identical results.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashapp.core.panel_data import M4_AGGREGATIONS, bucket_step
from dashapp.core.results import (
    NO_PERCENTILES,
    PAST_RETENTION,
    QueryResult,
    Series,
    SeriesInfo,
    Summary,
    SummaryResult,
)
from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange, aligned_range
from db.sqlfunctions import last_by
from db.tsdb import cold_statements, rollups, statements
from db.tsdb.metrics import find_series

RATE_LOOKBACK = timedelta(minutes=5)
"""How old a counter's previous point may be for a rate to count the increase since it."""
IN_PROCESS = (
    "-- every row compacted: {rows} chunk rows aggregated in process (db.tsdb.cold_statements)"
)


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
    ask = _Ask(spec.agg, m4, step, position, None if single else position, reach, window.start)
    rows, sql = ask.rows(session, level)
    source = rollups.describe(level)
    if not rows and level is None and not raw:
        # Raw points past their retention: the finest rollup level still holding the range
        # answers (a bucket per rollup row where the step is finer); percentiles cannot.
        for finer in sorted(rollups.LEVELS):
            if not rollups.holds(session, finer, position, reach):
                continue
            if ask.every_value:
                source = NO_PERCENTILES
                break
            rows, sql = ask.rows(session, finer)
            source = f"{rollups.describe(finer)}, {PAST_RETENTION}"
            break
    _collect(rows, per_group, position if single else None, m4=m4)
    return per_group, sql, source


@dataclass(frozen=True)
class _Ask:
    """One bucketed question over rollup-shaped rows, answerable at any level."""

    agg: str
    m4: bool
    step: timedelta
    ids: Collection[int]
    group: Mapping[int, int] | None
    reach: TimeRange
    start: datetime

    @property
    def every_value(self) -> bool:
        """Whether the statement reads every raw value (percentiles), not rollup rows."""
        return not self.m4 and self.agg in statements.PERCENTILES

    def rows(self, session: Session, level: timedelta | None) -> tuple[Sequence[Any], str]:
        """The statement's rows at ``level`` (None: raw points), and its SQL."""
        lookback = max(self.step, RATE_LOOKBACK)
        if self.every_value:
            source = rollups.covering(session, level, self.ids, self.reach)
            points = rollups.shaped_rows(level, self.step, source, self.group)
        else:
            needed = statements.M4_COLUMNS if self.m4 else statements.COLUMNS_READ[self.agg]
            cold = rollups.compacted(session, level, self.step, self.ids, self.reach, needed)
            if cold_statements.answers(cold.rows, self.agg, self.m4) and not rollups.hot_exists(
                session, cold
            ):
                found = cold_statements.rows(cold.rows, self, lookback)
                return found, IN_PROCESS.format(rows=len(cold.rows))
            points = rollups.shaped_with(session, cold, self.group)
        if self.m4:
            statement = statements.m4(points)
        elif self.agg == "rate":
            statement = statements.rate(points, self.start, lookback)
        else:
            statement = statements.buckets(points, self.agg)
        # Core execution: no ORM row machinery, and the SQL text comes from the cached
        # compiled form instead of compiling the statement again for the inspect view.
        result = session.connection().execute(statement)
        rows = result.all()
        return rows, result.context.compiled.string if result.context.compiled else ""


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
    found = _totals(session, level, step, position, window, slot)
    source = rollups.describe(level)
    if not found and level is None and not raw:  # raw points past retention: see group_buckets
        for finer in sorted(rollups.LEVELS):
            if rollups.holds(session, finer, position, window):
                found = _totals(session, finer, step, position, window, slot)
                source = f"{rollups.describe(finer)}, {PAST_RETENTION}"
                break
    return found, source


def _totals(
    session: Session,
    level: timedelta | None,
    step: timedelta,
    position: Mapping[int, int],
    window: TimeRange,
    slot: timedelta | None,
) -> dict[tuple[int, Any], tuple]:
    cold = rollups.compacted(session, level, step, position, window, statements.TOTALS_COLUMNS)
    if cold_statements.computable(cold.rows) and not rollups.hot_exists(session, cold):
        return cold_statements.totals(cold.rows, slot, position)
    rows = rollups.shaped_with(session, cold, position)
    c = rows.c
    keys = (c.g, c.t) if slot else (c.g,)
    statement = select(
        *keys, func.sum(c.count), func.min(c.min), func.max(c.max), func.sum(c.sum),
        last_by(c.last, c.last_ts), func.max(c.last_ts),
    ).group_by(*keys)  # fmt: skip
    width = len(keys)
    return {
        (row[0], row[1] if slot else None): tuple(row[width:]) for row in session.execute(statement)
    }


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
