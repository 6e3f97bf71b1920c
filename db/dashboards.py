"""Dashboards repository: specs with optimistic versioning and an immutable history.

Every write stores a :class:`DashboardVersionRow`; updates must name the version
they started from, so two editors can never overwrite each other silently.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dashapp.core.records import Dashboard, DashboardSummary, DashboardVersion, DeletedDashboard
from dashapp.core.spec import DashboardSpec, dump_spec
from db.models import DashboardRow, DashboardVersionRow
from db.types import utcnow

SLUG_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")


class DashboardNotFound(LookupError):
    """No (live) dashboard has that slug."""


class SlugTaken(ValueError):
    """Another dashboard already uses that slug."""


class VersionConflict(RuntimeError):
    """The dashboard changed since the version the writer started from."""

    def __init__(self, slug: str, expected: int, current: int) -> None:
        self.slug, self.expected, self.current = slug, expected, current
        super().__init__(
            f"dashboard {slug!r} is at version {current}, not {expected}: "
            "someone else saved it meanwhile"
        )


def slugify(text: str) -> str:
    """A URL slug from a title: ``Service health`` -> ``service-health``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:100] or "dashboard"


def check_slug(slug: str) -> str:
    """Return ``slug`` if it is valid, else raise ValueError saying what a slug may hold."""
    if not SLUG_PATTERN.match(slug):
        raise ValueError(
            "slug must be 1-100 lower-case letters, digits or dashes, "
            "starting with a letter or digit"
        )
    return slug


def _to_dashboard(row: DashboardRow) -> Dashboard:
    return Dashboard(
        row.id, row.slug, row.title, row.spec, row.version,
        row.created_at, row.updated_at, row.updated_by,
    )  # fmt: skip


def _live_row(session: Session, slug: str, *, lock: bool = False) -> DashboardRow:
    if not isinstance(slug, str):  # a crafted request's store; no dashboard has it
        raise DashboardNotFound(repr(slug)[:100])
    statement = select(DashboardRow).where(
        DashboardRow.slug == slug, DashboardRow.deleted_at.is_(None)
    )
    if lock:
        statement = statement.with_for_update()
    row = session.scalar(statement)
    if row is None:
        raise DashboardNotFound(slug)
    return row


def list_dashboards(session: Session, search: str = "") -> list[DashboardSummary]:
    """Live dashboards, by title; with ``search``, those whose title, slug or tags hold
    every one of its words (any case)."""
    rows = session.scalars(
        select(DashboardRow).where(DashboardRow.deleted_at.is_(None)).order_by(DashboardRow.title)
    )
    summaries = [
        DashboardSummary(
            row.slug,
            row.title,
            list(row.spec.get("tags", [])),
            len(row.spec.get("panels", [])),
            row.version,
            row.updated_at,
            row.updated_by,
        )
        for row in rows
    ]
    words = search.casefold().split()
    return [s for s in summaries if all(word in _searchable(s) for word in words)]


def _searchable(summary: DashboardSummary) -> str:
    return " ".join([summary.title, summary.slug, *summary.tags]).casefold()


def get_dashboard(session: Session, slug: str) -> Dashboard:
    """The live dashboard with ``slug``; raises DashboardNotFound."""
    return _to_dashboard(_live_row(session, slug))


def create_dashboard(
    session: Session,
    slug: str,
    spec: DashboardSpec,
    author: str | None,
    message: str = "Created",
) -> Dashboard:
    """Insert a dashboard at version 1; raises SlugTaken if the slug is in use."""
    check_slug(slug)
    if session.scalar(select(DashboardRow.id).where(DashboardRow.slug == slug)) is not None:
        raise SlugTaken(slug)
    now = utcnow()
    document = dump_spec(spec)
    row = DashboardRow(
        slug=slug, title=spec.title, spec=document, version=1,
        created_at=now, updated_at=now, updated_by=author,
    )  # fmt: skip
    session.add(row)
    session.flush()
    _record_version(session, row, author, message)
    return _to_dashboard(row)


def update_dashboard(
    session: Session,
    slug: str,
    spec: DashboardSpec,
    expected_version: int,
    author: str | None,
    message: str = "",
    new_slug: str | None = None,
) -> Dashboard:
    """Save a new version; raises VersionConflict if ``expected_version`` is not current."""
    row = _live_row(session, slug)
    if new_slug and new_slug != slug:
        check_slug(new_slug)
        taken = session.scalar(select(DashboardRow.id).where(DashboardRow.slug == new_slug))
        if taken is not None:
            raise SlugTaken(new_slug)
    document = dump_spec(spec)
    result = session.execute(
        update(DashboardRow)
        .where(DashboardRow.id == row.id, DashboardRow.version == expected_version)
        .values(
            spec=document,
            title=spec.title,
            slug=new_slug or slug,
            version=DashboardRow.version + 1,
            updated_at=utcnow(),
            updated_by=author,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        session.refresh(row)
        raise VersionConflict(slug, expected_version, row.version)
    session.refresh(row)
    _record_version(session, row, author, message)
    return _to_dashboard(row)


def delete_dashboard(session: Session, slug: str, expected_version: int | None = None) -> None:
    """Soft-delete: the dashboard disappears from lists; its history stays restorable."""
    row = _live_row(session, slug)
    if expected_version is not None and row.version != expected_version:
        raise VersionConflict(slug, expected_version, row.version)
    row.deleted_at = utcnow()
    row.slug = f"{row.slug}{DELETED_MARK}{row.id}"  # frees the slug, keeps it whole


DELETED_MARK = "--deleted-"


def unique_slug(session: Session, wanted: str) -> str:
    """``wanted``, or ``wanted-2``, ``wanted-3``... whichever no dashboard uses yet."""

    def taken(slug: str) -> bool:
        return session.scalar(select(DashboardRow.id).where(DashboardRow.slug == slug)) is not None

    if not taken(check_slug(wanted)):
        return wanted
    base, number = wanted[:90], 2
    while taken(f"{base}-{number}"):
        number += 1
    return f"{base}-{number}"


def copy_dashboard(
    session: Session, slug: str, spec: DashboardSpec, author: str | None, message: str
) -> Dashboard:
    """A new dashboard holding ``spec`` as "<title> (copy)", under ``<slug>-copy`` (or
    ``-copy-2``...)."""
    copy_slug = unique_slug(session, f"{slug}-copy"[:100])
    copied = spec.model_copy(update={"title": f"{spec.title} (copy)"[:200]})
    return create_dashboard(session, copy_slug, copied, author, message)


def _original_slug(slug: str) -> str:
    return slug.rsplit(DELETED_MARK, 1)[0]


def list_deleted(session: Session) -> list[DeletedDashboard]:
    """Soft-deleted dashboards, most recently deleted first."""
    rows = session.scalars(
        select(DashboardRow)
        .where(DashboardRow.deleted_at.is_not(None))
        .order_by(DashboardRow.deleted_at.desc())
    )
    return [
        DeletedDashboard(row.id, _original_slug(row.slug), row.title, row.version, row.deleted_at)
        for row in rows
    ]


def undelete(session: Session, dashboard_id: int, author: str | None) -> Dashboard:
    """Bring a deleted dashboard back (under its old slug if still free) as a new version."""
    row = session.get(DashboardRow, dashboard_id)
    if row is None or row.deleted_at is None:
        raise DashboardNotFound(str(dashboard_id))
    row.slug = unique_slug(session, _original_slug(row.slug))
    row.deleted_at = None
    row.version += 1
    row.updated_at = utcnow()
    row.updated_by = author
    session.flush()
    _record_version(session, row, author, "Restored after deletion")
    return _to_dashboard(row)


def list_versions(session: Session, slug: str) -> list[DashboardVersion]:
    """Every saved state of a dashboard, newest first."""
    row = _live_row(session, slug)
    rows = session.scalars(
        select(DashboardVersionRow)
        .where(DashboardVersionRow.dashboard_id == row.id)
        .order_by(DashboardVersionRow.version.desc())
    )
    return [_to_version(v) for v in rows]


def get_version(session: Session, slug: str, version: int) -> DashboardVersion:
    """One saved state; raises DashboardNotFound if the dashboard or version is missing."""
    row = _live_row(session, slug)
    if type(version) is not int:
        raise DashboardNotFound(f"{slug} version {version!r}"[:200])
    found = session.get(DashboardVersionRow, (row.id, version))
    if found is None:
        raise DashboardNotFound(f"{slug} version {version}")
    return _to_version(found)


def _to_version(row: DashboardVersionRow) -> DashboardVersion:
    return DashboardVersion(row.version, row.spec, row.author, row.message, row.created_at)


def _record_version(session: Session, row: DashboardRow, author: str | None, message: str) -> None:
    session.add(
        DashboardVersionRow(
            dashboard_id=row.id,
            version=row.version,
            spec=row.spec,
            author=author,
            message=message,
            created_at=row.updated_at,
        )
    )
    session.flush()
