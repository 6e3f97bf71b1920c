"""dashapp: a pure-Python metrics dashboard (Dash + Flask + SQLAlchemy)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def create_app(config: Mapping[str, Any] | None = None, *, signing: bool = True) -> Flask:
    """Build the Flask server that owns the Dash app and the REST API.

    ``config`` overrides environment settings (``DATABASE_URL``, ``REDIS_URL``, ...);
    any other upper-case key goes straight into ``app.config`` (tests use this).
    ``signing=False`` is for commands that sign nothing: they need no SECRET_KEY.
    Raises :class:`dashapp.settings.ConfigError` (one line) for bad settings.
    """
    from dashapp import api, cli, outage, pages
    from dashapp.auth import csrf, init_auth
    from dashapp.cache import init_cache
    from dashapp.commands.ingest import SeriesIdCache
    from dashapp.dash_app import init_dash
    from dashapp.extensions import database
    from dashapp.settings import load_settings, resolve_secret_key

    overrides = dict(config or {})
    settings = load_settings(overrides)
    app = Flask(__name__, instance_path=str(PROJECT_ROOT / "instance"))
    app.config.update(
        SECRET_KEY=resolve_secret_key(settings, Path(app.instance_path), signing=signing),
        MAX_CONTENT_LENGTH=settings.max_content_length,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_SORT_KEYS=False,
        CACHE_FRESHNESS=settings.cache_freshness,
        CACHE_BLOCK_TIMEOUT=settings.cache_block_timeout,
        CACHE_KEY_PREFIX=settings.cache_key_prefix,
        CACHE_TAIL_GRACE=settings.cache_tail_grace,
        LIVE_STALE_LIMIT=settings.live_stale_limit,
    )
    app.config.update({k: v for k, v in overrides.items() if k.isupper()})
    app.extensions["dashapp.settings"] = settings
    app.extensions["dashapp.series_ids"] = SeriesIdCache()

    if settings.trusted_proxies:
        # Client addresses (rate limits, logs) and the scheme from the proxies' headers;
        # only as many hops as there are proxies, so clients cannot forge their address.
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    database.init_app(
        app,
        settings.database_url,
        settings.statement_timeout_ms,
        settings.read_urls,
        settings.read_max_lag_ms,
        sqlite_busy_timeout=settings.sqlite_busy_timeout,
    )
    init_cache(app, settings, app.config["CACHE_KEY_PREFIX"])
    api.init_app(app)
    outage.init_app(app)
    init_auth(app)
    csrf.exempt(api.blueprint)  # the API authenticates with tokens, not cookies
    cli.init_app(app)
    init_dash(app)
    pages.init_app(app)
    return app
