"""Rollups of closed windows, compacted like points: one row per series, level and day.

Rollup rows are the bulk of a database of 10 s data (a per-minute row is wider than
six points' worth of chunk), so compaction moves them too (``DELETE ... RETURNING``,
merged with the window's chunk, bucket rows written later winning), and readers
see rows and chunks as one source, exactly like :mod:`db.chunks` does for points.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import orjson
from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
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

from db import codec
from db.chunks import WINDOW, WINDOW_US, Span, _array_literal, _by_range, window_of
from db.engine import dialect_insert
from db.models import RollupChunkRow, RollupRow, SeriesRow
from db.sqlfunctions import epoch_us
from db.types import EPOCH, Timestamp, to_epoch_us

COLUMNS = ("bucket", "count", "sum", "min", "max", "first", "last",
           "first_ts", "last_ts", "min_ts", "max_ts", "increase")  # fmt: skip
"""What a rollup chunk stores per bucket (SHAPE of db/rollups.py, after the bucket)."""
TIMES = frozenset({"bucket", "first_ts", "last_ts", "min_ts", "max_ts"})
INTEGERS = TIMES | {"count"}


def rollup_source(session: Session, level: int, spans: Sequence[Span]) -> Subquery:
    """Rollup rows of ``level`` seconds inside ``spans``, from rows and chunks.

    Columns: series_id, ts (the bucket), then count .. increase.
    """
    ranges = _by_range(spans)
    inside = [
        and_(RollupRow.series_id.in_(sids), RollupRow.bucket >= start, RollupRow.bucket < end)
        for (start, end), sids in ranges.items()
    ]
    hot = select(
        RollupRow.series_id,
        RollupRow.bucket.label("ts"),
        *(getattr(RollupRow, name) for name in COLUMNS[1:]),
    ).where(RollupRow.level == level, inside[0] if len(inside) == 1 else or_(*inside))
    sids, cold = _cold(session, level, spans)
    if not len(sids):
        return hot.subquery()
    rows = _cold_select(session, sids, cold).subquery()
    return union_all(hot, select(*rows.c)).subquery()


def _cold(session: Session, level: int, spans: Sequence[Span]) -> tuple[np.ndarray, list[Any]]:
    """Series ids and decoded columns of chunk buckets inside ``spans`` not overridden."""
    wanted = [
        and_(RollupChunkRow.series_id.in_(sids), RollupChunkRow.window_start >= window_of(start),
             RollupChunkRow.window_start < end)
        for (start, end), sids in _by_range(spans).items()
    ]  # fmt: skip
    found = session.execute(
        select(RollupChunkRow.series_id, RollupChunkRow.window_start, RollupChunkRow.data)
        .where(RollupChunkRow.level == level, or_(*wanted))
        .order_by(RollupChunkRow.series_id, RollupChunkRow.window_start)
    ).all()
    if not found:
        return np.empty(0, np.int64), []
    limits: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for sid, start, end in spans:
        limits[sid].append((to_epoch_us(start), to_epoch_us(end)))
    overridden = _row_buckets(session, level, [(sid, start) for sid, start, _ in found])
    sids, parts = [], []
    for sid, start, data in found:
        columns = codec.decode_columns(data)
        buckets = columns[0]
        keep = np.zeros(len(buckets), dtype=bool)
        for low, high in limits[sid]:
            keep |= (buckets >= low) & (buckets < high)
        if (sid, start) in overridden:
            keep &= ~np.isin(buckets, overridden[(sid, start)])
        if keep.any():
            sids.append(np.full(int(keep.sum()), sid, dtype=np.int64))
            parts.append([values[keep] for values in columns])
    if not sids:
        return np.empty(0, np.int64), []
    return np.concatenate(sids), [np.concatenate(cols) for cols in zip(*parts, strict=True)]


def _row_buckets(
    session: Session, level: int, windows: Sequence[tuple[int, datetime]]
) -> dict[tuple[int, datetime], np.ndarray]:
    """Buckets held as rows inside these compacted windows (refreshed after compaction)."""
    # One range over all these windows (a statement shape that stays compiled): rows
    # inside it are only buckets refreshed after their window was compacted.
    sids = sorted({sid for sid, _ in windows})
    first = min(start for _, start in windows)
    last = max(start for _, start in windows) + WINDOW
    rows = session.execute(
        select(RollupRow.series_id, epoch_us(RollupRow.bucket)).where(
            RollupRow.level == level, RollupRow.series_id.in_(sids),
            RollupRow.bucket >= first, RollupRow.bucket < last,
        )
    )  # fmt: skip
    found: dict[tuple[int, datetime], list[int]] = defaultdict(list)
    for sid, micros in rows:
        found[(sid, EPOCH + timedelta(microseconds=micros // WINDOW_US * WINDOW_US))].append(micros)
    return {key: np.array(value, dtype=np.int64) for key, value in found.items()}


def _cold_select(session: Session, sids: np.ndarray, columns: list[np.ndarray]) -> Any:
    names = ["series_id", *COLUMNS]
    types: dict[str, Any] = {name: Float(precision=53) for name in names}
    types.update({name: Timestamp() for name in TIMES}, series_id=BigInteger(), count=Integer())
    types["ts"] = types.pop("bucket")
    if session.get_bind().dialect.name == "postgresql":
        arrays, params = [], {}
        for index, (name, values) in enumerate(zip(names, [sids, *columns], strict=True)):
            # count as integer like the rows' column: sum(bigint) would be numeric.
            kind = {"count": "integer"}.get(name, "bigint" if name in INTEGERS | {"series_id"}
                                            else "float8")  # fmt: skip
            arrays.append(f"CAST(:rc{index} AS {kind}[])")
            params[f"rc{index}"] = _array_literal(
                map(repr if kind == "float8" else str, values.tolist())
            )
        selected = [
            f"TIMESTAMPTZ 'epoch' + u.{name} * INTERVAL '1 microsecond' AS "
            + ("ts" if name == "bucket" else name)
            if name in TIMES else f'u."{name}" AS "{name}"'
            for name in names
        ]  # fmt: skip
        statement = text(
            f"SELECT {', '.join(selected)} FROM unnest({', '.join(arrays)}) AS u("
            + ", ".join(f'"{name}"' for name in names) + ")"
        ).bindparams(**params)  # fmt: skip
    else:
        table = np.empty((len(sids), len(names)), dtype=object)
        for index, values in enumerate([sids, *columns]):
            table[:, index] = values
        selected = [
            f"json_extract(j.value, '$[{i}]') AS " + ("ts" if n == "bucket" else f'"{n}"')
            for i, n in enumerate(names)
        ]
        statement = text(
            f"SELECT {', '.join(selected)} FROM json_each(:rollup_chunks) AS j"
        ).bindparams(rollup_chunks=orjson.dumps(table.tolist()).decode())
    order = ["series_id", "ts", *COLUMNS[1:]]
    return statement.columns(*(column(name, types[name]) for name in order))


def pending_windows(
    session: Session, level: int, cutoff: datetime, limit: int
) -> dict[datetime, list[int]]:
    """Up to ``limit`` (window, series) pairs with rollup rows of ``level`` before ``cutoff``
    (probed from the newest rollup chunk on first, like :func:`db.compaction.pending_windows`)."""

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
    pairs = sorted((window_of(ts), sid) for sid, ts in found if ts is not None)[:limit]
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


def compact_window(session: Session, level: int, start: datetime, sids: list[int]) -> int:
    """Move rollup rows of ``level`` in the window at ``start`` into chunks; rows moved."""
    taken = _take(session, level, start, sids)
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
    session: Session, level: int, start: datetime, sids: list[int]
) -> dict[int, list[np.ndarray]]:
    end = start + WINDOW
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
