"""Plain, frozen records of dashboards, versions, accounts and tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dashapp.core.permissions import Role


@dataclass(frozen=True)
class DashboardSummary:
    """A row of the dashboard list."""

    slug: str
    title: str
    tags: list[str]
    panel_count: int
    version: int
    updated_at: datetime
    updated_by: str | None


@dataclass(frozen=True)
class Dashboard:
    """A dashboard with its current spec document."""

    id: int
    slug: str
    title: str
    spec: dict[str, Any]
    version: int
    created_at: datetime
    updated_at: datetime
    updated_by: str | None


@dataclass(frozen=True)
class DashboardVersion:
    """One saved state of a dashboard."""

    version: int
    spec: dict[str, Any]
    author: str | None
    message: str
    created_at: datetime


@dataclass(frozen=True)
class DeletedDashboard:
    """A soft-deleted dashboard an admin may bring back."""

    id: int
    slug: str
    title: str
    version: int
    deleted_at: datetime


@dataclass(frozen=True)
class User:
    """An account, without its password hash."""

    id: int
    username: str
    role: Role
    active: bool
    session_version: int
    created_at: datetime
    timezone: str | None = None


@dataclass(frozen=True)
class Credentials:
    """An account with the hash to check a password against."""

    user: User
    password_hash: str


@dataclass(frozen=True)
class TokenInfo:
    """A token as listed (never with its secret)."""

    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None

    def active(self, now: datetime) -> bool:
        """Neither revoked nor expired at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True)
class NewToken:
    """A freshly created token: ``token`` is the only time the secret is available."""

    info: TokenInfo
    token: str


@dataclass(frozen=True)
class Annotation:
    """An event on the charts: an instant (``ends_at`` None) or a range, with text and
    tags; ``dashboard`` None marks it on every dashboard."""

    id: int
    dashboard: str | None
    panel_id: str | None
    starts_at: datetime
    ends_at: datetime | None
    text: str
    tags: list[str]
    created_by: str | None
    created_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    """One recorded write: when, who, through which channel, what, on what."""

    at: datetime
    actor: str | None
    channel: str
    action: str
    target: str
    detail: dict[str, Any]


@dataclass(frozen=True)
class AuditPage:
    """One page of a filtered audit log: its entries (newest first) and how many match."""

    entries: list[AuditEntry]
    total: int
    offset: int
