"""Decoded chunk rows pre-aggregated in numpy: one rollup-shaped row per (series, window,
bucket of the query's step) instead of one per point or per rollup bucket.

Every statement of the engine aggregates rollup-shaped rows (a raw point is a rollup of
one), and rollups of rollups are rollups: merging a bucket's rows first gives the same
answers with far fewer rows to send to the database, where receiving each array element
is what costs (about 0.1 µs per element and column, more than reading a row). Merging
follows the statements' own rules: the lowest value's earliest time, the highest value's
latest time, increases across rows with counter resets. Rows of windows that hot rows
override in part stay as they are (the hot rows interleave with them in time); so do all
rows when a value is NaN (which SQL orders above every number, numpy not).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from db.tsdb.chunks import WINDOW_US, ColdPoints

COLUMNS = ("bucket", "count", "sum", "min", "max", "first", "last",
           "first_ts", "last_ts", "min_ts", "max_ts", "increase")  # fmt: skip
"""Columns of a rollup-shaped row after its series (SHAPE of db/tsdb/rollups.py, after the
row's time ``bucket``: for merged rows the time of their first point)."""
_AT = {name: index for index, name in enumerate(COLUMNS)}
_FLOATS = ("sum", "min", "max", "first", "last", "increase")


@dataclass(frozen=True)
class ShapedRows:
    """Rollup-shaped rows sorted by series then time: ``columns`` in :data:`COLUMNS` order;
    ``exact`` marks rows that must not be merged with their neighbours."""

    sids: np.ndarray
    columns: list[Any]  # np.ndarray, or None for a column not decoded
    exact: np.ndarray

    def __len__(self) -> int:
        return len(self.sids)

    def column(self, name: str) -> np.ndarray:
        """One column by name."""
        return self.columns[_AT[name]]


def wanted(needed: Collection[str] | None) -> list[int] | None:
    """Indexes of the columns to decode for ``needed`` ones (None: all), with what merging
    them takes: the row's time, the extremes for their times, first and last for increases."""
    if needed is None:
        return None
    names = {"bucket", *needed}
    names |= {"min"} if "min_ts" in names else set()
    names |= {"max"} if "max_ts" in names else set()
    names |= {"first", "last"} if "increase" in names else set()
    return sorted(_AT[name] for name in names)


def masked(columns: Sequence[Any], keep: np.ndarray | None) -> list[Any]:
    """``columns`` (arrays or None) at the rows in ``keep``; a shared array stays shared."""
    if keep is None:
        return list(columns)
    done: dict[int, np.ndarray] = {}
    for values in columns:
        if values is not None and id(values) not in done:
            done[id(values)] = values[keep]
    return [None if values is None else done[id(values)] for values in columns]


def stacked(sids: list[np.ndarray], parts: list[list[Any]], exact: list[np.ndarray]) -> ShapedRows:
    """Rows of several chunks as one :class:`ShapedRows`; a column every chunk shares with
    an earlier one stays one array (sent once)."""
    columns: list[Any] = []
    for index in range(len(COLUMNS)):
        cells = [part[index] for part in parts]
        if cells[0] is None:
            columns.append(None)
            continue
        same = next(
            (j for j in range(index)
             if all(part[j] is cell for part, cell in zip(parts, cells, strict=True))),
            None,
        )  # fmt: skip
        columns.append(columns[same] if same is not None else np.concatenate(cells))
    return ShapedRows(np.concatenate(sids), columns, np.concatenate(exact))


def from_points(points: ColdPoints, needed: Collection[str] | None = None) -> ShapedRows:
    """Raw points as rollups of one point each (the same arrays, shared, not copied; only
    the columns ``needed`` and what merging them takes, if given)."""
    micros, values = points.micros, points.values
    ones, zeros = np.ones(len(points), np.int64), np.zeros(len(points))
    columns = [micros, ones, values, values, values, values, values,
               micros, micros, micros, micros, zeros]  # fmt: skip
    indexes = wanted(needed)
    if indexes is not None:
        columns = [values if index in indexes else None for index, values in enumerate(columns)]
    return ShapedRows(points.sids, columns, points.exact)


def merge(rows: ShapedRows, step_us: int) -> ShapedRows:
    """Merge each run of rows of one series, window and ``step_us``-wide bucket into one
    (columns missing from ``rows`` stay missing)."""
    count = len(rows)
    times = rows.column("bucket")
    if count < 2 or times.min() < 0 or has_nan(rows):  # floor and SQL's bucket agree from 0
        return rows
    sids, exact = rows.sids, rows.exact
    bucket, window = times // step_us, times // WINDOW_US
    starts_at = np.ones(count, dtype=bool)
    starts_at[1:] = (
        (sids[1:] != sids[:-1]) | (bucket[1:] != bucket[:-1]) | (window[1:] != window[:-1])
        | exact[1:] | exact[:-1]
    )  # fmt: skip
    starts = np.flatnonzero(starts_at)
    if len(starts) == count:
        return rows
    lengths = np.diff(np.append(starts, count))
    merged = _merged(
        {name: rows.column(name) for name in COLUMNS}, starts, starts + lengths - 1, lengths
    )
    first_ts = merged["first_ts"] if merged["first_ts"] is not None else times[starts]
    merged["bucket"] = first_ts
    if merged["first_ts"] is not None:
        merged["first_ts"] = first_ts
    columns = [merged[name] for name in COLUMNS]
    return ShapedRows(sids[starts], columns, np.zeros(len(starts), dtype=bool))


def _merged(
    c: dict[str, Any], starts: np.ndarray, ends: np.ndarray, lengths: np.ndarray
) -> dict[str, Any]:
    """Each present column merged over the runs starting at ``starts``."""
    out: dict[str, Any] = dict.fromkeys(COLUMNS)
    for name in ("count", "sum"):
        if c[name] is not None:
            out[name] = np.add.reduceat(c[name], starts)
    for name, take in (("first", starts), ("first_ts", starts), ("last", ends), ("last_ts", ends)):
        if c[name] is not None:
            out[name] = c[name][take]
    limits = np.iinfo(np.int64)
    for name, extreme, at, missing in (("min", np.minimum, "min_ts", limits.max),
                                       ("max", np.maximum, "max_ts", limits.min)):  # fmt: skip
        if c[name] is None:
            continue
        out[name] = extreme.reduceat(c[name], starts)
        if c[at] is not None:  # the earliest time of the lowest value, latest of the highest
            chosen = c[name] == np.repeat(out[name], lengths)
            out[at] = extreme.reduceat(np.where(chosen, c[at], missing), starts)
    if c["increase"] is not None:
        # Between consecutive rows of a run: the rise from the previous last, or on a drop
        # (a counter reset) the new first value.
        previous = np.roll(c["last"], 1)
        between = np.where(c["first"] >= previous, c["first"] - previous, c["first"])
        between[starts] = 0.0
        out["increase"] = np.add.reduceat(c["increase"] + between, starts)
    return out


def has_nan(rows: ShapedRows) -> bool:
    """Whether a float column holds NaN (which SQL orders above every number, numpy not)."""
    return any(
        values is not None and np.isnan(values).any()
        for values in (rows.column(name) for name in _FLOATS)
    )
