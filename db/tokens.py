"""API tokens repository: create (secret shown once), verify, list, revoke.

A token reads ``dsh_<prefix>_<secret>``. The prefix is public (it names the token in
lists and logs); the secret has 256 bits of entropy, so one SHA-256 is the right hash
(a slow password hash would only tax every request without adding safety).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from dashapp.core.permissions import check_scopes
from dashapp.core.records import NewToken, TokenInfo
from db.models import ApiTokenRow
from db.types import utcnow

TOKEN_PATTERN = re.compile(r"^dsh_([a-z0-9]{8})_([A-Za-z0-9_-]{20,100})$")
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _info(row: ApiTokenRow) -> TokenInfo:
    return TokenInfo(
        row.id,
        row.name,
        row.prefix,
        list(row.scopes),
        row.created_at,
        row.last_used_at,
        row.expires_at,
        row.revoked_at,
    )


def create_token(
    session: Session, name: str, scopes: list[str], expires_at: datetime | None = None
) -> NewToken:
    """Store a new token and return it with its secret (which is not stored)."""
    scopes = check_scopes(scopes)
    if not 1 <= len(name) <= 100:
        raise ValueError("a token name has 1 to 100 characters")
    prefix = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
    secret = secrets.token_urlsafe(32)
    row = ApiTokenRow(
        name=name,
        prefix=prefix,
        secret_hash=_hash(secret),
        scopes=scopes,
        created_at=utcnow(),
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return NewToken(_info(row), f"dsh_{prefix}_{secret}")


def parse_token(token: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed token, else None."""
    match = TOKEN_PATTERN.match(token)
    return (match.group(1), match.group(2)) if match else None


def verify_token(session: Session, token: str) -> TokenInfo | None:
    """The active token matching ``token``, or None (unknown, wrong, revoked or expired).

    Records ``last_used_at`` at most once a minute, so a busy client does not turn
    every request into a write on the same row.
    """
    parsed = parse_token(token)
    if parsed is None:
        return None
    prefix, secret = parsed
    row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.prefix == prefix))
    if row is None or not hmac.compare_digest(row.secret_hash, _hash(secret)):
        return None
    now = utcnow()
    info = _info(row)
    if not info.active(now):
        return None
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        session.execute(
            update(ApiTokenRow)
            .where(
                ApiTokenRow.id == row.id,
                or_(
                    ApiTokenRow.last_used_at.is_(None),
                    ApiTokenRow.last_used_at < now - LAST_USED_RESOLUTION,
                ),
            )
            .values(last_used_at=now)
            .execution_options(synchronize_session=False)
        )
    return info


def list_tokens(session: Session) -> list[TokenInfo]:
    """Every token, newest first (revoked ones included, marked by ``revoked_at``)."""
    rows = session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id.desc()))
    return [_info(row) for row in rows]


def revoke_token(session: Session, name_or_prefix: str) -> list[TokenInfo]:
    """Revoke the live tokens with this prefix (or, failing that, this name)."""
    now = utcnow()
    live = ApiTokenRow.revoked_at.is_(None)
    rows = list(
        session.scalars(select(ApiTokenRow).where(live, ApiTokenRow.prefix == name_or_prefix))
    )
    if not rows:
        rows = list(
            session.scalars(select(ApiTokenRow).where(live, ApiTokenRow.name == name_or_prefix))
        )
    for row in rows:
        row.revoked_at = now
    session.flush()
    return [_info(row) for row in rows]
