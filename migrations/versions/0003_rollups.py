"""Rollups: per-minute and per-hour aggregates of points, and the hours waiting for them.

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Double = sa.Float(precision=53)


def upgrade() -> None:
    op.create_table(
        "metric_rollups",
        sa.Column("series_id", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("bucket", db.types.Timestamp(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("sum", Double, nullable=False),
        sa.Column("min", Double, nullable=False),
        sa.Column("max", Double, nullable=False),
        sa.Column("first", Double, nullable=False),
        sa.Column("last", Double, nullable=False),
        sa.Column("first_ts", db.types.Timestamp(), nullable=False),
        sa.Column("last_ts", db.types.Timestamp(), nullable=False),
        sa.Column("min_ts", db.types.Timestamp(), nullable=False),
        sa.Column("max_ts", db.types.Timestamp(), nullable=False),
        sa.Column("increase", Double, nullable=False),
        sa.PrimaryKeyConstraint("series_id", "level", "bucket", name=op.f("pk_metric_rollups")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "rollup_pending",
        sa.Column("series_id", sa.BigInteger(), nullable=False),
        sa.Column("hour", db.types.Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("series_id", "hour", name=op.f("pk_rollup_pending")),
    )
    # Points written before this migration have no rollups yet: queue every stored hour.
    op.execute(
        sa.text(
            "INSERT INTO rollup_pending (series_id, hour) "
            "SELECT DISTINCT series_id, "
            + (
                "date_bin(INTERVAL '1 hour', ts, TIMESTAMPTZ 'epoch')"
                if op.get_bind().dialect.name == "postgresql"
                else "(ts / 3600000000) * 3600000000"
            )
            + " FROM metric_points"
        )
    )


def downgrade() -> None:
    op.drop_table("rollup_pending")
    op.drop_table("metric_rollups")
