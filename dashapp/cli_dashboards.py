"""``dashapp dashboards list|export|import|delete``: dashboards from the shell (deploy scripts)."""

from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from dashapp.commands import dashboards as commands
from dashapp.commands.errors import CommandError
from dashapp.core.permissions import Actor
from dashapp.core.spec import dump_spec, parse_spec
from dashapp.extensions import database
from db import dashboards

group = AppGroup("dashboards", help="List, export, import and delete dashboards.")


@group.command("list")
def list_command() -> None:
    """Every live dashboard: slug, version, title."""
    with database.transaction() as session:
        items = dashboards.list_dashboards(session)
    for item in items:
        click.echo(f"{item.slug:<40} v{item.version:<5} {item.title}")


@group.command("export")
@click.argument("slug")
def export_command(slug: str) -> None:
    """Print a dashboard's spec as JSON (what ``import`` and the UI's import take)."""
    try:
        with database.transaction() as session:
            found = dashboards.get_dashboard(session, slug)
    except dashboards.DashboardNotFound:
        raise click.ClickException(f"no dashboard {slug!r}") from None
    click.echo(json.dumps(dump_spec(parse_spec(found.spec, stored=True)), indent=2))


@group.command("import")
@click.argument("file", type=click.File("r"), default="-")
def import_command(file: click.File) -> None:
    """Create a dashboard from an exported JSON file (``-``: standard input)."""
    try:
        document = json.load(file)  # type: ignore[arg-type]
    except json.JSONDecodeError as error:
        raise click.ClickException(f"not valid JSON: {error}") from None
    try:
        created = commands.import_document(Actor.cli(), document)
    except CommandError as error:
        problems = error.details.get("errors") or []
        for item in problems[:20]:
            click.echo(f"  {item['field']}: {item['message']}", err=True)
        raise click.ClickException(f"nothing was imported: {error}") from None
    click.echo(f"imported as {created.slug} (version {created.version})")


@group.command("delete")
@click.argument("slug")
def delete_command(slug: str) -> None:
    """Delete a dashboard (admins can restore it in the UI)."""
    try:
        commands.delete(Actor.cli(), slug)
    except CommandError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"deleted {slug}")
