"""Audit repository: append what a command did, list the newest entries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import AuditRow
from db.types import utcnow


@dataclass(frozen=True)
class AuditEntry:
    """One recorded write."""

    at: datetime
    actor: str | None
    channel: str
    action: str
    target: str
    detail: dict[str, Any]


def record(
    session: Session,
    actor: str | None,
    channel: str,
    action: str,
    target: str,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one entry (inside the caller's transaction: it commits with the write)."""
    row = AuditRow(at=utcnow(), actor=actor, channel=channel, action=action)
    row.target, row.detail = target[:200], detail or {}
    session.add(row)


def recent(session: Session, limit: int = 100, action: str | None = None) -> list[AuditEntry]:
    """The newest entries first (optionally of one action)."""
    statement = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if action is not None:
        statement = statement.where(AuditRow.action == action)
    return [
        AuditEntry(row.at, row.actor, row.channel, row.action, row.target, dict(row.detail))
        for row in session.scalars(statement)
    ]
