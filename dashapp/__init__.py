"""dashapp: a pure-Python metrics dashboard (Dash + Flask + SQLAlchemy)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask server that owns the Dash app and the REST API.

    ``config`` overrides environment settings (``DATABASE_URL``, ``REDIS_URL``, ...);
    any other upper-case key goes straight into ``app.config`` (tests use this).
    """
    from dashapp import api, cli
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
        SECRET_KEY=resolve_secret_key(settings, Path(app.instance_path)),
        MAX_CONTENT_LENGTH=settings.max_content_length,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        JSON_SORT_KEYS=False,
    )
    app.config.update({k: v for k, v in overrides.items() if k.isupper()})
    app.extensions["dashapp.settings"] = settings
    app.extensions["dashapp.series_ids"] = SeriesIdCache()

    database.init_app(
        app,
        settings.database_url,
        settings.statement_timeout_ms,
        settings.read_urls,
        settings.read_max_lag_ms,
    )
    init_cache(app, settings, app.config.get("CACHE_KEY_PREFIX", "dashapp:"))
    api.init_app(app)
    init_auth(app)
    csrf.exempt(api.blueprint)  # the API authenticates with tokens, not cookies
    cli.init_app(app)
    init_dash(app)
    return app
