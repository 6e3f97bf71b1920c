"""``dashapp users ...``: manage accounts from the shell."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from dashapp.auth import new_password
from dashapp.commands import users as commands
from dashapp.commands.errors import CommandError
from dashapp.core.permissions import ROLES, Actor
from dashapp.extensions import database
from dashapp.settings import current_settings
from db import users

group = AppGroup("users", help="Create and manage user accounts.")
ROLE = click.Choice(ROLES)


def _password(from_stdin: bool) -> str:
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        raise click.ClickException("the password needs at least 8 characters")
    return password


@group.command("create")
@click.argument("username")
@click.option("--role", type=ROLE, default="viewer", show_default=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create(username: str, role: str, password_stdin: bool) -> None:
    """Create an account (the password is prompted for, or read from stdin)."""
    password = _password(password_stdin)
    try:
        user = commands.create(Actor.cli(), username, password, role)
    except CommandError as error:
        raise click.ClickException(f"cannot create {username!r}: {error}") from None
    click.echo(f"created {user.username} ({user.role})")


@group.command("list")
def list_command() -> None:
    """Every account with its role and state."""
    with database.transaction() as session:
        accounts = users.list_users(session)
    for user in accounts:
        state = "active" if user.active else "disabled"
        click.echo(f"{user.username:<24} {user.role:<8} {state}")


def _change(action: str, username: str, change) -> None:  # type: ignore[no-untyped-def]
    try:
        user = change(Actor.cli())
    except CommandError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{user.username}: {action}; their open sessions have ended")


@group.command("set-role")
@click.argument("username")
@click.argument("role", type=ROLE)
def set_role(username: str, role: str) -> None:
    """Change a user's role (ends their sessions)."""
    _change(f"role is now {role}", username, lambda actor: commands.set_role(actor, username, role))


@group.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable an account (ends its sessions)."""
    _change("disabled", username, lambda actor: commands.set_active(actor, username, False))


@group.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Re-enable a disabled account."""
    _change("enabled", username, lambda actor: commands.set_active(actor, username, True))


@group.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password(username: str, password_stdin: bool) -> None:
    """Replace a user's password (ends their sessions)."""
    password = _password(password_stdin)
    _change(
        "password changed", username, lambda actor: commands.set_password(actor, username, password)
    )


@group.command("reset-password")
@click.argument("username")
def reset_password(username: str) -> None:
    """Give a user a new random password, printed once (ends their sessions)."""
    try:
        password = commands.reset_password(Actor.cli(), username)
    except CommandError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{username}: new password (shown once): {password}")


@group.command("delete")
@click.argument("username")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def delete(username: str, yes: bool) -> None:
    """Delete an account; its name stays with its history and cannot be taken again."""
    if not yes:
        click.confirm(f"Delete {username}? Their name stays in history", abort=True)
    try:
        commands.delete(Actor.cli(), username)
    except CommandError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"deleted {username}; their open sessions have ended")


@group.command("ensure-admin")
def ensure_admin() -> None:
    """On an empty user table, create ``admin`` (password from ADMIN_PASSWORD, or printed once)."""
    given = current_settings().admin_password
    password = given or new_password()
    if not commands.ensure_admin(Actor.system(), password):
        return
    if given:
        click.echo("created user admin with the password in ADMIN_PASSWORD")
    else:
        click.echo(f"created user admin; password (shown once): {password}")
