"""The storage engine's tables: the series catalog, hot points, compacted chunks and
rollups (the schema Alembic migrates, with the app's tables in :mod:`db.models`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId
from db.types import JSONDocument, Timestamp, utcnow


class SeriesRow(Base):
    """One time series: a metric name from a source with a set of labels."""

    __tablename__ = "series"
    __table_args__ = (UniqueConstraint("name", "source", "labels"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(200))
    labels: Mapped[dict[str, str]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class PointRow(Base):
    """One sample. Narrow on purpose: this table grows to billions of rows.

    No foreign key to ``series``: the per-row check would tax every ingest,
    and points are only written through the repository, which resolves ids first.
    The primary key carries ``value`` (PostgreSQL ``INCLUDE``; SQLite ``WITHOUT ROWID``)
    so range queries are index-only scans.
    """

    __tablename__ = "metric_points"
    __table_args__ = (PrimaryKeyConstraint("series_id", "ts", postgresql_include=["value"]),)

    series_id: Mapped[int] = mapped_column(BigInteger)
    ts: Mapped[datetime] = mapped_column(Timestamp)
    value: Mapped[float] = mapped_column(Float(precision=53))


class ChunkRow(Base):
    """One series' points of one closed window (a UTC day), compacted (see db/tsdb/compaction.py).

    ``ts_blob`` and ``value_blob`` are the window's timestamps (epoch microseconds) and
    values, sorted by time, encoded by :mod:`db.tsdb.codec`. ``min_ts``, ``max_ts`` and
    ``count`` describe them without decoding. Points written into a window after it was
    compacted stay in ``metric_points`` (and win over the chunk's value at the same
    time) until the next compaction merges them in.
    """

    __tablename__ = "metric_chunks"
    __table_args__ = (
        PrimaryKeyConstraint("series_id", "window_start"),
        {"sqlite_with_rowid": False},
    )

    series_id: Mapped[int] = mapped_column(BigInteger)
    window_start: Mapped[datetime] = mapped_column(Timestamp)
    min_ts: Mapped[datetime] = mapped_column(Timestamp)
    max_ts: Mapped[datetime] = mapped_column(Timestamp)
    count: Mapped[int] = mapped_column(Integer)
    ts_blob: Mapped[bytes] = mapped_column(LargeBinary)
    value_blob: Mapped[bytes] = mapped_column(LargeBinary)


class RollupChunkRow(Base):
    """The rollup rows of one series, level and closed window, compacted like points.

    ``data`` holds the columns bucket, :data:`db.tsdb.rollups.SHAPE` (times as epoch
    microseconds), encoded by :func:`db.tsdb.codec.encode_columns`. Rollup rows written for
    the window later (a late point refreshed its hour) win over the chunk's bucket.
    """

    __tablename__ = "metric_rollup_chunks"
    __table_args__ = (
        PrimaryKeyConstraint("series_id", "level", "window_start"),
        {"sqlite_with_rowid": False},
    )

    series_id: Mapped[int] = mapped_column(BigInteger)
    level: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[datetime] = mapped_column(Timestamp)
    count: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class RollupRow(Base):
    """Pre-aggregated points of one series over one bucket of ``level`` seconds.

    Enough to answer avg/min/max/sum/count/last, counter rates and M4 for any
    step that is a multiple of the level, without reading raw points.
    """

    __tablename__ = "metric_rollups"
    __table_args__ = (
        PrimaryKeyConstraint("series_id", "level", "bucket"),
        {"sqlite_with_rowid": False},
    )

    series_id: Mapped[int] = mapped_column(BigInteger)
    level: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[datetime] = mapped_column(Timestamp)
    count: Mapped[int] = mapped_column(Integer)
    sum: Mapped[float] = mapped_column(Float(precision=53))
    min: Mapped[float] = mapped_column(Float(precision=53))
    max: Mapped[float] = mapped_column(Float(precision=53))
    first: Mapped[float] = mapped_column(Float(precision=53))
    last: Mapped[float] = mapped_column(Float(precision=53))
    first_ts: Mapped[datetime] = mapped_column(Timestamp)
    last_ts: Mapped[datetime] = mapped_column(Timestamp)
    min_ts: Mapped[datetime] = mapped_column(Timestamp)
    max_ts: Mapped[datetime] = mapped_column(Timestamp)
    increase: Mapped[float] = mapped_column(Float(precision=53))


class RollupPendingRow(Base):
    """An hour of a series whose points changed since its rollups were computed."""

    __tablename__ = "rollup_pending"
    __table_args__ = (PrimaryKeyConstraint("series_id", "hour"),)

    series_id: Mapped[int] = mapped_column(BigInteger)
    hour: Mapped[datetime] = mapped_column(Timestamp)
