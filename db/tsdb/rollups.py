"""Rollups: per-minute and per-hour aggregates that long-range queries read instead of points.

Writes mark the (series, hour) pairs they touch in ``rollup_pending``; :func:`refresh`
recomputes those hours from the raw points (idempotently, so retried or overwritten
points never double count). The query engine only reads rollups for series with
nothing pending in the range, so a late refresh costs speed, never correctness.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, func, literal, select, text, tuple_, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from dashapp.core.timerange import TimeRange, floor_time
from db.engine import dialect_insert
from db.sqlfunctions import first_by, last_by, time_bucket
from db.tsdb import chunks, prebuckets, rollup_chunks
from db.tsdb.models import RollupChunkRow, RollupPendingRow, RollupRow, SeriesRow
from db.types import to_epoch_us

HOUR = timedelta(hours=1)
LEVELS = (timedelta(hours=1), timedelta(minutes=1))
"""Rollup bucket widths, coarsest first; each is built from the next finer one."""
RANGES_PER_STATEMENT = 200

_QUEUE_HOURS = text(
    "WITH wanted AS (SELECT series_id, to_timestamp(hour) AS hour FROM unnest("
    "CAST(:sids AS bigint[]), CAST(:hours AS bigint[])) AS w (series_id, hour)), "
    # Hours already queued are only locked (KEY SHARE: batches of one hour do not wait
    # for each other, a refresh's claim skips them until this commits), not rewritten:
    # the usual batch finds its hours queued, and rewriting them left a dead row each.
    # A lock on a row a refresh is deleting waits for it; the row is then gone and
    # inserted again below, so the hour is queued for the points this write adds.
    "held AS MATERIALIZED (SELECT p.series_id, p.hour FROM rollup_pending AS p "
    "JOIN wanted AS w ON p.series_id = w.series_id AND p.hour = w.hour "
    "ORDER BY p.series_id, p.hour FOR KEY SHARE OF p) "
    "INSERT INTO rollup_pending (series_id, hour) "
    "SELECT w.series_id, w.hour FROM wanted AS w WHERE NOT EXISTS (SELECT FROM held AS h "
    "WHERE h.series_id = w.series_id AND h.hour = w.hour) "
    # DO UPDATE, not DO NOTHING: a row queued meanwhile is locked the same way.
    "ON CONFLICT (series_id, hour) DO UPDATE SET hour = EXCLUDED.hour"
)


def touched_hours(sids: Sequence[int], stamps: Sequence[datetime]) -> set[tuple[int, datetime]]:
    """(series id, start of hour) of every point, for the rollup queue (few per batch)."""
    hour_of = {
        ts: (ts if ts.tzinfo else ts.replace(tzinfo=UTC))
        .astimezone(UTC)
        .replace(minute=0, second=0, microsecond=0)
        for ts in set(stamps)
    }
    hours = set(hour_of.values())
    if len(hours) == 1:  # the usual batch: recent points, all in one hour
        (hour,) = hours
        return {(sid, hour) for sid in set(sids)}
    return set(zip(sids, map(hour_of.__getitem__, stamps), strict=True))


def mark_pending(session: Session, sids: Sequence[int], stamps: Sequence[datetime]) -> None:
    """Queue the hours of these points for a rollup refresh (sorted: stable lock order).

    On PostgreSQL one statement over two arrays (``executemany`` of ~100 rows per batch
    took 13 % of an ingest worker's time), sent as array literals (series ids, hours in
    epoch seconds): psycopg's dumping of lists took another 10 %.
    """
    pairs = sorted(touched_hours(sids, stamps))
    if not pairs:
        return
    if session.get_bind().dialect.name == "postgresql":
        ids, hours = zip(*pairs, strict=True)
        seconds = {hour: str(to_epoch_us(hour) // 1_000_000) for hour in set(hours)}
        sids_text, hours_text = ",".join(map(str, ids)), ",".join(map(seconds.__getitem__, hours))
        session.execute(_QUEUE_HOURS, {"sids": f"{{{sids_text}}}", "hours": f"{{{hours_text}}}"})
        return
    statement = dialect_insert(session, RollupPendingRow.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["series_id", "hour"], set_={"hour": statement.excluded.hour}
    )
    session.execute(statement, [{"series_id": sid, "hour": hour} for sid, hour in pairs])


def level_for(step: timedelta, agg: str) -> timedelta | None:
    """The coarsest rollup level that can answer buckets of ``step``, or None (raw points)."""
    if agg.startswith("p"):  # percentiles need every point
        return None
    for level in LEVELS:
        if step >= level and step % level == timedelta(0):
            return level
    return None


def usable_level(
    session: Session,
    step: timedelta,
    agg: str,
    series_ids: Collection[int],
    window: TimeRange,
) -> timedelta | None:
    """The rollup level to read for this query, or None when raw points must answer it."""
    level = level_for(step, agg)
    if level is not None and has_pending(session, series_ids, window):
        return None
    return level


def describe(level: timedelta | None) -> str:
    """How the inspect view names a source: ``points`` or ``rollups (60 s)``."""
    return "points" if level is None else f"rollups ({int(level.total_seconds())} s)"


def holds(
    session: Session, level: timedelta, series_ids: Collection[int], window: TimeRange
) -> bool:
    """Whether ``level`` has rollups of these series in ``window`` (rows or a chunk whose
    window overlaps it): index probes, for the fallback when raw points are past retention."""
    ids, seconds = list(series_ids), _seconds(level)
    floor = chunks.window_of(window.start, rollup_chunks.WINDOWS[seconds])
    rows = select(RollupRow.series_id).where(
        RollupRow.level == seconds, RollupRow.series_id.in_(ids),
        RollupRow.bucket >= window.start, RollupRow.bucket < window.end,
    )  # fmt: skip
    packed = select(RollupChunkRow.series_id).where(
        RollupChunkRow.level == seconds, RollupChunkRow.series_id.in_(ids),
        RollupChunkRow.window_start >= floor,
        RollupChunkRow.window_start < window.end,
    )  # fmt: skip
    return any(
        session.connection().execute(probe.limit(1)).first() is not None for probe in (rows, packed)
    )


def has_pending(session: Session, series_ids: Collection[int], window: TimeRange) -> bool:
    """Whether any of these series has hours in ``window`` waiting for a refresh."""
    found = (
        session.connection()
        .execute(
            select(RollupPendingRow.series_id)
            .where(
                RollupPendingRow.series_id.in_(list(series_ids)),
                RollupPendingRow.hour >= floor_time(window.start, HOUR),
                RollupPendingRow.hour < window.end,
            )
            .limit(1)
        )
        .first()
    )
    return found is not None


def refresh(
    session: Session,
    metric: str | None = None,
    limit: int | None = None,
    before: datetime | None = None,
) -> int:
    """Recompute rollups for pending hours (of one metric's series, or all; only hours
    starting before ``before`` if given); returns hours done.

    Pending rows are claimed with ``DELETE ... RETURNING``, so concurrent refreshes
    never do the same hour twice, and an ingest committing meanwhile queues it again.
    On PostgreSQL the claim skips rows another transaction holds (``FOR UPDATE SKIP
    LOCKED``): several workers share the queue without waiting for each other or for an
    ingest that is queueing the same hour (that hour waits for the next pass); a worker
    that dies before committing leaves its hours pending for the next one.
    ``limit`` bounds the work (oldest hours first); the rest stays pending.
    """
    pending = RollupPendingRow
    chosen = select(pending.series_id, pending.hour).order_by(pending.hour, pending.series_id)
    if metric is not None:
        ids = select(SeriesRow.id).where(SeriesRow.name == metric)
        chosen = chosen.where(pending.series_id.in_(ids))
    if before is not None:
        chosen = chosen.where(pending.hour < before)
    if limit is not None:
        chosen = chosen.limit(limit)
    chosen = chosen.with_for_update(skip_locked=True)  # a no-op on SQLite (one writer)
    claim = (
        delete(pending)
        .where(tuple_(pending.series_id, pending.hour).in_(chosen))
        .returning(pending.series_id, pending.hour)
    )
    chunks.lock_tiers(session, exclusive=False)
    claimed = sorted(session.execute(claim).all())
    if not claimed:
        return 0
    rebuild(session, list(_contiguous(claimed)))
    return len(claimed)


def rebuild(session: Session, spans: list[Span]) -> None:
    """Recompute every level over these (series id, start, end) spans of whole hours: what
    :func:`refresh` does for the hours it claims, and a bulk load's backfill (series by
    series over their whole range, far faster than the queue's hour by hour)."""
    for level in sorted(LEVELS):  # finest first: each level is built from the one below
        for start in range(0, len(spans), RANGES_PER_STATEMENT):
            _rebuild(session, level, spans[start : start + RANGES_PER_STATEMENT])


def _contiguous(hours: list[Any]) -> Iterator[tuple[int, datetime, datetime]]:
    """Merge sorted (series id, hour) pairs into (series id, start, end) spans."""
    current: list[Any] | None = None
    for sid, hour in hours:
        if current and current[0] == sid and current[2] == hour:
            current[2] = hour + HOUR
            continue
        if current:
            yield tuple(current)  # type: ignore[misc]
        current = [sid, hour, hour + HOUR]
    if current:
        yield tuple(current)  # type: ignore[misc]


Span = tuple[int, datetime, datetime]
SHAPE = (
    "count", "sum", "min", "max", "first", "last",
    "first_ts", "last_ts", "min_ts", "max_ts", "increase",
)  # fmt: skip
"""The columns of a rollup row; a raw point is a rollup of one point."""


def covering(
    session: Session, level: timedelta | None, series_ids: Iterable[int], window: TimeRange
) -> Subquery:
    """The rows of these series in ``window`` at ``level``: raw points from both storage
    tiers (hot rows and compacted chunks), or one rollup level."""
    ids = list(series_ids)
    if level is None:
        return chunks.points_source(session, [(sid, window.start, window.end) for sid in ids])
    spans = [(sid, window.start, window.end) for sid in ids]
    return rollup_chunks.rollup_source(session, _seconds(level), spans)


def shaped_rows(
    level: timedelta | None,
    step: timedelta,
    source: Subquery,
    group: Mapping[int, int] | None = None,
) -> Subquery:
    """Rollup-shaped rows (raw points or a rollup level), tagged with bucket ``t`` of ``step``.

    ``source`` comes from :func:`covering`. Columns: ``sid``, group ``g`` (the series id,
    or its position in ``group``), ``t``, ``ts`` (the row's own time) and :data:`SHAPE`,
    plus ``value`` for raw points.
    """
    c = source.c
    shape = _point_shape(c) if level is None else {name: c[name] for name in SHAPE}
    return _tagged(c, step, group, shape)


@dataclass(frozen=True)
class Compacted:
    """What a question at ``level`` (None: raw points) reads from chunks: the decoded
    points (raw level) and the rows merged per series, window and bucket of ``step``."""

    level: timedelta | None
    step: timedelta
    spans: list[chunks.Span]
    points: chunks.ColdPoints | None
    rows: prebuckets.ShapedRows


def compacted(
    session: Session,
    level: timedelta | None,
    step: timedelta,
    series_ids: Iterable[int],
    window: TimeRange,
    needed: Collection[str] | None = None,
) -> Compacted:
    """The compacted rows of these series in ``window``, merged per bucket of ``step``
    (only the :data:`SHAPE` columns ``needed``, all if None; the others are None)."""
    spans = [(sid, window.start, window.end) for sid in series_ids]
    step_us = step // timedelta(microseconds=1)
    if level is None:
        points = chunks.cold_points(session, spans)
        rows = prebuckets.merge(prebuckets.from_points(points, needed), step_us)
        return Compacted(level, step, spans, points, rows)
    rows = rollup_chunks.cold_rows(session, _seconds(level), spans, needed)
    return Compacted(level, step, spans, None, prebuckets.merge(rows, step_us))


def hot_exists(session: Session, cold: Compacted) -> bool:
    """Whether any hot row (not compacted) falls in the spans ``cold`` was read for."""
    if cold.level is None:
        hot = chunks.hot_points(cold.spans)
    else:
        hot = rollup_chunks.hot_rows(_seconds(cold.level), cold.spans)
    return bool(session.execute(select(hot.exists())).scalar())


def shaped_with(
    session: Session, cold: Compacted, group: Mapping[int, int] | None = None
) -> Subquery:
    """What ``shaped_rows(level, step, covering(...), group)`` gives, without ``value``:
    hot rows joined in SQL to the compacted rows ``cold`` read (merged per bucket of the
    step: the same answers from far fewer rows; columns not read are NULL)."""
    points, step, spans = cold.points, cold.step, cold.spans
    if points is not None:
        if not len(points) or len(cold.rows) * 2 > len(points):
            # Nothing or little merged: points travel lighter (3 columns, not 12).
            source = chunks.with_cold(session, chunks.hot_points(spans), points)
            return shaped_rows(None, step, source, group)
        raw = chunks.hot_points(spans).subquery().c
        shape = _point_shape(raw)
        hot = select(raw.series_id, raw.ts, *(shape[name].label(name) for name in SHAPE))
    else:
        assert cold.level is not None
        hot = rollup_chunks.hot_rows(_seconds(cold.level), spans)
    if len(cold.rows):
        rows = rollup_chunks.cold_select(session, cold.rows).subquery()
        source = union_all(hot, select(*rows.c)).subquery()
    else:
        source = hot.subquery()
    return _tagged(source.c, step, group, {name: source.c[name] for name in SHAPE})


def _point_shape(c: Any) -> dict[str, Any]:
    """A raw point (columns ts, value) as a rollup of one point, plus its ``value``."""
    ts, value = c.ts, c.value
    return {
        "count": literal(1), "sum": value, "min": value, "max": value,
        "first": value, "last": value, "first_ts": ts, "last_ts": ts,
        "min_ts": ts, "max_ts": ts, "increase": literal(0.0), "value": value,
    }  # fmt: skip


def _tagged(
    c: Any, step: timedelta, group: Mapping[int, int] | None, shape: Mapping[str, Any]
) -> Subquery:
    series_id = c.series_id
    tag = series_id if group is None else case(dict(group), value=series_id)
    return select(
        series_id.label("sid"),
        tag.label("g"),
        time_bucket(step, c.ts).label("t"),
        c.ts.label("ts"),
        *(column.label(name) for name, column in shape.items()),
    ).subquery()


def _rebuild(session: Session, level: timedelta, spans: list[Span]) -> None:
    """Recompute ``level`` rollups over the spans, from the next finer level (or raw points)."""
    finer = _finer(level)
    if finer is None:
        source = chunks.points_source(session, spans)
    else:
        source = rollup_chunks.rollup_source(session, _seconds(finer), spans)
    rows = shaped_rows(finer, level, source).c
    # Increase between consecutive rows of one bucket (a drop is a counter reset).
    ordered = select(
        rows,
        func.lag(rows.last).over(partition_by=(rows.sid, rows.t), order_by=rows.ts).label("prev"),
    ).subquery()
    c = ordered.c
    between = case((c.prev.is_(None), 0.0), (c.first >= c.prev, c.first - c.prev), else_=c.first)
    columns = {
        "series_id": c.sid,
        "level": literal(_seconds(level)),
        "bucket": c.t,
        "count": func.sum(c.count),
        "sum": func.sum(c.sum),
        "min": func.min(c.min),
        "max": func.max(c.max),
        "first": first_by(c.first, c.first_ts),
        "last": last_by(c.last, c.last_ts),
        "first_ts": func.min(c.first_ts),
        "last_ts": func.max(c.last_ts),
        "min_ts": first_by(c.min_ts, c.min),
        "max_ts": last_by(c.max_ts, c.max),
        "increase": func.sum(c.increase + between),
    }
    aggregated = select(*columns.values()).group_by(c.sid, c.t)
    statement = dialect_insert(session, RollupRow.__table__).from_select(list(columns), aggregated)
    statement = statement.on_conflict_do_update(
        index_elements=["series_id", "level", "bucket"],
        set_={name: statement.excluded[name] for name in SHAPE},
    )
    session.execute(statement)


def _finer(level: timedelta) -> timedelta | None:
    """The level a rollup is built from: the next finer one, or raw points for the finest."""
    finer = [candidate for candidate in LEVELS if candidate < level]
    return max(finer) if finer else None


def _seconds(level: timedelta) -> int:
    return int(level.total_seconds())
