"""Database reachability, for the readiness probe."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session


def ping(session: Session) -> None:
    """Run a trivial query; raises if the database cannot answer."""
    session.execute(select(1))
