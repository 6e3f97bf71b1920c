"""What every command shares: its transaction and its audit record."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from dashapp.core.permissions import Actor
from db import audit
from db.engine import database


@contextmanager
def unit_of_work(actor: Actor, action: str) -> Iterator[tuple[Session, dict[str, Any]]]:
    """One transaction for a command; the audit entry commits (or rolls back) with it.

    Yields the session and the entry to fill (``target`` and any ``detail`` items);
    an entry without a target is not recorded.
    """
    entry: dict[str, Any] = {"target": None, "detail": {}}
    with database.transaction() as session:
        yield session, entry
        if entry["target"] is not None:
            audit.record(
                session, actor.name, actor.channel, action, str(entry["target"]), entry["detail"]
            )
