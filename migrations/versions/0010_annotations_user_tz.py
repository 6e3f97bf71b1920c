"""Annotations (events marked on time-series charts) and each user's time zone.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.types import JSONDocument, Timestamp

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "annotations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "dashboard_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("panel_id", sa.String(length=40), nullable=True),
        sa.Column("starts_at", Timestamp(), nullable=False),
        sa.Column("ends_at", Timestamp(), nullable=True),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column("tags", JSONDocument(), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=True),
        sa.Column("created_at", Timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dashboard_id"], ["dashboards.id"],
            name=op.f("fk_annotations_dashboard_id_dashboards"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotations")),
    )  # fmt: skip
    op.create_index(op.f("ix_annotations_dashboard_id"), "annotations", ["dashboard_id"])
    op.create_index(op.f("ix_annotations_starts_at"), "annotations", ["starts_at"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("timezone")
    op.drop_index(op.f("ix_annotations_starts_at"), table_name="annotations")
    op.drop_index(op.f("ix_annotations_dashboard_id"), table_name="annotations")
    op.drop_table("annotations")
