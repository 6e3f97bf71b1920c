"""``dashapp tokens create|list|revoke``: manage the service tokens of the REST API."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup

from dashapp.commands import tokens as commands
from dashapp.commands.errors import Invalid, NotFound
from dashapp.core.permissions import SCOPES, Actor
from dashapp.core.timerange import parse_duration
from dashapp.extensions import database
from db import tokens
from db.types import utcnow

tokens_group = AppGroup("tokens", help="Service tokens for the REST API.")


@tokens_group.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(SCOPES),
    help="ingest (push points), read (viewer), edit (editor: dashboards), admin (everything).",
)
@click.option("--expires-in", default=None, help="Lifetime such as 90d or 12h (default: none).")
def create_command(name: str, scopes: tuple[str, ...], expires_in: str | None) -> None:
    """Create a token and print it (this is the only time it is shown)."""
    try:
        expires_at = utcnow() + parse_duration(expires_in) if expires_in else None
        created = commands.create(Actor.cli(), name, list(scopes), expires_at)
    except (ValueError, Invalid) as error:
        raise click.BadParameter(str(error)) from None
    click.echo(created.token)
    click.echo(
        f"token {created.info.prefix} ({name}, scopes: {','.join(created.info.scopes)}) created; "
        "store it now, it cannot be shown again",
        err=True,
    )


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


@tokens_group.command("list")
def list_command() -> None:
    """List tokens (never their secrets)."""
    with database.transaction() as session:
        items = tokens.list_tokens(session)
    now = utcnow()
    click.echo(f"{'prefix':<10} {'name':<24} {'scopes':<20} {'state':<8} {'last used':<16} expires")
    for item in items:
        state = "revoked" if item.revoked_at else ("active" if item.active(now) else "expired")
        click.echo(
            f"{item.prefix:<10} {item.name[:24]:<24} {','.join(item.scopes):<20} {state:<8} "
            f"{_when(item.last_used_at):<16} {_when(item.expires_at)}"
        )


@tokens_group.command("revoke")
@click.argument("prefix_or_name")
def revoke_command(prefix_or_name: str) -> None:
    """Revoke a token by its prefix (or every live token with that name)."""
    try:
        revoked = commands.revoke(Actor.cli(), prefix_or_name)
    except NotFound as error:
        raise click.ClickException(str(error)) from None
    for item in revoked:
        click.echo(f"revoked {item.prefix} ({item.name})")
