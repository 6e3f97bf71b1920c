"""Deleted accounts: ``users.deleted_at``.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06

Deleting an account keeps its row as a tombstone (no password, no sessions, no time
zone), so its name stays taken: the authors in dashboard history and the actors in
the audit log keep naming one person.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.types import Timestamp

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("deleted_at", Timestamp(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_column("deleted_at")
