"""Service token writes (admins only): create (the secret is shown once) and revoke."""

from __future__ import annotations

from datetime import datetime

from dashapp.commands.base import unit_of_work
from dashapp.commands.errors import Invalid, NotFound, authorize
from dashapp.core.permissions import Actor
from dashapp.core.records import NewToken, TokenInfo
from db import tokens


def create(
    actor: Actor, name: str, scopes: list[str], expires_at: datetime | None = None
) -> NewToken:
    """A new token with ``scopes``; its secret is in the result and nowhere else."""
    authorize(actor, "admin")
    try:
        with unit_of_work(actor, "token.create") as (session, entry):
            created = tokens.create_token(session, name, scopes, expires_at)
            entry.update(
                target=created.info.prefix, detail={"name": name, "scopes": created.info.scopes}
            )
    except ValueError as error:
        raise Invalid(str(error)) from None
    return created


def revoke(actor: Actor, prefix_or_name: str) -> list[TokenInfo]:
    """Revoke the live token with this prefix (or every live one with this name)."""
    authorize(actor, "admin")
    with unit_of_work(actor, "token.revoke") as (session, entry):
        revoked = tokens.revoke_token(session, prefix_or_name)
        if revoked:
            entry.update(target=prefix_or_name, detail={"revoked": [t.prefix for t in revoked]})
    if not revoked:
        raise NotFound(f"no live token with prefix or name {prefix_or_name!r}")
    return revoked
