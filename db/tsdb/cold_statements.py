"""The engine's bucket and M4 statements (:mod:`db.tsdb.statements`) in numpy, for compacted rows.

When no hot row falls in a question's range (closed days: every old block of a cached
panel, most of a 30-day panel), its rows are all decoded chunk rows already in process.
Sending them to the database only to aggregate them there cost more than the row
table's index scan (about 0.1 µs per element and column to receive, then the grouping);
here they are aggregated where they are, by the statements' own rules: buckets of
``step`` from the epoch, the value at the earliest (latest) time with ties going to the
lowest (highest) value, as PostgreSQL's ``min``/``max`` over ``ARRAY[key, value]`` does.
Sums may differ from the database's in the last bits (summation order), as merged rows'
do. Rates follow the previous row of each series as the SQL window does; percentiles
(every point) stay in SQL. The totals of summaries (stat, gauge, bar and table panels)
are computed here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np

from db.tsdb.prebuckets import COLUMNS, ShapedRows, has_nan
from db.types import to_epoch_us

AGGREGATIONS = frozenset({"avg", "min", "max", "sum", "count", "last", "rate"})


def answers(rows: ShapedRows, agg: str, m4: bool) -> bool:
    """Whether :func:`rows` (or :func:`rates`) answers this question: M4 or a bucket
    aggregation, over rows :func:`computable` here."""
    return (m4 or agg in AGGREGATIONS) and computable(rows)


def computable(rows: ShapedRows) -> bool:
    """Whether there are rows, all from the epoch on, without NaN (which SQL orders above
    every number, numpy not)."""
    return bool(len(rows)) and rows.column("bucket").min() >= 0 and not has_nan(rows)


class Question(Protocol):
    """What a statement asks (see ``db.tsdb.query._Ask``)."""

    agg: str
    m4: bool
    step: timedelta
    group: Mapping[int, int] | None
    start: datetime


def rows(shaped: ShapedRows, ask: Question, lookback: timedelta) -> list[tuple[Any, ...]]:
    """The rows :func:`db.tsdb.statements.m4` (if ``ask.m4``), :func:`db.tsdb.statements.rate` (with
    ``lookback``) or :func:`db.tsdb.statements.buckets` would return over ``shaped``: (group,
    bucket, values...), ordered by group then bucket. The group is the series id, or its
    position in ``ask.group``."""
    if ask.agg == "rate" and not ask.m4:
        return rates(shaped, ask.step, ask.group, ask.start, lookback)
    runs = _Runs.of(shaped, ask.step // timedelta(microseconds=1), ask.group)
    if ask.m4:
        columns = [
            runs.times(runs.reduce("first_ts", np.minimum)),
            runs.pick("first", "first_ts", greatest=False).tolist(),
            runs.times(runs.pick("min_ts", "min", greatest=False)),
            runs.reduce("min", np.minimum).tolist(),
            runs.times(runs.pick("max_ts", "max", greatest=True)),
            runs.reduce("max", np.maximum).tolist(),
            runs.times(runs.reduce("last_ts", np.maximum)),
            runs.pick("last", "last_ts", greatest=True).tolist(),
        ]
    else:
        columns = [_aggregate(runs, ask.agg)]
    return list(zip(runs.groups.tolist(), runs.times(runs.buckets), *columns, strict=True))


def rates(
    shaped: ShapedRows,
    step: timedelta,
    group: Mapping[int, int] | None,
    start: datetime,
    lookback: timedelta,
) -> list[tuple[Any, ...]]:
    """The rows :func:`db.tsdb.statements.rate` would return over ``shaped``: (group, bucket,
    per-second rate or None) for buckets from ``start`` on. Between consecutive rows of a
    series the rise counts (a drop: the new first value) when the previous row ends at
    most ``lookback`` before the bucket; the seconds run from that row's end, else from
    the bucket's first point, to its last point."""
    step_us, back_us = (width // timedelta(microseconds=1) for width in (step, lookback))
    sids, times = shaped.sids, shaped.column("bucket")
    first, first_ts = shaped.column("first"), shaped.column("first_ts")
    last, last_ts = shaped.column("last"), shaped.column("last_ts")
    follows = np.zeros(len(sids), dtype=bool)
    follows[1:] = sids[1:] == sids[:-1]
    previous, previous_ts = np.roll(last, 1), np.roll(last_ts, 1)
    buckets = times // step_us * step_us
    recent = follows & (previous_ts >= buckets - back_us)
    between = np.where(recent, np.where(first >= previous, first - previous, first), 0.0)
    keep = buckets >= to_epoch_us(start)
    columns = {
        "rise": (shaped.column("increase") + between)[keep],
        "since": np.where(recent, previous_ts, first_ts)[keep],
        "last_ts": last_ts[keep],
    }
    runs = _Runs(sids[keep], times[keep], columns, step_us, group)
    seconds = runs.reduce("last_ts", np.maximum) - runs.reduce("since", np.minimum)
    values = [
        None if span == 0 else rise / (span / 1e6)
        for rise, span in zip(runs.reduce("rise", np.add).tolist(), seconds.tolist(), strict=True)
    ]
    return list(zip(runs.groups.tolist(), runs.times(runs.buckets), values, strict=True))


def totals(
    shaped: ShapedRows, slot: timedelta | None, group: Mapping[int, int]
) -> dict[tuple[int, Any], tuple[Any, ...]]:
    """What :func:`db.tsdb.query._totals` computes over ``shaped``: per (group position, start
    of a ``slot``-wide slot, or None without slots) count, min, max, sum, the last value
    and its time."""
    runs = _Runs.of(shaped, None if slot is None else slot // timedelta(microseconds=1), group)
    slots = runs.times(runs.buckets) if slot is not None else [None] * len(runs.groups)
    found = zip(
        runs.reduce("count", np.add).tolist(),
        runs.reduce("min", np.minimum).tolist(),
        runs.reduce("max", np.maximum).tolist(),
        runs.reduce("sum", np.add).tolist(),
        runs.pick("last", "last_ts", greatest=True).tolist(),
        runs.times(runs.reduce("last_ts", np.maximum)),
        strict=True,
    )
    return dict(zip(zip(runs.groups.tolist(), slots, strict=True), found, strict=True))


def _aggregate(runs: _Runs, agg: str) -> list[Any]:
    if agg == "avg":
        return (runs.reduce("sum", np.add) / runs.reduce("count", np.add)).tolist()
    if agg in ("min", "max"):
        return runs.reduce(agg, np.minimum if agg == "min" else np.maximum).tolist()
    if agg == "sum":
        return runs.reduce("sum", np.add).tolist()
    if agg == "count":
        return runs.reduce("count", np.add).tolist()
    if agg == "last":
        return runs.pick("last", "last_ts", greatest=True).tolist()
    raise ValueError(f"unknown aggregation {agg!r}")


class _Runs:
    """Rows (``sids``, their ``times`` and named ``columns``) ordered by (group, bucket),
    and where each (group, bucket) run starts; without a step (None), one run per group."""

    def __init__(
        self,
        sids: np.ndarray,
        times: np.ndarray,
        columns: Mapping[str, np.ndarray | None],
        step_us: int | None,
        group: Mapping[int, int] | None,
    ) -> None:
        if group is None:
            groups = sids
        else:
            keys = np.array(sorted(group), dtype=np.int64)
            groups = np.array([group[key] for key in keys.tolist()], dtype=np.int64)[
                np.searchsorted(keys, sids)
            ]
        buckets = np.zeros_like(times) if step_us is None else times // step_us * step_us
        # Rows come sorted by series then time: one group per series keeps that order.
        self.order = None if group is None else np.lexsort((buckets, groups))
        if self.order is not None:
            groups, buckets = groups[self.order], buckets[self.order]
        starts_at = np.ones(len(groups), dtype=bool)
        starts_at[1:] = (groups[1:] != groups[:-1]) | (buckets[1:] != buckets[:-1])
        self.starts = np.flatnonzero(starts_at)
        self.lengths = np.diff(np.append(self.starts, len(groups)))
        self.groups, self.buckets = groups[self.starts], buckets[self.starts]
        self._columns = columns

    @classmethod
    def of(cls, shaped: ShapedRows, step_us: int | None, group: Mapping[int, int] | None) -> _Runs:
        """Runs of rollup-shaped rows (columns by their :data:`COLUMNS` names)."""
        columns = {name: shaped.column(name) for name in COLUMNS}
        return cls(shaped.sids, shaped.column("bucket"), columns, step_us, group)

    def column(self, name: str) -> np.ndarray:
        values = self._columns[name]
        assert values is not None, f"column {name} was not read"
        return values if self.order is None else values[self.order]

    def reduce(self, name: str, ufunc: np.ufunc) -> np.ndarray:
        """``ufunc`` over each run of column ``name``."""
        return ufunc.reduceat(self.column(name), self.starts)

    def pick(self, value: str, key: str, greatest: bool) -> np.ndarray:
        """Each run's ``value`` at its greatest (or least) ``key``; ties: the greatest (least)
        value."""
        extreme = np.maximum if greatest else np.minimum
        keys, values = self.column(key), self.column(value)
        best = extreme.reduceat(keys, self.starts)
        if values.dtype.kind == "f":
            filler: Any = -np.inf if greatest else np.inf
        else:
            filler = np.iinfo(values.dtype).min if greatest else np.iinfo(values.dtype).max
        chosen = np.where(keys == np.repeat(best, self.lengths), values, filler)
        return extreme.reduceat(chosen, self.starts)

    @staticmethod
    def times(micros: np.ndarray) -> list[Any]:
        """Epoch microseconds as aware UTC datetimes."""
        naive = micros.astype("datetime64[us]").astype(object)
        return [moment.replace(tzinfo=UTC) for moment in naive]
