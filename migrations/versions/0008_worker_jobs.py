"""Worker jobs: when each periodic job of ``dashapp worker`` is next due.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.types import Timestamp

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_jobs",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("next_run_at", Timestamp(), nullable=False),
        sa.Column("last_run_at", Timestamp(), nullable=True),
        sa.Column("last_result", sa.Integer(), nullable=True),
        sa.Column("runs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_jobs")),
    )


def downgrade() -> None:
    op.drop_table("worker_jobs")
