"""Ingest: store validated points in one transaction, resolving series ids once.

Series ids come from an in-process map filled only after a commit, so a rolled-back
batch can never leave a dangling id behind. After the commit, cached results are
invalidated where the points landed: the metrics' fresh tails, and for late points the
cached blocks holding them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import datetime

from flask import current_app

from dashapp.commands.errors import require_ingest
from dashapp.core.keys import SeriesKey
from dashapp.core.permissions import Actor
from dashapp.core.points import IngestResult, PointIn, Precision, prepare, prepare_plain
from dashapp.core.protocols.points import Point
from db import pacing, tsdb
from db.blockcache import mark_written
from db.blocks import touched
from db.engine import database


class SeriesIdCache:
    """Series key -> id, per process; filled only with ids from committed transactions."""

    def __init__(self, limit: int = 200_000) -> None:
        self._ids: dict[SeriesKey, int] = {}
        self._lock = threading.Lock()
        self._limit = limit

    def lookup(self, keys: Iterable[SeriesKey]) -> tuple[dict[SeriesKey, int], set]:
        """Known ids, and the keys still to resolve."""
        known, missing = {}, set()
        for key in keys:
            sid = self._ids.get(key)
            if sid is None:
                missing.add(key)
            else:
                known[key] = sid
        return known, missing

    def remember(self, ids: dict[SeriesKey, int]) -> None:
        """Add committed ids (the map is cleared when it grows past its limit)."""
        with self._lock:
            if len(self._ids) + len(ids) > self._limit:
                self._ids.clear()
            self._ids.update(ids)


def series_id_cache() -> SeriesIdCache:
    """The current app's series id cache."""
    return current_app.extensions["dashapp.series_ids"]


def write(actor: Actor, rows: Sequence[tuple[SeriesKey, datetime, float]]) -> IngestResult:
    """Write prepared rows in one transaction; returns counts. Nothing is written on error.

    A busy database (SQLite's lock held by another writer past its busy timeout, a
    PostgreSQL deadlock) is retried with backoff for a few seconds before it fails."""
    require_ingest(actor)
    id_cache = series_id_cache()
    keys, stamps, values = zip(*rows, strict=True) if rows else ((), (), ())
    distinct = set(keys)
    known, missing = id_cache.lookup(distinct)

    def store() -> tuple[dict[SeriesKey, int], int]:
        with database.transaction() as session:
            created = tsdb.resolve_series(session, missing)
            ids = {**known, **created}
            points = zip(map(ids.__getitem__, keys), stamps, values, strict=True)
            return created, tsdb.write_points(session, points)

    created, stored = pacing.retry_busy(store)
    ids = {**known, **created}
    id_cache.remember(created)
    # Cached blocks holding the written points are recomputed on their next read (the
    # usual batch: the current minute of its metrics). Series this process had not seen
    # may be new to the catalog (pickers, variables).
    written = touched((key[0] for key in keys), map(ids.__getitem__, keys), stamps)
    mark_written((name for name, _, _ in distinct), catalog_changed=bool(missing), written=written)
    # The same series and timestamp twice in one batch store one point (the last).
    return IngestResult(accepted=stored, series=len(distinct))


def ingest(
    actor: Actor, points: Sequence[PointIn], precision: Precision | None = None
) -> IngestResult:
    """Store validated points (atomic: all or nothing)."""
    return write(actor, prepare(points, precision))


def write_plain(actor: Actor, points: Sequence[Point]) -> IngestResult:
    """Store points decoded from an agent's wire format in one transaction (413 IngestError
    past MAX_BATCH)."""
    require_ingest(actor)
    if not points:
        return IngestResult(accepted=0, series=0)
    return write(actor, prepare_plain(points))
