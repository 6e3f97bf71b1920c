"""Annotations: events marked on time-series charts, per dashboard or everywhere."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dashapp.core.records import Annotation
from db.models import AnnotationRow, DashboardRow

MAX_LISTED = 500


def _annotation(row: AnnotationRow, slug: str | None) -> Annotation:
    return Annotation(
        row.id,
        slug,
        row.panel_id,
        row.starts_at,
        row.ends_at,
        row.text,
        list(row.tags or []),
        row.created_by,
        row.created_at,
    )


def dashboard_id(session: Session, slug: str) -> int | None:
    """The id of the live dashboard ``slug`` (None when there is none)."""
    return session.scalar(select(DashboardRow.id).where(DashboardRow.slug == slug))


def create_annotation(
    session: Session,
    *,
    dashboard: tuple[int, str] | None,
    panel_id: str | None,
    starts_at: datetime,
    ends_at: datetime | None,
    text: str,
    tags: Sequence[str],
    created_by: str | None,
) -> Annotation:
    """Store one annotation (``dashboard`` is (id, slug), or None for everywhere)."""
    row = AnnotationRow(
        dashboard_id=dashboard[0] if dashboard else None,
        panel_id=panel_id,
        starts_at=starts_at,
        ends_at=ends_at,
        text=text,
        tags=list(tags),
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    return _annotation(row, dashboard[1] if dashboard else None)


def list_annotations(
    session: Session,
    slug: str,
    start: datetime,
    end: datetime,
    tags: Sequence[str] = (),
) -> list[Annotation]:
    """Annotations shown on ``slug`` that overlap [start, end): its own and the global
    ones, with every tag in ``tags``; oldest first, at most MAX_LISTED."""
    own = dashboard_id(session, slug)
    where = [
        AnnotationRow.starts_at < end,
        or_(
            AnnotationRow.ends_at.is_(None) & (AnnotationRow.starts_at >= start),
            AnnotationRow.ends_at >= start,
        ),
        or_(AnnotationRow.dashboard_id.is_(None), AnnotationRow.dashboard_id == own),
    ]
    rows = session.scalars(
        select(AnnotationRow).where(*where).order_by(AnnotationRow.starts_at).limit(MAX_LISTED)
    ).all()
    wanted = set(tags)
    return [
        _annotation(row, slug if row.dashboard_id == own else None)
        for row in rows
        if wanted <= set(row.tags or [])
    ]
