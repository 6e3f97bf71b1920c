"""Metrics repository: the series catalog and idempotent point writes (queries: db/tsdb/query.py).

Functions take a Session, return frozen dataclasses and never commit.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from itertools import repeat

import psycopg
from sqlalchemy import and_, func, select, tuple_
from sqlalchemy.orm import Session

from dashapp.core.keys import SeriesKey, series_key
from dashapp.core.results import Catalog, LastPoint, SeriesInfo
from db.engine import dialect_insert
from db.tsdb import chunks, rollups
from db.tsdb.models import ChunkRow, PointRow, SeriesRow
from db.types import utcnow

PointTuple = tuple[int, datetime, float]
"""(series id, timestamp, value): one point ready to be written."""


def resolve_series(session: Session, keys: Collection[SeriesKey]) -> dict[SeriesKey, int]:
    """Ids of the series named by ``keys``, creating those that do not exist yet."""
    if not keys:
        return {}
    now = utcnow()
    rows = [  # sorted: concurrent batches lock the unique index in the same order
        {"name": name, "source": source, "labels": json.loads(labels), "created_at": now}
        for name, source, labels in sorted(keys)
    ]
    table = SeriesRow.__table__
    statement = dialect_insert(session, table).on_conflict_do_nothing(
        index_elements=["name", "source", "labels"]
    )
    session.execute(statement, rows)
    wanted = set(keys)
    names = sorted({name for name, _, _ in keys})
    found = session.execute(
        select(SeriesRow.id, SeriesRow.name, SeriesRow.source, SeriesRow.labels).where(
            SeriesRow.name.in_(names)
        )
    )
    ids = {}
    for row in found:
        key = series_key(row.name, row.source, row.labels)
        if key in wanted:
            ids[key] = row.id
    return ids


def write_points(session: Session, points: Iterable[PointTuple]) -> int:
    """Upsert points; the same (series, ts) twice keeps the last value. Returns rows written.

    PostgreSQL: binary COPY straight into ``metric_points``, or, when some points exist
    already, into a temporary staging table and then one ``INSERT ... SELECT ... ON
    CONFLICT DO UPDATE``. SQLite: ``executemany`` upsert. Either way the touched hours
    are queued for a rollup refresh.
    """
    unique = {(sid, ts): value for sid, ts, value in points}
    if not unique:
        return 0
    sids, stamps = zip(*unique, strict=True)
    if session.get_bind().dialect.name == "postgresql":
        _copy_upsert(session, _binary_copy(sids, stamps, unique.values()))
    else:
        table = PointRow.__table__
        statement = dialect_insert(session, table)
        statement = statement.on_conflict_do_update(
            index_elements=["series_id", "ts"], set_={"value": statement.excluded.value}
        )
        session.execute(
            statement,
            [{"series_id": s, "ts": t, "value": v} for (s, t), v in unique.items()],
        )
    rollups.mark_pending(session, sids, stamps)
    return len(unique)


_STAGING_DDL = (
    "CREATE TEMP TABLE IF NOT EXISTS dashapp_points_staging "
    "(series_id bigint, ts timestamptz, value float8) ON COMMIT DELETE ROWS"
)
_STAGING_UPSERT = (
    "INSERT INTO metric_points (series_id, ts, value) "
    "SELECT series_id, ts, value FROM dashapp_points_staging "
    "ON CONFLICT (series_id, ts) DO UPDATE SET value = EXCLUDED.value"
)


_COPY_INTO = "COPY {} (series_id, ts, value) FROM STDIN (FORMAT BINARY)"
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension
_COPY_TRAILER = b"\xff\xff"
_COPY_ROW = struct.Struct(">hiqiqid")  # 3 fields: int8 series_id, timestamptz (us), float8
_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _binary_copy(sids: Sequence[int], stamps: Sequence[datetime], values: Iterable[float]) -> bytes:
    """Points in PostgreSQL's binary COPY format, encoded once for either target table.

    Runs at C speed (``map`` over ``struct.pack``): on a 5,000-point batch this is
    about a third of the time of a Python loop of ``copy.write_row`` calls.
    """
    # A batch repeats few timestamps across its series: convert each distinct one once.
    micros = {ts: (_aware(ts) - _PG_EPOCH) // _MICROSECOND for ts in set(stamps)}
    rows = map(
        _COPY_ROW.pack, repeat(3), repeat(8), sids, repeat(8),
        map(micros.__getitem__, stamps), repeat(8), values,
    )  # fmt: skip
    return _COPY_HEADER + b"".join(rows) + _COPY_TRAILER


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _copy_upsert(session: Session, payload: bytes) -> None:
    """COPY straight into ``metric_points``; if any point exists already, upsert instead.

    New points (the common case) then cost what a raw COPY costs: an
    ``INSERT ... ON CONFLICT`` from a staging table measured about 2.5x slower
    here, because PostgreSQL inserts such rows one by one with a speculative index
    check while COPY inserts in batches. A retried batch hits the unique key, rolls
    back to the savepoint and takes the staged upsert, so last write still wins.
    """
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute("SAVEPOINT dashapp_copy")
        try:
            with cursor.copy(_COPY_INTO.format("metric_points")) as copy:
                copy.write(payload)
        except psycopg.errors.UniqueViolation:
            cursor.execute("ROLLBACK TO SAVEPOINT dashapp_copy")
            cursor.execute(_STAGING_DDL)
            with cursor.copy(_COPY_INTO.format("dashapp_points_staging")) as copy:
                copy.write(payload)
            cursor.execute(_STAGING_UPSERT)
        cursor.execute("RELEASE SAVEPOINT dashapp_copy")


def find_series(session: Session, metric: str) -> list[SeriesInfo]:
    """All series of one metric name, ordered by source then labels."""
    rows = session.execute(
        select(SeriesRow.id, SeriesRow.name, SeriesRow.source, SeriesRow.labels)
        .where(SeriesRow.name == metric)
        .order_by(SeriesRow.source, SeriesRow.id)
    )
    return [SeriesInfo(r.id, r.name, r.source, dict(r.labels)) for r in rows]


def list_series(session: Session, limit: int = 1000) -> list[SeriesInfo]:
    """The series catalog, by name and source."""
    rows = session.execute(
        select(SeriesRow.id, SeriesRow.name, SeriesRow.source, SeriesRow.labels)
        .order_by(SeriesRow.name, SeriesRow.source, SeriesRow.id)
        .limit(limit)
    )
    return [SeriesInfo(r.id, r.name, r.source, dict(r.labels)) for r in rows]


def last_points(session: Session, series_ids: Collection[int]) -> dict[int, LastPoint]:
    """The newest point of each given series (series without points are left out)."""
    if not series_ids:
        return {}
    newest = (
        select(func.max(PointRow.ts))
        .where(PointRow.series_id == SeriesRow.id)
        .correlate(SeriesRow)
        .scalar_subquery()
    )
    rows = session.execute(
        select(SeriesRow.id, PointRow.ts, PointRow.value)
        .join(PointRow, and_(PointRow.series_id == SeriesRow.id, PointRow.ts == newest))
        .where(SeriesRow.id.in_(list(series_ids)))
    )
    found = {row.id: LastPoint(row.ts, row.value) for row in rows}
    # Compacted points: a hot row may be a late write older than the newest chunk.
    for sid, (ts, value) in chunks.newest_points(session, list(series_ids)).items():
        if sid not in found or found[sid].ts < ts:
            found[sid] = LastPoint(ts, value)
    return found


def label_values(session: Session, key: str, metric: str | None = None) -> list[str]:
    """Distinct values of ``source`` or of label ``key`` among series (of one metric)."""
    column = SeriesRow.source if key == "source" else SeriesRow.labels[key].as_string()
    statement = select(column).distinct().where(column.is_not(None)).order_by(column)
    if metric:
        statement = statement.where(SeriesRow.name == metric)
    return [value for (value,) in session.execute(statement.limit(1000))]


def catalog_summary(session: Session, limit: int = 50_000) -> Catalog:
    """Metric names, sources and each metric's label keys, from the first ``limit`` series."""
    names: set[str] = set()
    sources: set[str] = set()
    keys: dict[str, set[str]] = {}
    rows = session.execute(select(SeriesRow.name, SeriesRow.source, SeriesRow.labels).limit(limit))
    for name, source, labels in rows:
        names.add(name)
        sources.add(source)
        keys.setdefault(name, set()).update(labels or {})
    return Catalog(
        sorted(names), sorted(sources)[:1000], {name: sorted(k) for name, k in keys.items()}
    )


def get_series(session: Session, series_id: int) -> SeriesInfo | None:
    """One series by id, with its newest point; None if there is no such series."""
    row = session.execute(
        select(SeriesRow.id, SeriesRow.name, SeriesRow.source, SeriesRow.labels).where(
            SeriesRow.id == series_id
        )
    ).first()
    if row is None:
        return None
    last = last_points(session, [row.id]).get(row.id)
    return SeriesInfo(
        row.id,
        row.name,
        row.source,
        dict(row.labels),
        last.ts if last else None,
        last.value if last else None,
        chunks.oldest_times(session, [row.id]).get(row.id),
    )


CatalogCursor = tuple[str, str, int]
"""(name, source, id) of the last series of a page: where the next page starts."""


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def catalog(
    session: Session,
    *,
    name: str | None = None,
    source: str | None = None,
    contains: str | None = None,
    labels: Mapping[str, str] | None = None,
    after: CatalogCursor | None = None,
    limit: int = 100,
) -> list[SeriesInfo]:
    """A page of the series catalog, ordered by (name, source, id), with newest points.

    Filters: exact ``name`` and ``source``, a case-insensitive substring of the name
    (``contains``), and exact label values. ``after`` is the last key of the previous page.
    """
    statement = select(SeriesRow.id, SeriesRow.name, SeriesRow.source, SeriesRow.labels)
    if name is not None:
        statement = statement.where(SeriesRow.name == name)
    if source is not None:
        statement = statement.where(SeriesRow.source == source)
    if contains:
        pattern = f"%{_escape_like(contains.lower())}%"
        statement = statement.where(func.lower(SeriesRow.name).like(pattern, escape="\\"))
    for key, value in (labels or {}).items():
        statement = statement.where(SeriesRow.labels[key].as_string() == value)
    if after is not None:
        statement = statement.where(
            tuple_(SeriesRow.name, SeriesRow.source, SeriesRow.id) > tuple_(*after)
        )
    rows = session.execute(
        statement.order_by(SeriesRow.name, SeriesRow.source, SeriesRow.id).limit(limit)
    ).all()
    newest = last_points(session, [row.id for row in rows])
    oldest = chunks.oldest_times(session, [row.id for row in rows])
    items = []
    for row in rows:
        last = newest.get(row.id)
        items.append(
            SeriesInfo(
                row.id,
                row.name,
                row.source,
                dict(row.labels),
                last.ts if last else None,
                last.value if last else None,
                oldest.get(row.id),
            )
        )
    return items


def count_points(session: Session) -> int:
    """Total number of stored points, hot and compacted (a late write over a compacted
    point counts twice until the next compaction merges it)."""
    hot = session.scalar(select(func.count()).select_from(PointRow)) or 0
    return hot + int(session.scalar(select(func.coalesce(func.sum(ChunkRow.count), 0))) or 0)
