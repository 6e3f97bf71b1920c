"""Who may call what: service tokens with scopes, and anonymous reads.

Scopes map onto the roles of :mod:`dashapp.core.permissions` (``read`` viewer, ``edit``
editor, ``admin`` admin; ``ingest`` pushes points), and the commands' checks decide.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, request

from dashapp.api.errors import ApiError
from dashapp.commands.errors import Forbidden, Unauthenticated, require_annotate, require_ingest
from dashapp.commands.errors import authorize as authorize_role
from dashapp.core.permissions import Actor, Role
from dashapp.core.records import TokenInfo
from dashapp.extensions import database
from dashapp.settings import current_settings
from db import pacing, tokens

F = TypeVar("F", bound=Callable[..., Any])
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="dashapp"'}


def bearer_token() -> str | None:
    """The token in ``Authorization: Bearer ...``, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def current_token() -> TokenInfo | None:
    """The verified token of this request (None without one); 401 for a bad one."""
    if "api_token" in g:
        return g.api_token
    presented = bearer_token()
    info = None
    if presented is not None:
        info = pacing.retry_busy(lambda: _verify(presented))
        if info is None:
            raise ApiError(
                401, "Unauthorized", "the token is unknown, revoked or expired", headers=CHALLENGE
            )
    # Other schemes (say, Basic from a proxy in front) are not ours: as if no token was sent.
    g.api_token = info
    return info


def _verify(presented: str) -> TokenInfo | None:
    with database.transaction() as session:  # it may record the token's last use: a write
        return tokens.verify_token(session, presented)


SCOPE_ROLE: dict[str, Role] = {"read": "viewer", "edit": "editor", "admin": "admin"}


def api_actor() -> Actor:
    """Who this request acts as: its token, or an anonymous viewer (when ANONYMOUS_VIEW is on)."""
    info = current_token()
    if info is not None:
        return Actor.token(info.name, info.scopes)
    return Actor(None, "viewer" if current_settings().anonymous_view else None, "api")


def authorize(scope: str) -> None:
    """Check the request may do what ``scope`` allows; raises ApiError 401/403.

    The check itself is the commands' (one permission model for UI, API and CLI); it
    runs here too, before the body is read. ``read`` needs no token while
    ANONYMOUS_VIEW is on.
    """
    actor = api_actor()
    try:
        if scope == "ingest":
            require_ingest(actor)
        elif scope == "annotate":
            require_annotate(actor)
        else:
            authorize_role(actor, SCOPE_ROLE[scope])
    except Unauthenticated:
        raise ApiError(
            401, "Unauthorized", f"this needs a token with the {scope!r} scope", headers=CHALLENGE
        ) from None
    except Forbidden:
        info = current_token()
        scopes = info.scopes if info else []
        prefix = info.prefix if info else "?"
        raise ApiError(
            403, "Forbidden", f"token {prefix} has scopes {scopes}; this needs {scope!r}"
        ) from None


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


def authorize_agent(scope: str) -> None:
    """:func:`authorize`, accepting every way of :func:`agent_credentials`."""
    if g.get("api_token") is None:
        presented = agent_credentials()
        if presented is not None:
            with database.transaction() as session:
                info = tokens.verify_token(session, presented)
            if info is None:
                raise ApiError(401, "Unauthorized", "the token is unknown, revoked or expired")
            g.api_token = info
    authorize(scope)
