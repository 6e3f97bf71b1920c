"""Storage commands: ``dashapp compact`` and ``dashapp retention`` (the worker's jobs, by hand)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from dashapp.extensions import database
from dashapp.settings import current_settings


@click.command("compact")
@click.option(
    "--limit", default=5_000, show_default=True,
    help="Series-days per transaction (at most a million points).",
)  # fmt: skip
@with_appcontext
def compact_command(limit: int) -> None:
    """Compact every closed day of hot points into chunks (one transaction per batch)."""
    from db import pacing, tsdb

    delay = current_settings().compaction_delay
    moved = 0
    while True:
        with database.transaction() as session:
            deadline = pacing.slice_deadline(session)
            count = tsdb.compact(session, delay=delay, limit=limit, deadline=deadline)
        if not count:
            break
        moved += count
        pacing.pause(database.engine)
        click.echo(f"compacted {moved} points and rollup rows", err=True)
    with database.transaction() as session:
        created, dropped = tsdb.maintain_partitions(session, delay=delay)
    click.echo(f"compaction done: {moved} points and rollup rows moved into chunks; "
               f"partitions created {created}, dropped {dropped}")  # fmt: skip


@click.command("retention")
@with_appcontext
def retention_command() -> None:
    """Drop chunks and rollups past RETENTION / RETENTION_RULES."""
    from db import storage_jobs

    policy = current_settings().retention_policy
    with database.transaction() as session:  # the worker's job: invalidates cached answers
        dropped = storage_jobs.retention_job(session)
    rules = ", ".join(f"{prefix}*: {p.describe()}" for prefix, p in policy.rules)
    click.echo(f"retention {policy.default.describe()}{'; ' + rules if rules else ''}: "
               f"dropped {dropped} chunk and rollup rows")  # fmt: skip
