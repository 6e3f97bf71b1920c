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
    """No user has that name or id."""


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
    if session.scalar(select(UserRow.id).where(UserRow.username == username)) is not None:
        raise UserExists(username)
    row = UserRow(
        username=username, password_hash=password_hash, role=role, active=True,
        session_version=1, created_at=utcnow(),
    )  # fmt: skip
    session.add(row)
    session.flush()
    return to_user(row)


def _row(session: Session, username: str) -> UserRow:
    row = session.scalar(select(UserRow).where(UserRow.username == username))
    if row is None:
        raise UserNotFound(username)
    return row


def credentials(session: Session, username: str) -> Credentials | None:
    """The account and its password hash, for a login attempt (None if unknown)."""
    row = session.scalar(select(UserRow).where(UserRow.username == username))
    return Credentials(to_user(row), row.password_hash) if row else None


def get_user(session: Session, user_id: int) -> User | None:
    """The account with ``user_id``."""
    row = session.get(UserRow, user_id)
    return to_user(row) if row else None


def list_users(session: Session) -> list[User]:
    """Every account, by name."""
    return [to_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]


def count_users(session: Session) -> int:
    """How many accounts exist."""
    return session.scalar(select(func.count()).select_from(UserRow)) or 0


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
