"""Initial schema: series, metric points, dashboards and their versions.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "series",
        sa.Column("id", BigId, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("labels", db.types.JSONDocument(), nullable=False),
        sa.Column("created_at", db.types.Timestamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_series")),
        sa.UniqueConstraint("name", "source", "labels", name=op.f("uq_series_name")),
    )
    op.create_table(
        "metric_points",
        sa.Column("series_id", sa.BigInteger(), nullable=False),
        sa.Column("ts", db.types.Timestamp(), nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=False),
        sa.PrimaryKeyConstraint(
            "series_id", "ts", name=op.f("pk_metric_points"), postgresql_include=["value"]
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "dashboards",
        sa.Column("id", BigId, nullable=False),
        sa.Column("slug", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("spec", db.types.JSONDocument(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", db.types.Timestamp(), nullable=False),
        sa.Column("updated_at", db.types.Timestamp(), nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=True),
        sa.Column("deleted_at", db.types.Timestamp(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dashboards")),
        sa.UniqueConstraint("slug", name=op.f("uq_dashboards_slug")),
    )
    op.create_table(
        "dashboard_versions",
        sa.Column("dashboard_id", BigId, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", db.types.JSONDocument(), nullable=False),
        sa.Column("author", sa.String(length=100), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", db.types.Timestamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dashboard_id"],
            ["dashboards.id"],
            name=op.f("fk_dashboard_versions_dashboard_id_dashboards"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("dashboard_id", "version", name=op.f("pk_dashboard_versions")),
    )


def downgrade() -> None:
    op.drop_table("dashboard_versions")
    op.drop_table("dashboards")
    op.drop_table("metric_points")
    op.drop_table("series")
