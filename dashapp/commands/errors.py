"""The errors commands raise, and the checks every command starts with."""

from __future__ import annotations

from typing import Any

from dashapp.core.permissions import Actor, Role


class CommandError(Exception):
    """A command refused to run; nothing was written. ``status`` is the HTTP equivalent."""

    status = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


class Unauthenticated(CommandError):
    """Nobody is logged in (or no token was sent), and this needs someone."""

    status = 401


class Forbidden(CommandError):
    """The actor is known but its role or scopes are too low."""

    status = 403


class NotFound(CommandError):
    """The dashboard, version, user or token does not exist."""

    status = 404


class Conflict(CommandError):
    """Someone else changed it first, or the name is taken."""

    status = 409


class Invalid(CommandError):
    """The input does not validate; ``details["errors"]`` lists field errors if known."""

    status = 422


def authorize(actor: Actor, role: Role) -> None:
    """Raise unless ``actor`` holds at least ``role``."""
    if actor.has(role):
        return
    if actor.name is None:
        raise Unauthenticated(f"log in (or send a token) with the {role} role to do this")
    raise Forbidden(f"{actor.name} has the {actor.role or 'ingest-only'} role; this needs {role}")


def require_ingest(actor: Actor) -> None:
    """Raise unless ``actor`` may push points (an ``ingest`` or ``admin`` token, or the CLI)."""
    if actor.can_ingest:
        return
    if actor.name is None:
        raise Unauthenticated("pushing points needs a token with the ingest scope")
    raise Forbidden(f"{actor.name} may not push points; this needs the ingest scope")


def require_annotate(actor: Actor) -> None:
    """Raise unless ``actor`` may add annotations (an ``annotate`` token, or an editor)."""
    if actor.may_annotate():
        return
    if actor.name is None:
        raise Unauthenticated("annotating needs a token with the annotate scope, or an editor")
    raise Forbidden(f"{actor.name} may not annotate; this needs the annotate scope or an editor")
