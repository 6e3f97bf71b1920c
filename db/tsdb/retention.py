"""Applying retention: drop whole chunks (and hot partitions, see db/tsdb/partitions.py) past
their policy, never delete live rows one by one.

Raw data expires a chunk (one series' day) at a time, once the whole day is older than
its policy; rollup chunks likewise once their whole window is (a day of 1-minute
rollups, 30 days of hourly ones: hourly data may outlive its policy by up to 30 days),
and the rollup rows of a window not compacted yet with it. Points still hot past
retention are compacted first (they are only late writes, or compaction running behind)
and dropped with their chunk at the next run.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, not_, or_, select
from sqlalchemy.orm import Session

from dashapp.core.retention import Policy, Retention
from db.tsdb.chunks import window_of
from db.tsdb.models import ChunkRow, RollupChunkRow, RollupRow, SeriesRow
from db.tsdb.rollup_chunks import WINDOWS
from db.types import utcnow

ROLLUP_LEVELS = {"1m": 60, "1h": 3600}


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _names(prefix: str) -> object:
    return SeriesRow.name.like(_escape_like(prefix) + "%", escape="\\")


def policy_groups(retention: Retention) -> list[tuple[Policy, object]]:
    """Each policy with the SQL condition on ``series`` choosing the series it governs."""
    groups = []
    for index, (prefix, policy) in enumerate(retention.rules):
        # Rules are longest prefix first: a longer one that also matches takes precedence.
        longer = [p for p, _ in retention.rules[:index] if p.startswith(prefix)]
        condition = and_(_names(prefix), *(not_(_names(p)) for p in longer))
        groups.append((policy, condition))
    others = [_names(prefix) for prefix, _ in retention.rules]
    groups.append((retention.default, not_(or_(*others)) if others else SeriesRow.id.is_not(None)))
    return groups


def apply(
    session: Session,
    retention: Retention,
    now: datetime | None = None,
    touched: set[int] | None = None,
) -> int:
    """Drop chunks and rollups past their policy; returns how many chunk and rollup rows
    went. ``touched`` (if given) collects the ids of the series that lost data."""
    now = now or utcnow()
    found: set[int] = set() if touched is None else touched
    dropped = 0
    for policy, condition in policy_groups(retention):
        governed = select(SeriesRow.id).where(condition)
        keep = policy.of("raw")
        if keep is not None:
            dropped += _drop(
                session, found, ChunkRow,
                ChunkRow.window_start < window_of(now - keep), ChunkRow.series_id.in_(governed),
            )  # fmt: skip
        for name, seconds in ROLLUP_LEVELS.items():
            keep = policy.of(name)
            if keep is None:
                continue
            horizon = window_of(now - keep, WINDOWS[seconds])
            dropped += _drop(
                session, found, RollupChunkRow, RollupChunkRow.level == seconds,
                RollupChunkRow.window_start < horizon, RollupChunkRow.series_id.in_(governed),
            )  # fmt: skip
            # Rows are the buckets not compacted yet (late refreshes, few): they go with
            # their window, or a kept chunk's older value for the bucket would show again.
            dropped += _drop(
                session, found, RollupRow, RollupRow.level == seconds,
                RollupRow.bucket < horizon, RollupRow.series_id.in_(governed),
            )  # fmt: skip
    return dropped


def _drop(session: Session, touched: set[int], table: Any, *conditions: Any) -> int:
    """Delete the rows of ``table`` matching ``conditions``; note their series."""
    gone = session.execute(delete(table).where(*conditions).returning(table.series_id)).all()
    touched.update(sid for (sid,) in gone)
    return len(gone)


def metric_names(session: Session, series_ids: set[int]) -> list[str]:
    """The metric names of these series (for invalidating their cached answers)."""
    if not series_ids:
        return []
    found = session.scalars(
        select(SeriesRow.name).where(SeriesRow.id.in_(sorted(series_ids))).distinct()
    )
    return sorted(found)
