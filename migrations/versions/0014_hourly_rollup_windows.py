"""Storage: hourly rollup chunks hold 30-day windows instead of one UTC day.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30

The 3600-s chunks of ``metric_rollup_chunks`` are decoded, merged per series and
epoch-aligned 30-day window (of a bucket stored twice, the later chunk's row wins, as
compaction merges), encoded and written back, a batch of series at a time; the
downgrade splits them back into days. 1-minute chunks stay daily. The widths are
fixed here, not read from ``db.tsdb.rollup_chunks``, so this revision always does the same.
"""

from collections.abc import Sequence
from datetime import timedelta

import numpy as np
import sqlalchemy as sa
from alembic import op

from db.tsdb import codec
from db.types import Timestamp, from_epoch_us

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEVEL = 3600
DAY = timedelta(days=1)
MONTH = timedelta(days=30)
SERIES_PER_BATCH = 200  # 200 series of a year of hourly rows: about 1.8 M rows in memory

chunks = sa.table(
    "metric_rollup_chunks",
    sa.column("series_id", sa.BigInteger()),
    sa.column("level", sa.Integer()),
    sa.column("window_start", Timestamp()),
    sa.column("count", sa.Integer()),
    sa.column("data", sa.LargeBinary()),
)


def upgrade() -> None:
    rewrite(MONTH)


def downgrade() -> None:
    rewrite(DAY)


def rewrite(width: timedelta) -> None:
    """Rewrite every hourly chunk into windows of ``width``, series batch by batch."""
    bind = op.get_bind()
    after = None
    while True:
        hourly = chunks.c.level == LEVEL
        batch = bind.scalars(
            sa.select(chunks.c.series_id)
            .where(hourly if after is None else sa.and_(hourly, chunks.c.series_id > after))
            .group_by(chunks.c.series_id)
            .order_by(chunks.c.series_id)
            .limit(SERIES_PER_BATCH)
        ).all()
        if not batch:
            return
        after = batch[-1]
        found = bind.execute(
            sa.select(chunks.c.series_id, chunks.c.data)
            .where(chunks.c.level == LEVEL, chunks.c.series_id.in_(batch))
            .order_by(chunks.c.series_id, chunks.c.window_start)
        ).all()
        parts: dict[int, list[list[np.ndarray]]] = {}
        for sid, data in found:
            parts.setdefault(sid, []).append(codec.decode_columns(data))
        rows = [row for sid, decoded in parts.items() for row in split(sid, decoded, width)]
        bind.execute(
            sa.delete(chunks).where(chunks.c.level == LEVEL, chunks.c.series_id.in_(batch))
        )
        if rows:
            bind.execute(sa.insert(chunks), rows)


def split(sid: int, decoded: list[list[np.ndarray]], width: timedelta) -> list[dict[str, object]]:
    """One series' chunks (in window order) as rows of windows ``width`` wide."""
    columns = [np.concatenate(parts) for parts in zip(*decoded, strict=True)]
    order = np.argsort(columns[0], kind="stable")
    columns = [values[order] for values in columns]
    last = np.ones(len(columns[0]), dtype=bool)  # the later of two rows of a bucket wins
    last[:-1] = columns[0][1:] != columns[0][:-1]
    columns = [values[last] for values in columns]
    if not len(columns[0]):
        return []
    width_us = width // timedelta(microseconds=1)
    windows = columns[0] // width_us
    starts = np.flatnonzero(np.r_[True, windows[1:] != windows[:-1]])
    ends = np.r_[starts[1:], len(windows)]
    return [
        {
            "series_id": sid,
            "level": LEVEL,
            "window_start": from_epoch_us(int(windows[start]) * width_us),
            "count": int(end - start),
            "data": codec.encode_columns([values[start:end] for values in columns]),
        }
        for start, end in zip(starts, ends, strict=True)
    ]
