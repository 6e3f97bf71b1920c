"""Slugs get room for a deletion marker: a deleted dashboard keeps its whole slug.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dashboards") as batch:
        batch.alter_column("slug", existing_type=sa.String(length=100), type_=sa.String(length=140))


def downgrade() -> None:
    with op.batch_alter_table("dashboards") as batch:
        batch.alter_column("slug", existing_type=sa.String(length=140), type_=sa.String(length=100))
