"""Seeding the demo: the "Service health" dashboard and its points, up to now."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Literal

from dashapp.commands import dashboards as commands
from dashapp.core.demo import DEMO_SLUG, HOSTS, METRICS, RATES, STEP, dashboard_spec, generate
from dashapp.core.keys import series_key
from dashapp.core.permissions import Actor
from dashapp.core.spec import parse_spec
from db import dashboards, tsdb
from db.blockcache import mark_written
from db.engine import database

CHUNK = 50_000
HOUR = timedelta(hours=1)
Progress = Callable[[int, int], None]
"""Called with (points just written, total points planned)."""


def demo_state() -> Literal["empty", "present", "absent"]:
    """``empty``: no dashboards at all; ``present``: the demo exists; ``absent``: others only."""
    with database.transaction() as session:
        slugs = {d.slug for d in dashboards.list_dashboards(session)}
    if not slugs:
        return "empty"
    return "present" if DEMO_SLUG in slugs else "absent"


def seed_demo(days: float = 7, progress: Progress | None = None) -> int:
    """Create the demo dashboard if missing and fill its points up to now; returns points written.

    Writes in chunks of one transaction each; re-running continues from the newest
    stored point (at most ``days`` back), so it doubles as a top-up.
    """
    end = datetime.now(UTC)
    names = (*METRICS, *RATES)
    if demo_state() != "present":
        spec = parse_spec(dashboard_spec())
        commands.create(Actor.system(), spec, DEMO_SLUG, "Demo dashboard")
    with database.transaction() as session:
        keys = {
            (name, host.name): series_key(name, host.name, {"region": host.region})
            for host in HOSTS
            for name in names
        }
        resolved = tsdb.resolve_series(session, list(keys.values()))
        ids = {pair: resolved[key] for pair, key in keys.items()}
        latest = tsdb.last_points(session, list(ids.values()))
    start = end - timedelta(days=days)
    if latest:
        start = max(start, max(point.ts for point in latest.values()) + STEP)
    counters = {
        (host, name): latest[sid].value
        for (name, host), sid in ids.items()
        if name in RATES and sid in latest
    }
    total = max(0, int((end - start) / STEP)) * len(ids)
    written = 0
    chunk: list[tsdb.PointTuple] = []
    for name, source, _labels, stamp, value in generate(start, end, counters):
        chunk.append((ids[name, source], stamp, value))
        if len(chunk) >= CHUNK:
            written += _flush(chunk, total, progress)
    written += _flush(chunk, total, progress)
    while True:  # roll the new hours up now, so the first long-range view is fast
        with database.transaction() as session:
            if not tsdb.refresh_rollups(session, limit=2000):
                break
    return written


def _flush(chunk: list[tsdb.PointTuple], total: int, progress: Progress | None) -> int:
    if not chunk:
        return 0
    with database.transaction() as session:
        count = tsdb.write_points(session, chunk)
    mark_written((*METRICS, *RATES), everything=True)
    chunk.clear()
    if progress:
        progress(count, total)
    return count
