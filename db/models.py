"""SQLAlchemy 2 typed ORM models of the app's own tables (users, tokens, sessions, dashboards,
audit, annotations, worker jobs); the storage engine's are in :mod:`db.tsdb.models`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, BigId
from db.types import JSONDocument, Timestamp, utcnow


class DashboardRow(Base):
    """A dashboard: its current spec and version number."""

    __tablename__ = "dashboards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Live slugs are at most 100 characters; deleted ones carry a "--deleted-<id>" marker.
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    spec: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(100))
    deleted_at: Mapped[datetime | None] = mapped_column(Timestamp)


class DashboardVersionRow(Base):
    """An immutable saved state of a dashboard."""

    __tablename__ = "dashboard_versions"
    __table_args__ = (PrimaryKeyConstraint("dashboard_id", "version"),)

    dashboard_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("dashboards.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONDocument)
    author: Mapped[str | None] = mapped_column(String(100))
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class WorkerJobRow(Base):
    """When a periodic background job of ``dashapp worker`` is next due.

    A worker claims a due job by moving ``next_run_at`` forward inside the
    transaction that runs it: several workers run it once, and a worker that dies
    mid-job rolls its claim back, so the next one retakes it.
    """

    __tablename__ = "worker_jobs"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    next_run_at: Mapped[datetime] = mapped_column(Timestamp)
    last_run_at: Mapped[datetime | None] = mapped_column(Timestamp)
    last_result: Mapped[int | None] = mapped_column(Integer)
    runs: Mapped[int] = mapped_column(Integer, default=0)


class UserRow(Base):
    """A person who logs in: viewer, editor or admin.

    ``session_version`` is part of every session's identity: bumping it (role change,
    disable, password change) ends that user's existing sessions.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    # The time zone this person views dashboards in (None: the dashboard's setting).
    timezone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    # A deleted account is a tombstone: no password or sessions, its name kept, so the
    # history and the audit log that name it keep naming one person.
    deleted_at: Mapped[datetime | None] = mapped_column(Timestamp)


class UserSessionRow(Base):
    """One logged-in browser session; logging out deletes it, so a copied cookie is dead.

    The cookie carries a random token; only its SHA-256 is stored. The row also keeps the
    user's ``session_version`` at login, so a role change, disable or new password (which
    bump the version) end every session of the account.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    session_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(Timestamp)


class ApiTokenRow(Base):
    """A service token for the REST API; only a hash of its secret is stored.

    The token a client sends is ``dsh_<prefix>_<secret>``: ``prefix`` finds the row,
    the SHA-256 of the secret must equal ``secret_hash``.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSONDocument)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(Timestamp)
    expires_at: Mapped[datetime | None] = mapped_column(Timestamp)
    revoked_at: Mapped[datetime | None] = mapped_column(Timestamp)


class AuditRow(Base):
    """One write, as the command that made it recorded it: who, how, what, on what."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, index=True)
    actor: Mapped[str | None] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(10))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)


class AnnotationRow(Base):
    """An event marked on time-series charts: an instant or a range, text and tags;
    for one dashboard (optionally one panel), or for every dashboard (no dashboard)."""

    __tablename__ = "annotations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    dashboard_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("dashboards.id", ondelete="CASCADE"), index=True
    )
    panel_id: Mapped[str | None] = mapped_column(String(40))
    starts_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    ends_at: Mapped[datetime | None] = mapped_column(Timestamp)
    text: Mapped[str] = mapped_column(String(2000))
    tags: Mapped[list[str]] = mapped_column(JSONDocument, default=list)
    created_by: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)


class CacheInvalidationRow(Base):
    """A metric whose cached answers a write could not invalidate (Redis was paused or
    down): readers replay it into the cache, or read past the cache, until it lands.
    ``token`` changes with every failed invalidation, so a replay deletes only the
    row it replayed."""

    __tablename__ = "cache_invalidations"

    metric: Mapped[str] = mapped_column(Text, primary_key=True)
    token: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
