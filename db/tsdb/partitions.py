"""Daily range partitions of ``metric_points`` on PostgreSQL (SQLite: one table, no-ops).

Partitions are created ahead of time (a default partition catches anything outside
them, such as backfills), one per UTC day like the chunk windows. Compaction drains a
day's partition once the day closed; :func:`maintain` then drops it (an empty table:
no row deletes, no vacuum), so old hot data leaves by ``DROP TABLE``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from db.tsdb.chunks import WINDOW, window_of
from db.types import utcnow

PARENT = "metric_points"
DEFAULT_PARTITION = "metric_points_default"
NAME = re.compile(r"^metric_points_p(\d{8})$")
AHEAD = timedelta(days=7)


def partition_name(day: datetime) -> str:
    """``metric_points_p20260201`` for the day starting at ``day``."""
    return f"{PARENT}_p{day:%Y%m%d}"


def is_partitioned(session: Session) -> bool:
    """Whether ``metric_points`` is a partitioned table here (PostgreSQL after 0013)."""
    if session.get_bind().dialect.name != "postgresql":
        return False
    kind = session.execute(
        text("SELECT relkind FROM pg_class WHERE oid = to_regclass(:name)"), {"name": PARENT}
    ).scalar()
    return kind == "p"


def partitions(session: Session) -> dict[datetime, str]:
    """The daily partitions by day start (the default partition left out)."""
    names = session.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass(:parent)"
        ),
        {"parent": PARENT},
    ).scalars()
    found = {}
    for name in names:
        match = NAME.match(name)
        if match:
            found[datetime.strptime(match.group(1), "%Y%m%d").replace(tzinfo=UTC)] = name
    return found


def ensure(session: Session, start: datetime, end: datetime) -> int:
    """Create the missing daily partitions covering [start, end); returns how many.

    A day whose rows already sit in the default partition is skipped (PostgreSQL refuses
    to create it); those rows are compacted and leave the default partition by then.
    """
    if not is_partitioned(session):
        return 0
    existing = partitions(session)
    created = 0
    day = window_of(start)
    while day < end:
        if day not in existing:
            created += _create(session, day)
        day += WINDOW
    return created


def _create(session: Session, day: datetime) -> int:
    statement = text(
        f"CREATE TABLE IF NOT EXISTS {partition_name(day)} PARTITION OF {PARENT} "
        f"FOR VALUES FROM ('{day.isoformat()}') TO ('{(day + WINDOW).isoformat()}')"
    )
    savepoint = session.begin_nested()
    try:
        session.execute(text("SET LOCAL lock_timeout = '2s'"))
        session.execute(statement)
    except DBAPIError:  # rows of that day in the default partition, or a busy table
        savepoint.rollback()
        return 0
    savepoint.commit()
    return 1


def drop_drained(session: Session, cutoff: datetime) -> int:
    """Drop the daily partitions ending at or before ``cutoff`` that hold no rows."""
    if not is_partitioned(session):
        return 0
    dropped = 0
    for day, name in sorted(partitions(session).items()):
        if day + WINDOW > cutoff:
            continue
        savepoint = session.begin_nested()
        try:
            session.execute(text("SET LOCAL lock_timeout = '2s'"))
            # Locked first: no ingest can add a row between the check and the drop.
            session.execute(text(f"LOCK TABLE {name} IN ACCESS EXCLUSIVE MODE"))
            if session.execute(text(f"SELECT 1 FROM {name} LIMIT 1")).first() is None:
                session.execute(text(f"DROP TABLE {name}"))
                dropped += 1
        except DBAPIError:  # a busy table: next time
            savepoint.rollback()
            continue
        savepoint.commit()
    return dropped


def maintain(session: Session, *, delay: timedelta, now: datetime | None = None) -> tuple[int, int]:
    """Create partitions up to a week ahead, drop drained ones; (created, dropped)."""
    now = now or utcnow()
    created = ensure(session, now - WINDOW, now + AHEAD)
    return created, drop_drained(session, window_of(now - delay))
