"""Rate limits (Flask-Limiter) and CORS for the API.

Limits count per token, else per client address, in Redis when ``REDIS_URL`` is set
so every worker and host shares them. A dead Redis must not take the API down: short
socket timeouts, no retries, and Flask-Limiter's in-memory fallback until it is back.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask, Response, current_app, request
from flask_cors import CORS
from flask_limiter import Limiter
from limits import RateLimitItem
from limits.storage import RedisStorage
from limits.strategies import RateLimiter
from redis.backoff import NoBackoff
from redis.exceptions import NoScriptError
from redis.retry import Retry

from dashapp.api.auth import rate_limit_key
from dashapp.settings import Settings

API_PREFIX = "/api/v1/"
UNLIMITED_ENDPOINTS = frozenset(
    {"api.health", "api.ready", "api.openapi_document", "agents.ping", "agents.health"}
)
EXTENSION_KEY = "dashapp.limiter"


def _exempt() -> bool:
    return (
        not (request.path.startswith(API_PREFIX) or request.blueprint == "agents")
        or request.method == "OPTIONS"
        or request.endpoint in UNLIMITED_ENDPOINTS
    )


def limit_scope(name: str) -> str:
    """``name`` with this app's key prefix, for direct ``limiter.hit`` calls (Flask-Limiter
    only prefixes the keys it builds itself): deployments and test runs sharing one Redis
    keep their own counts."""
    return current_app.config.get("CACHE_KEY_PREFIX", "dashapp:") + name


def hit_all(
    strategy: RateLimiter, items: Sequence[RateLimitItem], *identifiers: str
) -> RateLimitItem | None:
    """Count one hit against each of ``items`` (fixed windows); the first one exceeded,
    or None. On Redis the counters go in one round trip (the library's own counting
    script, pipelined) instead of one per limit: the panel callbacks count against two
    windows on every request."""
    storage = strategy.storage

    def one_by_one() -> RateLimitItem | None:
        return next((item for item in items if not strategy.hit(item, *identifiers)), None)

    if not isinstance(storage, RedisStorage):
        return one_by_one()
    # By hash: a pipeline running a script object first asks whether it is loaded.
    sha = storage.lua_incr_expire.sha
    pipe = storage.get_connection().pipeline(transaction=False)
    for item in items:
        pipe.evalsha(sha, 1, storage.prefixed_key(item.key_for(*identifiers)), item.get_expiry(), 1)
    try:
        counts = pipe.execute()
    except NoScriptError:  # a restarted Redis: the library's own calls load it again
        return one_by_one()
    return next(
        (item for item, count in zip(items, counts, strict=True) if int(count) > item.amount),
        None,
    )


def init_limiter(app: Flask, settings: Settings) -> Limiter:
    """A Limiter for ``app`` (one per app: its storage is per app) applying API_RATE_LIMIT.

    One budget per client across all API routes (an application limit), not one per route.
    """
    options: dict = {}
    if settings.redis_url:
        timeout = settings.redis_socket_timeout
        options = {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "retry": Retry(NoBackoff(), 0),
            "health_check_interval": 0,
        }
    limiter = Limiter(
        rate_limit_key,
        application_limits=[settings.api_rate_limit],
        application_limits_exempt_when=_exempt,
        storage_uri=settings.redis_url or "memory://",
        storage_options=options,
        strategy="fixed-window",
        headers_enabled=True,
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        key_prefix=app.config.get("CACHE_KEY_PREFIX", "dashapp:") + "limits",
    )
    app.after_request(_retry_after)  # registered first, so it runs after the limiter's
    limiter.init_app(app)
    app.extensions[EXTENSION_KEY] = limiter
    return limiter


RETRY_STATUSES = (429, 503)


def _retry_after(response: Response) -> Response:
    """Retry-After only where retrying later helps (429, 503), and then at least 1 s.

    Flask-Limiter sets it on every response as whole seconds to the window's reset,
    which is 0 in the window's last second: a client told to retry after 0 s hammers.
    """
    value = response.headers.get("Retry-After")
    if value is None:
        return response
    if response.status_code not in RETRY_STATUSES:
        del response.headers["Retry-After"]
    elif not value.isdigit() or int(value) < 1:
        response.headers["Retry-After"] = "1"
    return response


def init_cors(app: Flask, settings: Settings) -> None:
    """Allow browsers on ``CORS_ORIGINS`` (comma-separated, or ``*``) to call the API."""
    origins = [origin.strip() for origin in settings.cors_origins.split(",") if origin.strip()]
    if not origins:
        return
    CORS(
        app,
        resources={r"/api/v1/*": {"origins": "*" if origins == ["*"] else origins}},
        allow_headers=["Authorization", "Content-Type", "Content-Encoding", "If-Match"],
        expose_headers=[
            "ETag",
            "Location",
            "Retry-After",
            "X-RateLimit-Limit",
            "X-RateLimit-Remaining",
            "X-RateLimit-Reset",
        ],
        max_age=600,
    )
