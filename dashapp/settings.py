"""One Settings object, read from environment variables (12-factor)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dashapp.core.retention import Retention, parse_duration, parse_retention

DEFAULT_DATABASE_URL = "sqlite:///instance/dashapp.db"
PLACEHOLDER_SECRETS = frozenset({"", "dev", "secret", "changeme", "change-me", "please-change"})
DATABASE_DRIVERS = {
    "sqlite": "sqlite",
    "sqlite+pysqlite": "sqlite+pysqlite",
    "postgresql+psycopg": "postgresql+psycopg",
    # The usual spellings of PostgreSQL URLs mean dashapp's driver, psycopg 3.
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
}
REDIS_SCHEMES = ("redis", "rediss", "unix")


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message is one line naming the variable."""


class Settings(BaseSettings):
    """Runtime configuration; every field maps to an upper-case environment variable."""

    # An empty variable (DATABASE_URL=) means unset, as in most 12-factor tools.
    model_config = SettingsConfigDict(case_sensitive=False, extra="ignore", env_ignore_empty=True)

    dashapp_env: Literal["development", "production", "test"] = "production"
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    secret_key: str | None = None
    anonymous_view: bool = True
    statement_timeout_ms: int = Field(default=10_000, ge=100)
    sqlite_busy_timeout: float = Field(default=30.0, gt=0, le=600)
    """Seconds a SQLite writer waits for another's write lock before it fails (and retries)."""
    host: str = "127.0.0.1"
    port: int = 8050
    max_content_length: int = Field(default=32 * 1024 * 1024, ge=1024)
    secure_cookies: bool | None = None  # unset: on in production, off in development
    login_rate_limit: str = "10/minute"
    # Longest a login lasts (server-side, and the "keep me logged in" cookie).
    session_lifetime_days: float = Field(default=14, gt=0, le=366)
    admin_password: str | None = None
    redis_socket_timeout: float = 0.25
    cache_timeout: int = 600
    cache_freshness: int = Field(default=300, ge=0)
    """Seconds before now after which cached blocks are immutable: the live minutes plus
    the window in which points normally still arrive (later ones invalidate their block)."""
    cache_block_timeout: int = Field(default=86_400, ge=60)
    cache_key_prefix: str = Field(default="dashapp:", max_length=60)
    cache_tail_grace: float = Field(default=0.0, ge=0)
    """Seconds a fresh tail may be shared before it is recomputed, whatever was written
    meanwhile (0: every write is seen by the next query)."""
    live_tail_grace: float = Field(default=1.0, ge=0)
    """The same for dashboards' auto-refresh ticks only: viewers of a watched dashboard
    share one recomputation of its newest minute per this many seconds (a point written
    meanwhile shows at the next tick). Loads, range changes and the refresh button always
    read the newest (0: ticks too)."""
    live_stale_limit: float = Field(default=3.0, ge=0)
    """On a tick, the newest minute's latest answer up to this many seconds old (older
    than the grace) is shown at once and recomputed in the background: a tick never
    waits for a recomputation that another viewer's next tick will share (0: it waits)."""
    api_rate_limit: str = "100/second"
    cors_origins: str = ""
    retention: str = "raw:30d,1m:180d,1h:5y"
    retention_rules: str = ""
    compact_after: str = "1h"
    read_database_url: str = ""
    read_max_lag_ms: int = Field(default=5000, ge=0)

    # Dash callbacks (the browser's data requests), per user or client address.
    dash_rate_limit: str = "50/second;1500/minute"
    # Ad-hoc panels (editor drafts and previews), per user, on top of DASH_RATE_LIMIT.
    adhoc_rate_limit: str = "10/second;300/minute"
    # Most series x points one panel request may ask for.
    callback_cost_limit: int = Field(default=250_000, ge=1000)
    # How many reverse proxies in front set X-Forwarded-For/-Proto (0: trust none).
    trusted_proxies: int = Field(default=0, ge=0, le=10)

    @property
    def read_urls(self) -> list[str]:
        """``READ_DATABASE_URL``: comma-separated replica URLs (empty: read the primary)."""
        return [url.strip() for url in self.read_database_url.split(",") if url.strip()]

    @property
    def retention_policy(self) -> Retention:
        """``RETENTION`` with its ``RETENTION_RULES`` overrides by metric-name prefix."""
        return parse_retention(self.retention, self.retention_rules)

    @property
    def compaction_delay(self) -> timedelta:
        """How long after a day ends its points are compacted (``COMPACT_AFTER``)."""
        delay = parse_duration(self.compact_after)
        return delay if delay is not None else timedelta(hours=1)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value)
        except ArgumentError:
            raise ValueError("not a database URL") from None
        driver = DATABASE_DRIVERS.get(url.drivername)
        if driver is None:
            raise ValueError(
                f"unsupported database {url.drivername!r}: use sqlite:///path "
                "or postgresql+psycopg://user@host/db"
            )
        return url.set(drivername=driver).render_as_string(hide_password=False)

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        from urllib.parse import urlsplit

        if value is None:
            return None
        try:
            parts = urlsplit(value)
            valid = parts.scheme in REDIS_SCHEMES and bool(parts.hostname or parts.path)
            valid = valid and (parts.scheme == "unix" or parts.port is None or parts.port > 0)
        except ValueError:  # a port out of range or a malformed host
            valid = False
        if not valid:
            raise ValueError("not a Redis URL (redis://host:6379/0)")
        return value

    @field_validator("retention", "retention_rules", "compact_after")
    @classmethod
    def _valid_storage(cls, value: str, info: ValidationInfo) -> str:
        if info.field_name == "compact_after":
            parse_duration(value)
        elif info.field_name == "retention":
            parse_retention(value)
        else:
            parse_retention("", value)
        return value

    @property
    def cookies_secure(self) -> bool:
        """Send cookies over HTTPS only: on by default outside development."""
        return self.secure_cookies if self.secure_cookies is not None else not self.is_dev

    @property
    def is_dev(self) -> bool:
        """True for local development and tests, where a generated secret key is fine."""
        return self.dashapp_env in ("development", "test")


def current_settings() -> Settings:
    """The Settings of the app handling the current request or command."""
    from flask import current_app

    return current_app.extensions["dashapp.settings"]


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Build Settings from the environment, with ``overrides`` (any key case) on top."""
    known = Settings.model_fields
    values = {k.lower(): v for k, v in (overrides or {}).items() if k.lower() in known and v != ""}
    try:
        return Settings(**values)
    except ValidationError as error:
        problems = []
        for item in error.errors(include_url=False):
            variable = ".".join(map(str, item["loc"])).upper()
            problems.append(f"{variable}: {item['msg'].removeprefix('Value error, ')}")
        raise ConfigError("; ".join(problems)) from None


def resolve_secret_key(settings: Settings, instance_path: Path, *, signing: bool = True) -> str:
    """Return the secret key; refuse a placeholder outside dev, persist a random one in dev.

    Without ``signing`` (commands that sign nothing: ``db``, ``tokens``, ``users``) a
    missing key outside dev is replaced by a throwaway random one instead of refused.
    """
    key = settings.secret_key or ""
    if key.lower() not in PLACEHOLDER_SECRETS and len(key) >= 16:
        return key
    if not settings.is_dev and not signing:
        return secrets.token_urlsafe(48)
    if not settings.is_dev:
        raise ConfigError(
            "SECRET_KEY is missing or a placeholder: set SECRET_KEY to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(48))')"
        )
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key
