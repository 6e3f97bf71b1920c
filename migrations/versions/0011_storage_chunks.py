"""Storage: compacted chunks of points (one row per series and UTC day).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29

Named for issue 13 so it does not collide with other branches' numbered revisions;
when merging, point ``down_revision`` at the newest revision of main.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.types import Timestamp

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "metric_chunks",
        sa.Column("series_id", sa.BigInteger(), nullable=False),
        sa.Column("window_start", Timestamp(), nullable=False),
        sa.Column("min_ts", Timestamp(), nullable=False),
        sa.Column("max_ts", Timestamp(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("ts_blob", sa.LargeBinary(), nullable=False),
        sa.Column("value_blob", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("series_id", "window_start", name=op.f("pk_metric_chunks")),
        sqlite_with_rowid=False,
    )
    if op.get_bind().dialect.name == "postgresql":
        # The blobs are compressed already: no pglz attempt, out of line past ~2 kB.
        for column in ("ts_blob", "value_blob"):
            op.execute(f"ALTER TABLE metric_chunks ALTER COLUMN {column} SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.drop_table("metric_chunks")
