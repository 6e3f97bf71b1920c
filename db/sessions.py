"""Login sessions kept server-side: a cookie is only good while its row exists.

Tokens are random; only their SHA-256 is stored (a database dump opens no session).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dashapp.core.records import User
from db.models import UserRow, UserSessionRow
from db.types import utcnow
from db.users import to_user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, user: User, lifetime: timedelta) -> str:
    """Open a session for ``user`` lasting at most ``lifetime``; returns its token."""
    now = utcnow()
    session.execute(  # tidy this user's expired sessions while here
        delete(UserSessionRow).where(
            UserSessionRow.user_id == user.id, UserSessionRow.expires_at <= now
        )
    )
    token = secrets.token_urlsafe(32)
    session.add(
        UserSessionRow(
            token_hash=_digest(token),
            user_id=user.id,
            session_version=user.session_version,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    session.flush()
    return token


def load(session: Session, token: str) -> User | None:
    """The active user of a live session (None: ended, expired, or the account changed)."""
    row = session.execute(
        select(UserRow, UserSessionRow.session_version, UserSessionRow.expires_at)
        .join(UserSessionRow, UserSessionRow.user_id == UserRow.id)
        .where(UserSessionRow.token_hash == _digest(token))
    ).first()
    if row is None:
        return None
    user, version, expires_at = row
    if not user.active or user.session_version != version or expires_at <= utcnow():
        return None
    return to_user(user)


def end(session: Session, token: str) -> bool:
    """Delete one session (logout); whether it existed."""
    result = session.execute(
        delete(UserSessionRow).where(UserSessionRow.token_hash == _digest(token))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def end_all(session: Session, user_id: int) -> int:
    """Delete every session of an account; how many there were."""
    result = session.execute(delete(UserSessionRow).where(UserSessionRow.user_id == user_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


def count(session: Session, user_id: int) -> int:
    """How many sessions an account has open (expired ones included until tidied)."""
    rows = session.scalars(select(UserSessionRow.id).where(UserSessionRow.user_id == user_id))
    return len(rows.all())


def prune_expired(session: Session) -> int:
    """Delete every expired session (the worker's periodic job); how many were deleted."""
    result = session.execute(delete(UserSessionRow).where(UserSessionRow.expires_at <= utcnow()))
    return result.rowcount or 0
