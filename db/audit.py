"""Audit repository: append what a command did, list the newest entries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashapp.core.records import AuditEntry, AuditPage
from db.models import AuditRow
from db.types import utcnow


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


def search(
    session: Session,
    actor: str | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> AuditPage:
    """Entries by ``actor`` and ``action`` between ``since`` and ``until`` (each filter
    optional), newest first, one page of ``limit`` from ``offset``."""
    conditions = []
    if actor:
        conditions.append(AuditRow.actor == actor)
    if action:
        conditions.append(AuditRow.action == action)
    if since is not None:
        conditions.append(AuditRow.at >= since)
    if until is not None:
        conditions.append(AuditRow.at < until)
    total = session.scalar(select(func.count()).select_from(AuditRow).where(*conditions)) or 0
    statement = (
        select(AuditRow).where(*conditions).order_by(AuditRow.id.desc()).limit(limit).offset(offset)
    )
    entries = [
        AuditEntry(row.at, row.actor, row.channel, row.action, row.target, dict(row.detail))
        for row in session.scalars(statement)
    ]
    return AuditPage(entries, total, offset)


def facets(session: Session) -> tuple[list[str], list[str]]:
    """The actors and the actions the log holds, sorted (for its filters)."""
    actors = session.scalars(select(AuditRow.actor).where(AuditRow.actor.is_not(None)).distinct())
    actions = session.scalars(select(AuditRow.action).distinct())
    return sorted(a for a in actors if a), sorted(actions)
