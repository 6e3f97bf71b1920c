"""Who may call what: service tokens with scopes, and anonymous reads.

One place decides access, so issue 5 can add "or a logged-in user with role X"
here without touching the routes. ``admin`` implies every other scope.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from dashapp.api.errors import ApiError
from dashapp.extensions import database
from dashapp.settings import current_settings
from db import tokens

F = TypeVar("F", bound=Callable[..., Any])
IMPLIED = {"admin": {"admin", "ingest", "read"}, "ingest": {"ingest"}, "read": {"read"}}
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="dashapp"'}


def bearer_token() -> str | None:
    """The token in ``Authorization: Bearer ...``, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def current_token() -> tokens.TokenInfo | None:
    """The verified token of this request (None without one); 401 for a bad one."""
    if "api_token" in g:
        return g.api_token
    presented = bearer_token()
    info = None
    if presented is not None:
        with database.transaction() as session:
            info = tokens.verify_token(session, presented)
        if info is None:
            raise ApiError(
                401, "Unauthorized", "the token is unknown, revoked or expired", headers=CHALLENGE
            )
    # Other schemes (say, Basic from a proxy in front) are not ours: as if no token was sent.
    g.api_token = info
    return info


def authorize(scope: str) -> tokens.TokenInfo | None:
    """Check the request may do what ``scope`` allows; raises ApiError 401/403.

    ``read`` needs no token while ANONYMOUS_VIEW is on.
    """
    info = current_token()
    if info is None:
        if scope == "read" and current_settings().anonymous_view:
            return None
        raise ApiError(
            401, "Unauthorized", f"this needs a token with the {scope!r} scope", headers=CHALLENGE
        )
    granted = set().union(*(IMPLIED.get(s, set()) for s in info.scopes))
    if scope not in granted:
        raise ApiError(
            403, "Forbidden", f"token {info.prefix} has scopes {info.scopes}; this needs {scope!r}"
        )
    return info


def requires(scope: str) -> Callable[[F], F]:
    """Decorator: run :func:`authorize` before the view."""

    def decorate(view: F) -> F:
        @wraps(view)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            authorize(scope)
            return view(*args, **kwargs)

        guarded.required_scope = scope  # type: ignore[attr-defined]  # read by the OpenAPI builder
        return guarded  # type: ignore[return-value]

    return decorate


def actor() -> str | None:
    """Who is acting, for ``updated_by`` / version authors."""
    info = g.get("api_token")
    return f"token:{info.name}" if info else None


def rate_limit_key() -> str:
    """Rate limits count per verified token, else per client address.

    Only a verified token gets its own budget: an unknown or forged one (whose prefix
    may be someone else's, prefixes are public) counts against the address it comes from.
    """
    try:
        info = current_token()
    except ApiError:
        info = None
    if info is not None:
        return "token:" + info.prefix
    return "addr:" + (request.remote_addr or "unknown")


# --- Agents' ways of sending a token (issue 11) -----------------------------------------


def agent_credentials() -> str | None:
    """The token as standard agents send it, if any.

    ``Authorization: Bearer <t>`` (OTLP, Prometheus), ``Token <t>`` (InfluxDB v2),
    HTTP Basic with the token as the password (Prometheus ``basic_auth``, InfluxDB v1,
    collectd), or the ``p`` query parameter (InfluxDB v1).
    """
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme in ("bearer", "token") and value:
        return value
    if scheme == "basic" and request.authorization and request.authorization.password:
        return request.authorization.password
    return request.args.get("p") or None


def authorize_agent(scope: str) -> tokens.TokenInfo | None:
    """:func:`authorize`, accepting every way of :func:`agent_credentials`."""
    if g.get("api_token") is None:
        presented = agent_credentials()
        if presented is not None:
            with database.transaction() as session:
                info = tokens.verify_token(session, presented)
            if info is None:
                raise ApiError(401, "Unauthorized", "the token is unknown, revoked or expired")
            g.api_token = info
    return authorize(scope)
