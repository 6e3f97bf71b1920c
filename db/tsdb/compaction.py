"""Compaction: closed windows of hot rows become one compressed chunk per series and day
(rollups: per series and their level's window, see :data:`db.tsdb.rollup_chunks.WINDOWS`).

A window is closed once its day ended more than ``delay`` ago. Each series-window is
moved in one transaction: ``DELETE ... RETURNING`` takes exactly the rows it removes
(rows written meanwhile stay hot), they are merged with the window's existing chunk
(a hot row wins over the chunk's point at the same time: last write wins) and the
chunk is written back. Killed halfway, the transaction rolls back: nothing is lost or
doubled, and the next run starts over. Running it again finds nothing to do.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import delete, func, literal, select, text
from sqlalchemy.orm import Session

from db import pacing
from db.engine import dialect_insert
from db.sqlfunctions import epoch_us
from db.tsdb import codec, rollup_chunks
from db.tsdb.chunks import WINDOW, lock_tiers, window_of
from db.tsdb.models import ChunkRow, PointRow, SeriesRow
from db.types import EPOCH, Timestamp, from_epoch_us, utcnow

DEFAULT_DELAY = timedelta(hours=1)
ROLLUP_LEVELS = tuple(rollup_chunks.WINDOWS)
SERIES_PER_STATEMENT = 100  # a day of 100 series at 10 s: about 14 MB back from one DELETE
SQLITE_SERIES_PER_STATEMENT = 4  # a day of 4 series at 10 s: a fraction of a second's work
POINTS_PER_TRANSACTION = 1_000_000  # a few seconds of work, then the transaction commits
CHUNK_COLUMNS = ("min_ts", "max_ts", "count", "ts_blob", "value_blob")


def pending_windows(session: Session, cutoff: datetime, limit: int) -> dict[datetime, list[int]]:
    """Up to ``limit`` (window, series) pairs with hot rows before ``cutoff``, oldest first.

    Index probes per series, not a scan of the row table, narrowest first: the two days
    from the series' newest chunk on (late rows into that day, else the next day: a
    backlog being caught up), then everything from that chunk on, and only when nothing
    is left there, from the beginning (late writes into older compacted days). A wide
    probe on PostgreSQL reads the first index entry of every daily partition it spans
    (about 1 ms a series over 90 days); the narrow one touches two (PostgreSQL only: on
    SQLite every probe is one index seek).
    """

    def oldest_in(floor: Any, end: Any = None) -> Any:
        reach = [] if end is None else [PointRow.ts < end]
        return (
            select(func.min(PointRow.ts))
            .where(PointRow.series_id == SeriesRow.id, PointRow.ts >= floor,
                   PointRow.ts < cutoff, *reach)
            .correlate(SeriesRow)
            .scalar_subquery()
        )  # fmt: skip

    newest_chunk = (
        select(func.max(ChunkRow.window_start))
        .where(ChunkRow.series_id == SeriesRow.id)
        .correlate(SeriesRow)
        .scalar_subquery()
    )
    frontier = func.coalesce(newest_chunk, literal(EPOCH, Timestamp()))
    probes = [oldest_in(frontier), oldest_in(literal(EPOCH, Timestamp()))]
    if session.get_bind().dialect.name == "postgresql":  # SQLite: one table, one seek
        probes.insert(0, oldest_in(frontier, frontier + literal(2 * WINDOW)))
    oldest = func.coalesce(*probes)  # SQL's COALESCE stops at the first probe that finds
    found = session.execute(select(SeriesRow.id, oldest.label("oldest"))).all()
    pairs = sorted((window_of(ts), sid) for sid, ts in found if ts is not None)[:limit]
    windows: dict[datetime, list[int]] = defaultdict(list)
    for start, sid in pairs:
        windows[start].append(sid)
    return windows


def compact(
    session: Session,
    *,
    now: datetime | None = None,
    delay: timedelta = DEFAULT_DELAY,
    limit: int = 5_000,
    max_points: int = POINTS_PER_TRANSACTION,
    deadline: float | None = None,
) -> int:
    """Compact closed series-windows of points, then of each rollup level, in this
    transaction, oldest first, each tier up to ``limit`` series-windows or until it moved
    ``max_points`` rows; returns the points and rollup rows moved. Every tier closes by
    day: rows before the start of the day ``delay`` ago move (into a rollup level's wider
    window too, merged with what it holds already).

    With a ``deadline`` (``time.monotonic()``, see :func:`db.pacing.slice_deadline`) it
    stops at the first statement boundary past it, after one statement at least: on
    SQLite, writers wait for this transaction to end. Call until it returns 0 to catch up
    (``dashapp compact`` and the worker do, one transaction per call).
    """
    lock_tiers(session, exclusive=True)
    cutoff = window_of((now or utcnow()) - delay)
    per_statement = (
        SQLITE_SERIES_PER_STATEMENT if pacing.one_writer(session) else SERIES_PER_STATEMENT
    )
    moved = _drain(
        lambda budget: pending_windows(session, cutoff, budget),
        lambda start, sids: compact_window(session, start, sids),
        limit, max_points, per_statement, deadline,
    )  # fmt: skip
    for level in ROLLUP_LEVELS:
        if moved and pacing.past(deadline):
            return moved
        moved += _drain(
            lambda budget, level=level: rollup_chunks.pending_windows(
                session, level, cutoff, budget
            ),
            lambda start, sids, level=level: rollup_chunks.compact_window(
                session, level, start, sids, cutoff
            ),
            limit, max_points, per_statement, deadline,
        )  # fmt: skip
    return moved


def _drain(
    probe: Callable[[int], dict[datetime, list[int]]],
    move: Callable[[datetime, list[int]], int],
    limit: int,
    max_points: int,
    per_statement: int = SERIES_PER_STATEMENT,
    deadline: float | None = None,
) -> int:
    """Move the windows ``probe`` finds (each round the oldest pending window of every
    series), ``per_statement`` series at a time, until ``limit`` series-windows or
    ``max_points`` rows moved, or past ``deadline``; returns the rows moved. One probe
    serves up to ``limit`` series-windows: on a backlog it costs more than moving a
    sparse series' day."""
    moved, budget = 0, limit
    while budget > 0 and moved < max_points:
        windows = probe(budget)
        if not windows:
            break
        for start, sids in sorted(windows.items()):
            for first in range(0, len(sids), per_statement):
                if moved >= max_points or (moved and pacing.past(deadline)):
                    return moved
                batch = sids[first : first + per_statement]
                moved += move(start, batch)
                budget -= len(batch)
    return moved


def compact_window(session: Session, start: datetime, sids: list[int]) -> int:
    """Move the hot rows of these series in the window at ``start`` into their chunks."""
    hot = _take_rows(session, start, sids)
    if not hot:
        return 0
    existing_rows = select(ChunkRow.series_id, ChunkRow.ts_blob, ChunkRow.value_blob).where(
        ChunkRow.series_id.in_(list(hot)), ChunkRow.window_start == start
    )
    existing = {row[0]: row for row in session.execute(existing_rows.with_for_update())}
    rows = []
    for sid, (times, numbers) in hot.items():
        if sid in existing:
            _, ts_blob, value_blob = existing[sid]
            times = np.concatenate([codec.decode_times(ts_blob), times])
            numbers = np.concatenate([codec.decode_values(value_blob), numbers])
        times, numbers = merge_last_wins(times, numbers)
        rows.append(
            {
                "series_id": sid,
                "window_start": start,
                "min_ts": from_epoch_us(int(times[0])),
                "max_ts": from_epoch_us(int(times[-1])),
                "count": len(times),
                "ts_blob": codec.encode_times(times),
                "value_blob": codec.encode_values(numbers),
            }
        )
    statement = dialect_insert(session, ChunkRow.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["series_id", "window_start"],
        set_={name: statement.excluded[name] for name in CHUNK_COLUMNS},
    )
    session.execute(statement, rows)
    return sum(len(times) for times, _ in hot.values())


_TAKE_POSTGRESQL = text(
    "WITH taken AS (DELETE FROM metric_points WHERE series_id = ANY(:sids) "
    "AND ts >= :start AND ts < :end RETURNING series_id, ts, value) "
    "SELECT series_id, "
    "string_agg(int8send((EXTRACT(EPOCH FROM ts) * 1000000)::bigint), ''::bytea ORDER BY ts), "
    "string_agg(float8send(value), ''::bytea ORDER BY ts) FROM taken GROUP BY series_id"
)


def _take_rows(
    session: Session, start: datetime, sids: list[int]
) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Delete the hot rows of these series in the window; their (times, values) by series.

    On PostgreSQL the deleted rows come back packed per series (``int8send`` and
    ``float8send`` concatenated), read with ``numpy.frombuffer``: no Python object per
    point, which made compaction about twice as fast.
    """
    end = start + WINDOW
    if session.get_bind().dialect.name == "postgresql":
        packed = session.execute(_TAKE_POSTGRESQL, {"sids": sids, "start": start, "end": end})
        return {
            sid: (np.frombuffer(times, ">i8").astype(np.int64),
                  np.frombuffer(values, ">f8").astype(np.float64))
            for sid, times, values in packed
        }  # fmt: skip
    taken = session.execute(
        delete(PointRow)
        .where(PointRow.series_id.in_(sids), PointRow.ts >= start, PointRow.ts < end)
        .returning(PointRow.series_id, epoch_us(PointRow.ts), PointRow.value)
    ).all()
    lists: dict[int, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
    for sid, micros, value in taken:
        lists[sid][0].append(micros)
        lists[sid][1].append(value)
    return {
        sid: (np.array(times, dtype=np.int64), np.array(values, dtype=np.float64))
        for sid, (times, values) in lists.items()
    }


def merge_last_wins(times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort by time; of points sharing a time, keep the one that came last in the input."""
    order = np.argsort(times, kind="stable")
    times, values = times[order], values[order]
    last = np.ones(len(times), dtype=bool)
    last[:-1] = times[1:] != times[:-1]
    return times[last], values[last]
