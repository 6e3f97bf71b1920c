"""Rollups of closed days, compacted like points: one row per series, level and window.

Rollup rows are the bulk of a database of 10 s data (a per-minute row is wider than
six points' worth of chunk), so compaction moves them too (``DELETE ... RETURNING``,
merged with the window's chunk, bucket rows written later winning), and readers
see rows and chunks as one source, exactly like :mod:`db.tsdb.chunks` does for points.

Each level has its own window width (:data:`WINDOWS`): a day of 1-minute rollups, 30
days of hourly ones (a 30-day panel then decodes one or two chunks per series, not 30
of 24 rows). Compaction still closes by day: a closed day's hourly rows are merged into
their 30-day window's chunk, so the open window's chunk is rewritten once a day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import orjson
from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    Select,
    and_,
    column,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from db.engine import dialect_insert
from db.sqlfunctions import BucketStep, epoch_us, int_array, int_list
from db.tsdb import codec, pgarrays, prebuckets
from db.tsdb.chunks import Span, _by_range, inside, span_limits, window_of
from db.tsdb.models import RollupChunkRow, RollupRow, SeriesRow
from db.tsdb.prebuckets import COLUMNS, ShapedRows
from db.types import EPOCH, Timestamp, to_epoch_us

WINDOWS = {60: timedelta(days=1), 3600: timedelta(days=30)}
"""Width of a rollup chunk's window, by level (seconds); epoch-aligned like points'."""
TIMES = frozenset({"bucket", "first_ts", "last_ts", "min_ts", "max_ts"})
INTEGERS = TIMES | {"count"}


def rollup_source(session: Session, level: int, spans: Sequence[Span]) -> Subquery:
    """Rollup rows of ``level`` seconds inside ``spans``, from rows and chunks.

    Columns: series_id, ts (the bucket), then count .. increase.
    """
    hot = hot_rows(level, spans)
    cold = cold_rows(session, level, spans)
    if not len(cold):
        return hot.subquery()
    rows = cold_select(session, cold).subquery()
    return union_all(hot, select(*rows.c)).subquery()


def hot_rows(level: int, spans: Sequence[Span]) -> Select[Any]:
    """Rollup rows of ``level`` (not compacted yet) inside ``spans``, columns as above."""
    inside_spans = [
        and_(RollupRow.series_id.in_(sids), RollupRow.bucket >= start, RollupRow.bucket < end)
        for (start, end), sids in _by_range(spans).items()
    ]
    return select(
        RollupRow.series_id,
        RollupRow.bucket.label("ts"),
        *(getattr(RollupRow, name) for name in COLUMNS[1:]),
    ).where(
        RollupRow.level == level, inside_spans[0] if len(inside_spans) == 1 else or_(*inside_spans)
    )


def cold_rows(
    session: Session, level: int, spans: Sequence[Span], needed: Collection[str] | None = None
) -> ShapedRows:
    """Decoded chunk buckets inside ``spans`` that no rollup row overrides (only the columns
    ``needed`` and what merging them takes, if given: see :func:`db.tsdb.prebuckets.wanted`)."""
    width = WINDOWS[level]
    wanted = [
        and_(RollupChunkRow.series_id.in_(sids),
             RollupChunkRow.window_start >= window_of(start, width),
             RollupChunkRow.window_start < end)
        for (start, end), sids in _by_range(spans).items()
    ]  # fmt: skip
    # Buckets refreshed after their window was compacted override the chunk's: their
    # times come in the same statement (an index probe per chunk).
    refreshed = (
        select(int_list(epoch_us(RollupRow.bucket)))
        .where(
            RollupRow.series_id == RollupChunkRow.series_id, RollupRow.level == level,
            RollupRow.bucket >= RollupChunkRow.window_start,
            RollupRow.bucket < RollupChunkRow.window_start + literal(width, BucketStep()),
        )
        .correlate(RollupChunkRow)
        .scalar_subquery()
    )  # fmt: skip
    found = session.connection().execute(
        select(RollupChunkRow.series_id, RollupChunkRow.window_start, RollupChunkRow.data,
               refreshed)
        .where(RollupChunkRow.level == level, or_(*wanted))
        .order_by(RollupChunkRow.series_id, RollupChunkRow.window_start)
    ).all()  # fmt: skip
    if not found:
        return NO_ROWS
    limits = span_limits(spans)
    indexes = prebuckets.wanted(needed)
    width_us = width // timedelta(microseconds=1)
    sids, parts, exact = [], [], []
    for sid, start, data, listed in found:
        columns = codec.decode_columns(data, indexes)
        keep = inside(columns[0], to_epoch_us(start), limits[sid], width_us)
        rows = int_array(listed)
        if rows is not None:
            fresh = ~np.isin(columns[0], rows)
            keep = fresh if keep is None else keep & fresh
        columns = prebuckets.masked(columns, keep)
        if len(columns[0]):
            sids.append(np.full(len(columns[0]), sid, dtype=np.int64))
            parts.append(columns)
            exact.append(np.full(len(columns[0]), rows is not None))
    if not sids:
        return NO_ROWS
    return prebuckets.stacked(sids, parts, exact)


NO_ROWS = ShapedRows(
    np.empty(0, np.int64),
    [np.empty(0, np.int64 if name in INTEGERS else np.float64) for name in COLUMNS],
    np.empty(0, bool),
)


_PG_ARRAYS: dict[str, tuple[str, Any]] = {
    "timestamptz": ("timestamptz", pgarrays.timestamps),
    "series_id": ("bigint", pgarrays.int8s),
    "count": ("integer", pgarrays.int4s),
}
"""PostgreSQL array type and binary parameter of each column (the others: float8)."""
_FLOAT8 = ("float8", pgarrays.float8s)


def _quoted(name: str) -> str:
    return f'"{name}"'


def _renamed(name: str) -> str:
    return "ts" if name == "bucket" else name


def cold_select(session: Session, rows: ShapedRows) -> Any:
    """A row source holding ``rows``: columns series_id, ts (the row's time), count .. increase
    (NULL where ``rows`` lacks a column)."""
    present = list(zip(_NAMES, [rows.sids, *rows.columns], strict=True))
    if session.get_bind().dialect.name == "postgresql":
        layout, params, sent = [], {}, {}
        for index, (name, values) in enumerate(present):
            if values is None:  # a column no statement of this query reads
                layout.append(None)
                continue
            kind, wrap = _PG_ARRAYS.get("timestamptz" if name in TIMES else name, _FLOAT8)
            if name == "series_id" and values[0] == values[-1]:  # one series: its id once
                params["rc0"] = int(values[0])
                layout.append("=rc0")
                continue
            key = (id(values), kind)  # a column shared with an earlier one is sent once
            if key not in sent:
                sent[key] = f"rc{index}"
                params[sent[key]] = wrap(values)
            layout.append(sent[key])
        return _unnest_select(tuple(layout)).bindparams(**params)
    sent_columns = [values for _, values in present if values is not None]
    table = np.empty((len(rows), len(sent_columns)), dtype=object)
    for index, values in enumerate(sent_columns):
        table[:, index] = values
    layout = tuple(values is not None for _, values in present)
    return _json_select(layout).bindparams(rollup_chunks=orjson.dumps(table.tolist()).decode())


_NAMES = ("series_id", *COLUMNS)


@lru_cache(maxsize=64)
def _unnest_select(layout: tuple[str | None, ...]) -> Any:
    """PostgreSQL: one ``unnest`` of a binary array parameter per column (named in
    ``layout``; ``=name``: one value for all rows; None: NULL). In the select list, as in
    db/tsdb/chunks.py: the arrays are walked in step."""
    selected = []
    for name, param in zip(_NAMES, layout, strict=True):
        kind = _PG_ARRAYS.get("timestamptz" if name in TIMES else name, _FLOAT8)[0]
        # count as integer like the rows' column: sum(bigint) would be numeric.
        if param is None:
            value = f"CAST(NULL AS {kind})"
        elif param.startswith("="):  # one value for every row
            value = f"CAST(:{param[1:]} AS {kind})"
        else:
            value = f"unnest(CAST(:{param} AS {kind}[]))"
        selected.append(f"{value} AS {_quoted(_renamed(name))}")
    return _typed(text(f"SELECT {', '.join(selected)}"))


@lru_cache(maxsize=64)
def _json_select(layout: tuple[bool, ...]) -> Any:
    """SQLite: the columns (those sent per ``layout``, else NULL) from one JSON array of rows."""
    selected, position = [], 0
    for name, sent in zip(_NAMES, layout, strict=True):
        value = f"json_extract(j.value, '$[{position}]')" if sent else "NULL"
        position += sent
        selected.append(f"{value} AS {_quoted(_renamed(name))}")
    return _typed(text(f"SELECT {', '.join(selected)} FROM json_each(:rollup_chunks) AS j"))


def _typed(statement: Any) -> Any:
    types: dict[str, Any] = {name: Float(precision=53) for name in _NAMES}
    types.update({name: Timestamp() for name in TIMES}, series_id=BigInteger(), count=Integer())
    types["ts"] = types.pop("bucket")
    order = ["series_id", "ts", *COLUMNS[1:]]
    return statement.columns(*(column(name, types[name]) for name in order))


def pending_windows(
    session: Session, level: int, cutoff: datetime, limit: int
) -> dict[datetime, list[int]]:
    """Up to ``limit`` (window, series) pairs with rollup rows of ``level`` before ``cutoff``
    (probed from the newest rollup chunk on first, like :func:`db.tsdb.compaction.pending_windows`;
    windows are the level's, see :data:`WINDOWS`)."""

    def oldest_from(floor: Any) -> Any:
        return (
            select(func.min(RollupRow.bucket))
            .where(RollupRow.series_id == SeriesRow.id, RollupRow.level == level,
                   RollupRow.bucket >= floor, RollupRow.bucket < cutoff)
            .correlate(SeriesRow)
            .scalar_subquery()
        )  # fmt: skip

    frontier = (
        select(func.max(RollupChunkRow.window_start))
        .where(RollupChunkRow.series_id == SeriesRow.id, RollupChunkRow.level == level)
        .correlate(SeriesRow)
        .scalar_subquery()
    )
    floor = literal(EPOCH, Timestamp())
    oldest = func.coalesce(oldest_from(func.coalesce(frontier, floor)), oldest_from(floor))
    found = session.execute(select(SeriesRow.id, oldest)).all()
    pairs = sorted((window_of(ts, WINDOWS[level]), sid) for sid, ts in found if ts is not None)
    pairs = pairs[:limit]
    windows: dict[datetime, list[int]] = defaultdict(list)
    for start, sid in pairs:
        windows[start].append(sid)
    return windows


def _packed_delete() -> str:
    def send(name: str) -> str:
        if name in TIMES:
            return f"int8send((EXTRACT(EPOCH FROM {name}) * 1000000)::bigint)"
        return f'int8send("{name}"::bigint)' if name == "count" else f'float8send("{name}")'

    aggregates = ", ".join(f"string_agg({send(n)}, ''::bytea ORDER BY bucket)" for n in COLUMNS)
    return (
        "WITH taken AS (DELETE FROM metric_rollups WHERE level = :level AND "
        "series_id = ANY(:sids) AND bucket >= :start AND bucket < :end RETURNING *) "
        f"SELECT series_id, {aggregates} FROM taken GROUP BY series_id"
    )


_TAKE_POSTGRESQL = text(_packed_delete())


def compact_window(
    session: Session, level: int, start: datetime, sids: list[int], cutoff: datetime
) -> int:
    """Move rollup rows of ``level`` in the window at ``start`` and before ``cutoff`` (the
    closed days) into the window's chunks; rows moved."""
    taken = _take(session, level, start, min(start + WINDOWS[level], cutoff), sids)
    if not taken:
        return 0
    existing = dict(
        session.execute(
            select(RollupChunkRow.series_id, RollupChunkRow.data)
            .where(RollupChunkRow.series_id.in_(list(taken)), RollupChunkRow.level == level,
                   RollupChunkRow.window_start == start)
            .with_for_update()
        ).all()
    )  # fmt: skip
    rows = []
    for sid, columns in taken.items():
        if sid in existing:
            old = codec.decode_columns(existing[sid])
            columns = [np.concatenate([a, b]) for a, b in zip(old, columns, strict=True)]
        order = np.argsort(columns[0], kind="stable")
        columns = [values[order] for values in columns]
        last = np.ones(len(columns[0]), dtype=bool)
        last[:-1] = columns[0][1:] != columns[0][:-1]
        columns = [values[last] for values in columns]
        rows.append({"series_id": sid, "level": level, "window_start": start,
                     "count": len(columns[0]), "data": codec.encode_columns(columns)})  # fmt: skip
    statement = dialect_insert(session, RollupChunkRow.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["series_id", "level", "window_start"],
        set_={"count": statement.excluded["count"], "data": statement.excluded["data"]},
    )
    session.execute(statement, rows)
    return sum(len(columns[0]) for columns in taken.values())


def _take(
    session: Session, level: int, start: datetime, end: datetime, sids: list[int]
) -> dict[int, list[np.ndarray]]:
    """Delete the rows of ``level`` in [start, end) of these series; their columns."""
    if session.get_bind().dialect.name == "postgresql":
        packed = session.execute(
            _TAKE_POSTGRESQL, {"level": level, "sids": sids, "start": start, "end": end}
        )
        return {
            row[0]: [
                np.frombuffer(blob, ">i8" if name in INTEGERS else ">f8").astype(
                    np.int64 if name in INTEGERS else np.float64
                )
                for name, blob in zip(COLUMNS, row[1:], strict=True)
            ]
            for row in packed
        }
    selected = [epoch_us(getattr(RollupRow, n)) if n in TIMES else getattr(RollupRow, n)
                for n in COLUMNS]  # fmt: skip
    taken = session.execute(
        delete(RollupRow)
        .where(RollupRow.level == level, RollupRow.series_id.in_(sids),
               RollupRow.bucket >= start, RollupRow.bucket < end)
        .returning(RollupRow.series_id, *selected)
    ).all()  # fmt: skip
    lists: dict[int, list[list[Any]]] = defaultdict(lambda: [[] for _ in COLUMNS])
    for sid, *values in taken:
        for values_of, value in zip(lists[sid], values, strict=True):
            values_of.append(value)
    return {
        sid: [np.array(col, dtype=np.int64 if name in INTEGERS else np.float64)
              for name, col in zip(COLUMNS, cols, strict=True)]
        for sid, cols in lists.items()
    }  # fmt: skip
