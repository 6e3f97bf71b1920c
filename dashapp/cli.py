"""The ``dashapp`` command: Flask's CLI group plus database, demo and server commands."""

from __future__ import annotations

import os
import signal
import sys
import time

import click
from flask import Flask
from flask import cli as flask_cli
from flask.cli import AppGroup, FlaskGroup, with_appcontext
from sqlalchemy.exc import DBAPIError, OperationalError
from tqdm import tqdm

from dashapp.cli_tokens import tokens_group
from dashapp.extensions import database
from dashapp.settings import current_settings
from db import migrate

db_group = AppGroup("db", help="Database schema commands.")


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply Alembic migrations to DATABASE_URL."""
    migrate.upgrade(current_settings().database_url, revision)
    click.echo(f"database at {revision}")


@db_group.command("check")
def db_check() -> None:
    """Fail if the database schema differs from the models."""
    differences = migrate.drift(database.engine)
    if differences:
        raise click.ClickException(f"schema drift: {differences}")
    click.echo("no drift")


@click.command("rollups")
@click.option("--batch", default=2000, show_default=True, help="Series-hours per transaction.")
@with_appcontext
def rollups_command(batch: int) -> None:
    """Compute the rollups of every pending hour now (after bulk loads; the worker does it
    continuously)."""
    from db import tsdb

    done = 0
    with tqdm(unit="h", desc="rollups", disable=None) as bar:
        while True:
            with database.transaction() as session:
                count = tsdb.refresh_rollups(session, limit=batch)
            if not count:
                break
            done += count
            bar.update(count)
    click.echo(f"rollups up to date ({done} series-hours refreshed)")


@click.command("worker")
@click.option("--once", is_flag=True, help="Run one pass and exit (tests, cron).")
@click.option(
    "--interval", default=5.0, show_default=True, envvar="WORKER_INTERVAL",
    help="Seconds between passes (env WORKER_INTERVAL).",
)  # fmt: skip
@click.option("--batch", default=2000, show_default=True, help="Series-hours per transaction.")
@with_appcontext
def worker_command(once: bool, interval: float, batch: int) -> None:
    """Run background work: rollup refresh and periodic jobs (safe to run several)."""
    import logging

    from dashapp import worker

    if once:
        report = worker.run_pass(batch)
        click.echo(f"refreshed {report.rollup_hours} series-hours; jobs {report.jobs}")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    click.echo(f"worker running every {interval:g}s; Ctrl-C to stop")
    _stop_on_sigterm()
    try:
        worker.run_forever(interval, batch)
    except KeyboardInterrupt:
        click.echo("worker stopped")


def _stop_on_sigterm() -> None:
    """SIGTERM (``dashapp run`` stopping, a service manager) ends a loop as Ctrl-C does:
    the transaction in progress rolls back and the command says it stopped."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)


@click.command("seed-demo")
@with_appcontext
@click.option("--days", default=7.0, show_default=True, help="History to create on first run.")
@click.option("--if-empty", is_flag=True, help="Seed only a fresh database (or top up the demo).")
def seed_demo_command(days: float, if_empty: bool) -> None:
    """Create the "Service health" demo dashboard and fill its metrics up to now."""
    from dashapp.commands.seed import demo_state, seed_demo

    if if_empty and demo_state() == "absent":
        click.echo("dashboards exist and the demo was removed: not seeding")
        return
    with tqdm(unit="pt", unit_scale=True, desc="demo data", disable=None) as bar:

        def advance(count: int, total: int) -> None:
            bar.total = total
            bar.update(count)

        written = seed_demo(days, progress=advance)
    click.echo(f"demo ready: {written} new points")


@click.command("demo-feed")
@with_appcontext
@click.option(
    "--interval", default=10.0, show_default=True, envvar="DEMO_FEED_INTERVAL",
    help="Seconds between writes (env DEMO_FEED_INTERVAL).",
)  # fmt: skip
def demo_feed_command(interval: float) -> None:
    """Keep the demo metrics live: append the newest points every interval.

    A busy or unreachable database is retried with backoff (each wait said on stderr),
    so the feeder outlives a long worker transaction or a database restart."""
    from dashapp.commands.seed import seed_demo
    from db import pacing

    def retryable(error: BaseException) -> bool:
        return isinstance(error, OperationalError) and not migrate.is_unmigrated(error)

    def report(error: BaseException, wait: float) -> None:
        reason = str(getattr(error, "orig", error)).splitlines()[0]
        click.echo(f"demo-feed: database error ({reason}); retrying in {wait:.1f} s", err=True)

    click.echo(f"feeding demo metrics every {interval:g}s; Ctrl-C to stop")
    _stop_on_sigterm()
    try:
        while True:
            pacing.retry_forever(lambda: seed_demo(days=1), retryable, report)
            time.sleep(interval)
    except KeyboardInterrupt:
        click.echo("demo-feed stopped")


@click.command("serve")
@click.option("--workers", type=int, default=None, help="gunicorn workers (default: auto).")
def serve_command(workers: int | None) -> None:
    """Serve the app with gunicorn on HOST:PORT (the production server)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    args = [sys.executable, "-m", "gunicorn", "-c", os.path.join(root, "gunicorn.conf.py")]
    if workers:
        args += ["--workers", str(workers)]
    os.chdir(root)
    os.execv(sys.executable, [*args, "wsgi:app"])


@click.command("run")
@click.option("--feed/--no-feed", default=True, help="Run the demo feeder beside the server.")
@click.option("--worker/--no-worker", default=True, help="Run the worker beside the server.")
def run_command(feed: bool, worker: bool) -> None:
    """Serve the app with the worker and the demo feeder beside it (`make run`): their
    output here, prefixed; a worker or feeder that dies is reported and restarted;
    Ctrl-C stops them all."""
    from dashapp.supervisor import Child, Supervisor

    command = [sys.executable, "-m", "dashapp"]
    children = [Child("web", [*command, "serve"], restart=False)]
    if worker:
        children.append(Child("worker", [*command, "worker"]))
    if feed:
        children.append(Child("feed", [*command, "demo-feed"]))
    supervisor = Supervisor(children)
    restore = supervisor.handle_signals()
    try:
        code = supervisor.run()
    finally:
        restore()
    sys.exit(code)


def init_app(app: Flask) -> None:
    """Attach dashapp's commands to ``app.cli``."""
    from dashapp import cli_dashboards, cli_storage, cli_users

    commands = (
        db_group, rollups_command, worker_command, seed_demo_command, demo_feed_command,
        serve_command,
        cli_users.group, cli_dashboards.group,
        cli_storage.compact_command, cli_storage.retention_command,
    )  # fmt: skip
    for command in commands:
        app.cli.add_command(command)
    app.cli.add_command(tokens_group)


# Commands that sign nothing (no sessions, no CSRF tokens) and so need no SECRET_KEY.
UNSIGNED_COMMANDS = frozenset({"db", "tokens", "users"})
UPGRADE_HINT = "the database is not migrated: run `dashapp db upgrade`"


def _subcommand(argv: list[str]) -> str | None:
    """The first word of the command line that is not an option (``dashapp users list``)."""
    return next((word for word in argv if not word.startswith("-")), None)


def _create_app() -> Flask:
    """The app for a command; configuration problems read as messages, not tracebacks."""
    from dashapp import create_app

    try:
        return create_app(signing=_subcommand(sys.argv[1:]) not in UNSIGNED_COMMANDS)
    except RuntimeError as error:  # ConfigError: one line naming the variable
        raise click.ClickException(str(error)) from None


class DashappGroup(FlaskGroup):
    """Flask's CLI group; a command on an unmigrated database says how to migrate it."""

    def invoke(self, ctx: click.Context) -> object:
        """Run the command, turning "no such table" into the `dashapp db upgrade` hint."""
        try:
            return super().invoke(ctx)
        except DBAPIError as error:
            if migrate.is_unmigrated(error):
                raise click.ClickException(UPGRADE_HINT) from None
            if isinstance(error, OperationalError):
                raise click.ClickException(f"the database is unreachable: {error.orig}") from None
            raise


def main() -> None:
    """Entry point of the ``dashapp`` console script."""
    group = DashappGroup(
        create_app=_create_app, add_version_option=False, add_default_commands=False, help=__doc__
    )
    # Flask's own `run` (its development server) gives way to ours: the app as `make run`
    # serves it, with the worker and the demo feeder.
    for command in (run_command, flask_cli.shell_command, flask_cli.routes_command):
        group.add_command(command)
    group()
