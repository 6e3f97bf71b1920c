"""Invalidations that could not reach the cache, kept in the database until they land.

A write changes the cache's counters after it commits (:func:`db.blockcache.mark_written`).
When Redis is paused, hung or down at that moment, the counters keep their old values,
and once Redis answers again every reader would be served the answers cached before
the write, for as long as those live (a day). So a failed invalidation is recorded
here, per metric (:func:`record`), in the database every process shares.

Readers check for recorded invalidations (:func:`outstanding`) before they trust the
cache, but only when this process may have missed something: it saw Redis fail, or
went longer than a Redis timeout without a reply, or has not checked for
:data:`CHECK_SECONDS`. A busy process therefore adds no round trip to a cached read
but one small query a second. A check replays what it finds (every counter of those
metrics changes, as after a bulk load) and deletes the rows it replayed; a metric
whose replay failed too is read past the cache until a later check lands it.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from db import blocks
from db.cache import cache, process_memo
from db.engine import database
from db.models import CacheInvalidationRow

log = logging.getLogger(__name__)
CHECK_SECONDS = 1.0
"""Longest a process trusts the cache without looking for recorded invalidations."""
_LOCK = threading.Lock()


def record(metrics: Iterable[str]) -> None:
    """Keep the invalidation of these metrics (and ``*catalog*``) that the cache refused."""
    names = sorted(set(metrics))
    if not names:
        return
    try:
        with database.transaction() as session:
            for name in names:
                row = session.get(CacheInvalidationRow, name, with_for_update=True)
                if row is None:
                    session.add(CacheInvalidationRow(metric=name, token=secrets.token_hex(8)))
                else:
                    row.token = secrets.token_hex(8)
    except SQLAlchemyError:  # the write itself committed; nothing else can keep this
        log.exception("could not record a failed cache invalidation of %s", names[:5])
    _state()["dirty"] = True


def outstanding() -> frozenset[str]:
    """Metrics whose cached answers must not be used now: recorded invalidations this
    process could not replay. Checks the database only when it may have missed one."""
    backend = cache.cache
    state = _state()
    now = time.monotonic()
    suspect = getattr(backend, "suspect", None)
    if suspect is None:  # the in-process cache: its invalidations cannot fail
        return frozenset()
    due = (
        state["dirty"] or now - state["checked"] > CHECK_SECONDS or suspect(since=state["checked"])
    )
    if not due:
        return state["unreplayed"]
    with _LOCK:
        state["dirty"] = False
        state["checked"] = now
    try:
        state["unreplayed"] = _replay()
    except SQLAlchemyError:
        log.warning("could not check for failed cache invalidations", exc_info=True)
        state["dirty"] = True
    return state["unreplayed"]


def _replay() -> frozenset[str]:
    """Apply the recorded invalidations to the cache; what could not be applied."""
    with database.transaction() as session:
        rows = session.execute(select(CacheInvalidationRow.metric, CacheInvalidationRow.token))
        found = {name: token for name, token in rows}
    if not found:
        return frozenset()
    keys = {key for name in found for key in (blocks.reset_key(name), blocks.tail_key(name))}
    if not cache.cache.set_counters(keys, {}, secrets.token_hex(8), _counter_timeout()):
        _state()["dirty"] = True
        return frozenset(found)
    with database.transaction() as session:
        for name, token in found.items():
            session.execute(
                delete(CacheInvalidationRow).where(
                    CacheInvalidationRow.metric == name, CacheInvalidationRow.token == token
                )
            )
    log.info("replayed failed cache invalidations of %d metric(s)", len(found))
    return frozenset()


def _counter_timeout() -> int:
    from db.blockcache import block_timeout

    return 2 * block_timeout()


def _state() -> dict:
    memo = process_memo("dashapp.invalidations")
    if "checked" not in memo:
        memo.update(checked=float("-inf"), dirty=True, unreplayed=frozenset())
    return memo
