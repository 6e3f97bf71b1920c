"""Reading points from both tiers: hot rows (``metric_points``) and compacted chunks.

A query reads only the chunks of its series whose window overlaps its range (the
primary key is (series_id, window_start)), decodes them, keeps the points inside the
range and drops any a hot row overrides (a late write into a compacted window: the
newest write wins, as in the row table). The decoded points join the hot rows in SQL
as one more row source, so every aggregation runs on the same statement either way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import orjson
from sqlalchemy import (
    BigInteger,
    Float,
    Select,
    and_,
    func,
    literal,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from db.sqlfunctions import BucketStep, epoch_us, int_array, int_list
from db.tsdb import codec, pgarrays
from db.tsdb.models import ChunkRow, PointRow, SeriesRow
from db.types import EPOCH, Timestamp, to_epoch_us

WINDOW = timedelta(days=1)
"""Width of a chunk's window: one UTC day of one series (measured: 2.5 bytes per point
per day against 2.8 per hour, and 24 times fewer rows to find)."""
WINDOW_US = WINDOW // timedelta(microseconds=1)

Span = tuple[int, datetime, datetime]
"""(series id, start, end): a half-open time range of one series."""


CLOCK_SKEW = timedelta(minutes=10)
"""How far a worker's clock may run ahead of a reader's."""

STORAGE_LOCK = 0x64617368
"""PostgreSQL advisory lock key: compaction holds it exclusive, multi-statement readers shared."""


def lock_tiers(session: Session, exclusive: bool) -> None:
    """Keep compaction from moving rows under a multi-statement reader of both tiers.

    Rollup refresh reads chunks, then hot rows, in separate statements; a compaction
    committing in between would hide the points it moved. On PostgreSQL refreshes hold
    the lock shared and compaction exclusive until their transactions end; SQLite has
    one writer at a time already.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    session.execute(text(f"SELECT {function}(:key)"), {"key": STORAGE_LOCK})


def window_of(ts: datetime, width: timedelta = WINDOW) -> datetime:
    """Start of the ``width``-wide chunk window holding ``ts`` (windows are aligned to the
    epoch: a day for points, a level's own width for rollups)."""
    width_us = width // timedelta(microseconds=1)
    return EPOCH + timedelta(microseconds=to_epoch_us(ts) // width_us * width_us)


@dataclass(frozen=True)
class ColdPoints:
    """Decoded chunk points as aligned arrays, sorted by series then time. ``exact`` marks
    points of windows that hot rows override in part (kept apart when pre-aggregating)."""

    sids: np.ndarray
    micros: np.ndarray
    values: np.ndarray
    exact: np.ndarray

    def __len__(self) -> int:
        return len(self.sids)


EMPTY = ColdPoints(
    np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64), np.empty(0, bool)
)


def _by_range(spans: Iterable[Span]) -> dict[tuple[datetime, datetime], list[int]]:
    grouped: dict[tuple[datetime, datetime], list[int]] = defaultdict(list)
    for sid, start, end in spans:
        grouped[(start, end)].append(sid)
    return grouped


def chunks_overlapping(session: Session, spans: Sequence[Span]) -> list[Any]:
    """The chunk rows overlapping any of ``spans``: series id, window start, blobs, and the
    times of hot rows inside the chunk's window (late writes, usually none: None)."""
    if not spans:
        return []
    wanted = [
        and_(
            ChunkRow.series_id.in_(sids),
            ChunkRow.window_start >= window_of(start),
            ChunkRow.window_start < end,
        )
        for (start, end), sids in _by_range(spans).items()
    ]
    # In the same statement (one round trip): an index probe per chunk.
    hot = (
        select(int_list(epoch_us(PointRow.ts)))
        .where(
            PointRow.series_id == ChunkRow.series_id,
            PointRow.ts >= ChunkRow.window_start,
            PointRow.ts < ChunkRow.window_start + literal(WINDOW, BucketStep()),
        )
        .correlate(ChunkRow)
        .scalar_subquery()
    )
    columns = (ChunkRow.series_id, ChunkRow.window_start, ChunkRow.ts_blob, ChunkRow.value_blob)
    rows = session.connection().execute(
        select(*columns, hot)
        .where(or_(*wanted))
        .order_by(ChunkRow.series_id, ChunkRow.window_start)
    )
    return [(*row[:4], int_array(row[4])) for row in rows]


def may_hold_chunks(spans: Sequence[Span], now: datetime | None = None) -> bool:
    """Whether compacted chunks may hold points of ``spans``. Compaction only closes
    windows before the current one (``window_of(now - COMPACT_AFTER)``), so spans inside
    the current day (a refresh's recent minutes) need no chunk lookup, except within
    :data:`CLOCK_SKEW` of midnight, when a worker's clock may already be in the next day."""
    closed_before = window_of((now or datetime.now(UTC)) + CLOCK_SKEW)
    return any(start < closed_before for _, start, _ in spans)


def cold_points(session: Session, spans: Sequence[Span]) -> ColdPoints:
    """Points of compacted chunks inside ``spans`` that no hot row overrides."""
    if not may_hold_chunks(spans):
        return EMPTY
    rows = chunks_overlapping(session, spans)
    if not rows:
        return EMPTY
    limits = span_limits(spans)
    sids, micros, values, exact = [], [], [], []
    for sid, window_start, ts_blob, value_blob, hot in rows:
        times = codec.decode_times(ts_blob)
        keep = inside(times, to_epoch_us(window_start), limits[sid])
        if hot is not None:
            fresh = ~np.isin(times, hot)
            keep = fresh if keep is None else keep & fresh
        chosen = times if keep is None else times[keep]
        if not len(chosen):
            continue
        decoded = codec.decode_values(value_blob)
        sids.append(np.full(len(chosen), sid, dtype=np.int64))
        micros.append(chosen)
        values.append(decoded if keep is None else decoded[keep])
        exact.append(np.full(len(chosen), hot is not None))
    if not sids:
        return EMPTY
    return ColdPoints(*(np.concatenate(parts) for parts in (sids, micros, values, exact)))


def span_limits(spans: Sequence[Span]) -> dict[int, list[tuple[int, int]]]:
    """Each series' [start, end) ranges in epoch microseconds."""
    limits: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for sid, start, end in spans:
        limits[sid].append((to_epoch_us(start), to_epoch_us(end)))
    return limits


def inside(
    times: np.ndarray, window_us: int, ranges: list[tuple[int, int]], width_us: int = WINDOW_US
) -> np.ndarray | None:
    """Which of a window's ``times`` fall in ``ranges``; None if the whole window (at
    ``window_us``, ``width_us`` wide) does."""
    if any(start <= window_us and window_us + width_us <= end for start, end in ranges):
        return None
    keep = np.zeros(len(times), dtype=bool)
    for start, end in ranges:
        keep |= (times >= start) & (times < end)
    return keep


def _cold_select(session: Session, cold: ColdPoints) -> Any:
    """A row source of (series_id, ts, value) holding the decoded points."""
    if session.get_bind().dialect.name == "postgresql":
        # unnest in the select list walks the arrays in step, row by row; in FROM it
        # materialises each array first (measured: 2.3 times slower for three arrays).
        # Points of one series (sorted by series: first == last) send its id once.
        one = cold.sids[0] == cold.sids[-1]
        sids = "CAST(:cold_sids AS bigint)" if one else "unnest(CAST(:cold_sids AS bigint[]))"
        statement = text(
            f"SELECT {sids} AS series_id, unnest(CAST(:cold_ts AS timestamptz[])) AS ts, "
            "unnest(CAST(:cold_values AS float8[])) AS value"
        ).bindparams(
            cold_sids=int(cold.sids[0]) if one else pgarrays.int8s(cold.sids),
            cold_ts=pgarrays.timestamps(cold.micros),
            cold_values=pgarrays.float8s(cold.values),
        )
    else:
        triples = np.empty((len(cold), 3), dtype=object)
        triples[:, 0], triples[:, 1], triples[:, 2] = cold.sids, cold.micros, cold.values
        statement = text(
            "SELECT json_extract(j.value, '$[0]') AS series_id, "
            "json_extract(j.value, '$[1]') AS ts, json_extract(j.value, '$[2]') AS value "
            "FROM json_each(:cold_points) AS j"
        ).bindparams(cold_points=orjson.dumps(triples.tolist()).decode())
    return statement.columns(series_id=BigInteger(), ts=Timestamp(), value=Float(precision=53))


def hot_points(spans: Sequence[Span]) -> Select[Any]:
    """The hot rows inside ``spans``: columns series_id, ts, value."""
    inside_spans = [
        and_(PointRow.series_id.in_(sids), PointRow.ts >= start, PointRow.ts < end)
        for (start, end), sids in _by_range(spans).items()
    ]
    return select(PointRow.series_id, PointRow.ts, PointRow.value).where(
        inside_spans[0] if len(inside_spans) == 1 else or_(*inside_spans)
    )


def points_source(session: Session, spans: Sequence[Span]) -> Subquery:
    """Every point inside ``spans``, from hot rows and chunks: columns series_id, ts, value."""
    return with_cold(session, hot_points(spans), cold_points(session, spans))


def with_cold(session: Session, hot: Select[Any], cold: ColdPoints) -> Subquery:
    """Hot rows (series_id, ts, value) and decoded points as one row source."""
    if not len(cold):
        return hot.subquery()
    cold_rows = _cold_select(session, cold).subquery()
    c = cold_rows.c
    return union_all(hot, select(c.series_id, c.ts, c.value)).subquery()


def newest_points(session: Session, series_ids: Sequence[int]) -> dict[int, tuple[datetime, float]]:
    """The last point of each series' newest chunk (series without chunks are left out)."""
    if not series_ids:
        return {}
    newest = (  # one backward index probe per series
        select(func.max(ChunkRow.window_start))
        .where(ChunkRow.series_id == SeriesRow.id)
        .correlate(SeriesRow)
        .scalar_subquery()
    )
    rows = session.execute(
        select(ChunkRow.series_id, ChunkRow.ts_blob, ChunkRow.value_blob)
        .join(SeriesRow, ChunkRow.series_id == SeriesRow.id)
        .where(SeriesRow.id.in_(list(series_ids)), ChunkRow.window_start == newest)
    )
    found = {}
    for sid, ts_blob, value_blob in rows:
        times, values = codec.decode_times(ts_blob), codec.decode_values(value_blob)
        found[sid] = (EPOCH + timedelta(microseconds=int(times[-1])), float(values[-1]))
    return found


def oldest_times(session: Session, series_ids: Sequence[int]) -> dict[int, datetime]:
    """The time of each series' oldest stored point, hot or compacted (index probes only)."""
    if not series_ids:
        return {}
    hot = (
        select(func.min(PointRow.ts))
        .where(PointRow.series_id == SeriesRow.id)
        .correlate(SeriesRow)
        .scalar_subquery()
    )
    cold = (
        select(ChunkRow.min_ts)
        .where(ChunkRow.series_id == SeriesRow.id)
        .order_by(ChunkRow.window_start)
        .limit(1)
        .correlate(SeriesRow)
        .scalar_subquery()
    )
    rows = session.execute(
        select(SeriesRow.id, hot, cold).where(SeriesRow.id.in_(list(series_ids)))
    )
    found = {}
    for sid, *times in rows:
        known = [ts for ts in times if ts is not None]
        if known:
            found[sid] = min(known)
    return found
