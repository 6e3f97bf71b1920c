"""Metrics repository: the series catalog and idempotent point writes (queries: db/query.py).

Functions take a Session, return frozen dataclasses and never commit.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from db import rollups
from db.engine import canonical_json
from db.models import PointRow, SeriesRow
from db.types import utcnow

SeriesKey = tuple[str, str, str]
"""(name, source, canonical labels JSON): what identifies a series."""

PointTuple = tuple[int, datetime, float]
"""(series id, timestamp, value): one point ready to be written."""


@dataclass(frozen=True)
class SeriesInfo:
    """A series as listed in the catalog."""

    id: int
    name: str
    source: str
    labels: dict[str, str]
    last_ts: datetime | None = None
    last_value: float | None = None


def series_key(name: str, source: str, labels: Mapping[str, str]) -> SeriesKey:
    """The identity of a series, with labels in canonical (sorted) form."""
    return (name, source, canonical_json(dict(labels)))


def _insert(session: Session, table: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def resolve_series(session: Session, keys: Collection[SeriesKey]) -> dict[SeriesKey, int]:
    """Ids of the series named by ``keys``, creating those that do not exist yet."""
    if not keys:
        return {}
    now = utcnow()
    rows = [
        {"name": name, "source": source, "labels": json.loads(labels), "created_at": now}
        for name, source, labels in keys
    ]
    table = SeriesRow.__table__
    statement = _insert(session, table).on_conflict_do_nothing(
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

    PostgreSQL: binary COPY into a temporary staging table, then one
    ``INSERT ... SELECT ... ON CONFLICT DO UPDATE``. SQLite: ``executemany`` upsert.
    Either way the touched hours are queued for a rollup refresh.
    """
    unique = {(sid, ts): value for sid, ts, value in points}
    if not unique:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        _copy_upsert(session, unique)
        rollups.mark_pending_from_staging(session)
    else:
        table = PointRow.__table__
        statement = _insert(session, table)
        statement = statement.on_conflict_do_update(
            index_elements=["series_id", "ts"], set_={"value": statement.excluded.value}
        )
        session.execute(
            statement,
            [{"series_id": s, "ts": t, "value": v} for (s, t), v in unique.items()],
        )
        rollups.mark_pending(session, unique)
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


def _copy_upsert(session: Session, unique: Mapping[tuple[int, datetime], float]) -> None:
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        cursor.execute(_STAGING_DDL)
        copy_sql = "COPY dashapp_points_staging (series_id, ts, value) FROM STDIN (FORMAT BINARY)"
        with cursor.copy(copy_sql) as copy:
            copy.set_types(["int8", "timestamptz", "float8"])
            for (sid, ts), value in unique.items():
                copy.write_row((sid, ts, value))
        cursor.execute(_STAGING_UPSERT)


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


@dataclass(frozen=True)
class LastPoint:
    """The newest point of a series."""

    ts: datetime
    value: float


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
    return {row.id: LastPoint(row.ts, row.value) for row in rows}


def label_values(session: Session, key: str, metric: str | None = None) -> list[str]:
    """Distinct values of ``source`` or of label ``key`` among series (of one metric)."""
    column = SeriesRow.source if key == "source" else SeriesRow.labels[key].as_string()
    statement = select(column).distinct().where(column.is_not(None)).order_by(column)
    if metric:
        statement = statement.where(SeriesRow.name == metric)
    return [value for (value,) in session.execute(statement.limit(1000))]


@dataclass(frozen=True)
class Catalog:
    """What the query pickers offer: metric names, sources, and label keys per metric."""

    metrics: list[str]
    sources: list[str]
    labels: dict[str, list[str]]


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


def count_points(session: Session) -> int:
    """Total number of stored points."""
    return session.scalar(select(func.count()).select_from(PointRow)) or 0
