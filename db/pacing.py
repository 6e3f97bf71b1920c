"""Pacing long background work so writers never wait long for the database.

SQLite has one writer at a time: a worker transaction that runs for half a minute makes
every ingest and the demo feeder wait as long, and past SQLite's busy timeout they fail.
So on SQLite the worker's long jobs (compaction, rollup refresh) work in slices of
about :data:`SLICE_SECONDS`, each its own transaction, and pause :data:`PAUSE_SECONDS`
after each commit: a writer waiting for the lock polls it at least every 100 ms
(SQLite's busy handler), so the pause lets it in before the next slice starts.

PostgreSQL writers do not queue behind the worker (row locks, MVCC): there a slice is
bounded by work (points per transaction), not time, and nothing pauses.

:func:`is_busy` tells a busy database (worth retrying) from other errors, for writers
that retry with backoff (``dashapp demo-feed``, ingest).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)

T = TypeVar("T")

SLICE_SECONDS = 1.0
"""Work per worker transaction on SQLite, checked between statements."""
PAUSE_SECONDS = 0.2
"""Pause after each worker commit on SQLite: twice the busy handler's longest sleep."""
BUSY_MESSAGES = ("database is locked", "database table is locked", "database is busy")
BUSY_SQLSTATES = frozenset({"40001", "40P01", "55P03"})  # serialization, deadlock, lock


def one_writer(bind: Session | Connection | Engine) -> bool:
    """Whether the database behind ``bind`` lets one writer in at a time (SQLite)."""
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return engine.dialect.name == "sqlite"


def slice_deadline(bind: Session | Connection | Engine) -> float | None:
    """When the current slice of work should commit (``time.monotonic()``), or None where
    the database has no single-writer lock to share."""
    return time.monotonic() + SLICE_SECONDS if one_writer(bind) else None


def past(deadline: float | None) -> bool:
    """Whether ``deadline`` (from :func:`slice_deadline`) has passed."""
    return deadline is not None and time.monotonic() > deadline


def pause(bind: Session | Connection | Engine) -> None:
    """After a commit: give writers waiting for SQLite's lock their turn."""
    if one_writer(bind):
        time.sleep(PAUSE_SECONDS)


def is_busy(error: BaseException) -> bool:
    """Whether a database error means "busy, try again": SQLite's lock held past the busy
    timeout, or a PostgreSQL serialization failure, deadlock or lock timeout."""
    original = getattr(error, "orig", error)
    if getattr(original, "sqlstate", None) in BUSY_SQLSTATES:
        return True
    message = str(original).lower()
    return any(text in message for text in BUSY_MESSAGES)


INGEST_RETRY_SECONDS = 10.0
"""How long an ingest request goes on retrying a busy database before it answers 503
(Retry-After): agents retry then, and a request is not held for minutes."""


def retry_busy(write: Callable[[], T], give_up_after: float = INGEST_RETRY_SECONDS) -> T:
    """Run ``write`` (one whole transaction), again with jittered exponential backoff
    while the database is busy (:func:`is_busy`), for up to ``give_up_after`` seconds or
    four attempts; then the last error is raised."""
    retrying = Retrying(
        retry=retry_if_exception(is_busy),
        stop=stop_after_delay(give_up_after) | stop_after_attempt(4),
        wait=wait_exponential_jitter(multiplier=0.2, max=2.0, jitter=0.2),
        reraise=True,
    )
    return retrying(write)


def retry_forever(
    write: Callable[[], T],
    retryable: Callable[[BaseException], bool],
    report: Callable[[BaseException, float], None],
) -> T:
    """Run ``write`` until it succeeds, waiting a jittered 1, 2, 4 ... 30 s between tries
    while it fails with an error ``retryable`` accepts; ``report(error, wait)`` is told of
    every retry (a long-running writer such as the demo feeder says why it waits)."""

    def tell(state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        if error is not None:
            report(error, wait)

    retrying = Retrying(
        retry=retry_if_exception(retryable),
        wait=wait_exponential_jitter(multiplier=1.0, max=30.0),
        before_sleep=tell,
        reraise=True,
    )
    return retrying(write)
