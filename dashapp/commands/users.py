"""Account writes (admins only): create, change role, disable/enable, set a password;
and anyone's own time zone.

Every change but creation ends the account's open sessions (its session version moves).
"""

from __future__ import annotations

import secrets

from werkzeug.security import generate_password_hash

from dashapp.commands.base import unit_of_work
from dashapp.commands.errors import Conflict, Invalid, NotFound, Unauthenticated, authorize
from dashapp.core.permissions import Actor, Role
from dashapp.core.records import User
from dashapp.core.zones import is_zone
from db import users

MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    """A salted, slow hash (Werkzeug's scrypt) of a password."""
    return generate_password_hash(password)


def _checked(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"the password needs at least {MIN_PASSWORD} characters")
    return hash_password(password)


def create(actor: Actor, username: str, password: str, role: str) -> User:
    """Add an active account; Conflict if the name is taken, Invalid for a bad name or role."""
    authorize(actor, "admin")
    digest = _checked(password)
    try:
        with unit_of_work(actor, "user.create") as (session, entry):
            user = users.create_user(session, username, digest, role)
            entry.update(target=username, detail={"role": role})
    except users.DeletedName:
        raise Conflict(
            f"the username {username!r} belonged to a deleted account: it stays with that "
            "account's history, pick another"
        ) from None
    except users.UserExists:
        raise Conflict(f"the username {username!r} is taken") from None
    except ValueError as error:
        raise Invalid(str(error)) from None
    return user


def _change(
    actor: Actor, action: str, username: str, change, detail: dict, role: Role = "admin"
) -> User:  # type: ignore[no-untyped-def]
    authorize(actor, role)
    try:
        with unit_of_work(actor, action) as (session, entry):
            user = change(session)
            entry.update(target=username, detail=detail)
    except users.UserNotFound:
        raise NotFound(f"no user named {username!r}") from None
    except ValueError as error:
        raise Invalid(str(error)) from None
    return user


def set_role(actor: Actor, username: str, role: str) -> User:
    """Change a role (ends the user's sessions)."""
    return _change(
        actor, "user.role", username, lambda s: users.set_role(s, username, role), {"role": role}
    )


def set_active(actor: Actor, username: str, active: bool) -> User:
    """Disable (ending its sessions) or re-enable an account."""
    return _change(
        actor, "user.enable" if active else "user.disable", username,
        lambda s: users.set_active(s, username, active), {},
    )  # fmt: skip


def set_password(actor: Actor, username: str, password: str) -> User:
    """Replace a password (ends the user's sessions)."""
    digest = _checked(password)
    return _change(
        actor, "user.password", username, lambda s: users.set_password_hash(s, username, digest), {}
    )


def reset_password(actor: Actor, username: str) -> str:
    """Give an account a new random password (ends its sessions); returns it, to be
    handed over once."""
    password = secrets.token_urlsafe(12)
    _change(
        actor, "user.password", username,
        lambda s: users.set_password_hash(s, username, hash_password(password)),
        {"generated": True},
    )  # fmt: skip
    return password


def delete(actor: Actor, username: str) -> None:
    """Delete an account (not your own): its password, sessions and settings go at once.

    The row stays as a tombstone and its name can never be taken again, so dashboard
    history and the audit log, which name people, keep naming this one person.
    """
    authorize(actor, "admin")
    if actor.name == username and actor.channel == "ui":
        raise Invalid("you cannot delete your own account")
    try:
        with unit_of_work(actor, "user.delete") as (session, entry):
            users.delete_user(session, username)
            entry.update(target=username, detail={})
    except users.UserNotFound:
        raise NotFound(f"no user named {username!r}") from None


def ensure_admin(actor: Actor, password: str) -> bool:
    """On an empty user table, create ``admin`` with ``password``; False if accounts exist."""
    authorize(actor, "admin")
    with unit_of_work(actor, "user.create") as (session, entry):
        if users.count_users(session):
            return False
        users.create_user(session, "admin", hash_password(password), "admin")
        entry.update(target="admin", detail={"role": "admin", "first": True})
    return True


def set_timezone(actor: Actor, timezone: str | None) -> User:
    """The acting person's own time zone for every dashboard (None: each dashboard's)."""
    if actor.name is None or actor.channel != "ui":
        raise Unauthenticated("log in to keep a time zone with your account")
    if timezone is not None and timezone != "browser" and not is_zone(timezone):
        raise Invalid(f"{timezone!r} is not a time zone")
    name = actor.name
    return _change(
        actor, "user.timezone", name,
        lambda session: users.set_timezone(session, name, timezone),
        {"timezone": timezone}, role="viewer",
    )  # fmt: skip
