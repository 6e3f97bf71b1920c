"""Storage: range-partition metric_points by day on PostgreSQL (SQLite: unchanged).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29

The table is rebuilt as ``PARTITION BY RANGE (ts)`` with the same primary key (which
includes ``ts``, as partitioning requires), a default partition, and one partition
per day that holds rows today plus a week ahead; existing rows are copied over.
"""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DAY = timedelta(days=1)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE metric_points RENAME TO metric_points_old")
    op.execute(
        "ALTER TABLE metric_points_old RENAME CONSTRAINT pk_metric_points TO pk_metric_points_old"
    )
    op.execute(
        "CREATE TABLE metric_points (series_id bigint NOT NULL, ts timestamptz NOT NULL, "
        "value double precision NOT NULL, "
        "CONSTRAINT pk_metric_points PRIMARY KEY (series_id, ts) INCLUDE (value)) "
        "PARTITION BY RANGE (ts)"
    )
    op.execute("CREATE TABLE metric_points_default PARTITION OF metric_points DEFAULT")
    days = {
        row[0]
        for row in bind.exec_driver_sql(
            "SELECT DISTINCT date_bin('1 day', ts, TIMESTAMPTZ 'epoch') FROM metric_points_old"
        )
    }
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    days |= {today + DAY * n for n in range(-1, 8)}
    for day in sorted(days):
        op.execute(
            f"CREATE TABLE metric_points_p{day:%Y%m%d} PARTITION OF metric_points "
            f"FOR VALUES FROM ('{day.isoformat()}') TO ('{(day + DAY).isoformat()}')"
        )
    op.execute("INSERT INTO metric_points SELECT series_id, ts, value FROM metric_points_old")
    op.execute("DROP TABLE metric_points_old")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE metric_points RENAME TO metric_points_partitioned")
    op.execute(
        "ALTER TABLE metric_points_partitioned RENAME CONSTRAINT pk_metric_points "
        "TO pk_metric_points_partitioned"
    )
    op.execute(
        "CREATE TABLE metric_points (series_id bigint NOT NULL, ts timestamptz NOT NULL, "
        "value double precision NOT NULL, "
        "CONSTRAINT pk_metric_points PRIMARY KEY (series_id, ts) INCLUDE (value))"
    )
    op.execute("INSERT INTO metric_points SELECT * FROM metric_points_partitioned")
    op.execute("DROP TABLE metric_points_partitioned CASCADE")
