"""Login sessions: start one after a good password, end one on logout (audited)."""

from __future__ import annotations

from datetime import timedelta

from dashapp.commands.base import unit_of_work
from dashapp.core.permissions import Actor
from dashapp.core.records import User
from db import sessions


def start(user: User, lifetime: timedelta) -> str:
    """Open a server-side session for ``user`` (whose password was checked); its token."""
    with unit_of_work(Actor.user(user.username, user.role), "session.start") as (db, entry):
        token = sessions.start(db, user, lifetime)
        entry.update(target=user.username)
    return token


def end(actor: Actor, token: str) -> None:
    """End one session (logout): every copy of its cookie stops working at once."""
    with unit_of_work(actor, "session.end") as (db, entry):
        if sessions.end(db, token):
            entry.update(target=actor.name)
