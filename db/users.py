"""Users repository: accounts, roles, and the session version that ends old sessions."""

from __future__ import annotations

import re

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from dashapp.core.permissions import check_role
from dashapp.core.records import Credentials, User
from db.models import UserRow, UserSessionRow
from db.types import utcnow

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")


class UserExists(ValueError):
    """That username is taken."""


class UserNotFound(LookupError):
    """No user has that name or id (deleted accounts included)."""


class DeletedName(UserExists):
    """That username belonged to an account since deleted: it stays with its history."""


DELETED_HASH = "!deleted"  # no password hashes to this: a tombstone cannot log in


def to_user(row: UserRow) -> User:
    """The account as a plain record."""
    return User(
        row.id,
        row.username,
        row.role,  # type: ignore[arg-type]
        row.active,
        row.session_version,
        row.created_at,
        row.timezone,
    )


def create_user(session: Session, username: str, password_hash: str, role: str) -> User:
    """Add an active account; raises UserExists or ValueError (bad name or role)."""
    if not USERNAME.match(username):
        raise ValueError("username: 1-100 letters, digits, or . _ @ -")
    check_role(role)
    taken = session.scalar(select(UserRow).where(UserRow.username == username))
    if taken is not None:
        raise DeletedName(username) if taken.deleted_at is not None else UserExists(username)
    row = UserRow(
        username=username, password_hash=password_hash, role=role, active=True,
        session_version=1, created_at=utcnow(),
    )  # fmt: skip
    session.add(row)
    session.flush()
    return to_user(row)


LIVE = UserRow.deleted_at.is_(None)


def _row(session: Session, username: str) -> UserRow:
    row = session.scalar(select(UserRow).where(UserRow.username == username, LIVE))
    if row is None:
        raise UserNotFound(username)
    return row


def credentials(session: Session, username: str) -> Credentials | None:
    """The account and its password hash, for a login attempt (None if unknown or deleted)."""
    row = session.scalar(select(UserRow).where(UserRow.username == username, LIVE))
    return Credentials(to_user(row), row.password_hash) if row else None


def get_user(session: Session, user_id: int) -> User | None:
    """The account with ``user_id`` (None if unknown or deleted)."""
    row = session.get(UserRow, user_id)
    return to_user(row) if row and row.deleted_at is None else None


def list_users(session: Session) -> list[User]:
    """Every account, by name (deleted ones are gone from lists)."""
    statement = select(UserRow).where(LIVE).order_by(UserRow.username)
    return [to_user(r) for r in session.scalars(statement)]


def deleted_names(session: Session) -> set[str]:
    """Names of deleted accounts (the audit log marks them)."""
    return set(session.scalars(select(UserRow.username).where(UserRow.deleted_at.is_not(None))))


def count_users(session: Session) -> int:
    """How many accounts exist (tombstones count: ``admin`` is not created again)."""
    return session.scalar(select(func.count()).select_from(UserRow)) or 0


def delete_user(session: Session, username: str) -> None:
    """Delete an account: its password, sessions and settings go; its name stays taken."""
    row = _row(session, username)
    row.deleted_at = utcnow()
    row.active = False
    row.password_hash = DELETED_HASH
    row.timezone = None
    _end_sessions(session, row)


def _end_sessions(session: Session, row: UserRow) -> None:
    """End every open session of the account (the version check would refuse them too)."""
    row.session_version += 1
    session.execute(delete(UserSessionRow).where(UserSessionRow.user_id == row.id))


def set_role(session: Session, username: str, role: str) -> User:
    """Change a role; the user's existing sessions end."""
    row = _row(session, username)
    row.role = check_role(role)
    _end_sessions(session, row)
    return to_user(row)


def set_active(session: Session, username: str, active: bool) -> User:
    """Disable (or re-enable) an account; disabling ends its sessions."""
    row = _row(session, username)
    row.active = active
    _end_sessions(session, row)
    return to_user(row)


def set_password_hash(session: Session, username: str, password_hash: str) -> User:
    """Replace a password; the user's existing sessions end."""
    row = _row(session, username)
    row.password_hash = password_hash
    _end_sessions(session, row)
    return to_user(row)


def set_timezone(session: Session, username: str, timezone: str | None) -> User:
    """The zone this person views dashboards in (None: each dashboard's own setting)."""
    row = _row(session, username)
    row.timezone = timezone
    return to_user(row)
