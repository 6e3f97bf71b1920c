"""Blocks of the results cache: how a query's range splits into immutable pieces and a
fresh tail, and which generation counters a write changes.

A query's aligned range is cut at ten-minute, hour and day boundaries (days where a whole
day fits, hours where a whole hour fits, ten minutes near the edges). Pieces that end before the
freshness horizon (now minus ``CACHE_FRESHNESS``: the live minutes plus the window in
which late points still arrive) are *blocks*: cached for long under a generation
counter of their own: (metric, ten minutes), (metric, hour) or (metric, day). Points
written later than the horizon into such a block change exactly the counters of the
blocks holding them ("late" writes, rare); every
other write only changes the metric's *tail* counter, which keys the piece after the
horizon. So agents writing into the metrics on screen invalidate the last few minutes
of each panel, not week-long ranges whose buckets cannot have changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from dashapp.core.timerange import TimeRange, floor_time

SLOT = timedelta(minutes=10)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
LEVELS = (SLOT, HOUR, DAY)
"""Block lengths, finest first; each divides the next."""
MAX_PIECES = 1000
"""Ranges needing more blocks than this are cached whole (years at hourly steps)."""
MAX_LATE_KEYS = 6000
"""A late write touching more block counters than this resets the metric instead."""


@dataclass(frozen=True)
class Piece:
    """A part [start, end) of a query's range. ``level`` is the length of the aligned block
    (ten minutes, hour or day) starting at ``anchor`` whose generation counter keys the
    piece; both are None for the fresh tail."""

    start: datetime
    end: datetime
    level: timedelta | None = None
    anchor: datetime | None = None

    @property
    def fresh(self) -> bool:
        """True for the tail, which may still change with ordinary writes."""
        return self.level is None


def block_unit(step: timedelta | None) -> timedelta | None:
    """The finest block length for buckets of ``step`` (blocks hold whole buckets), or
    None when the step fits no block length. ``None`` step: no buckets (summaries)."""
    for level in LEVELS:
        if step is None or (step <= level and level % step == timedelta(0)):
            return level
    return None


def plan(
    window: TimeRange, step: timedelta | None, horizon: datetime, *, whole_blocks: bool
) -> list[Piece]:
    """Split ``window`` into blocks ending before ``horizon`` (days where a whole day fits,
    hours where an hour fits, else the finest block for ``step``) and a fresh tail.

    ``whole_blocks``: blocks are whole aligned hours or days even where the window starts
    or ends inside one (callers keep the buckets inside the window; bucketed answers are
    the same whatever range computed them), so a sliding window reuses the same blocks.
    Otherwise (totals over the exact range) the first block is cut at the window's start.
    """
    whole = [Piece(window.start, window.end)]
    unit = block_unit(step)
    if unit is None:
        return whole
    stop = floor_time(min(window.end, horizon), unit)
    if whole_blocks and stop < window.end and stop + unit <= horizon:
        stop += unit  # a past range ending inside a block: take the whole block
    first = floor_time(window.start, unit)
    if stop <= window.start or (stop - first) / DAY > MAX_PIECES:
        return whole
    pieces = []
    at = first
    while at < stop:
        level = next(
            length
            for length in reversed(LEVELS)
            if length <= unit or (floor_time(at, length) == at and at + length <= stop)
        )
        pieces.append(Piece(at, at + level, level, at))
        at += level
    if len(pieces) > MAX_PIECES:
        return whole
    if not whole_blocks and pieces[0].start < window.start:
        head = pieces[0]
        pieces[0] = Piece(window.start, head.end, head.level, head.anchor)
    if stop < window.end:
        pieces.append(Piece(stop, window.end))
    return pieces


def digest(metric: str) -> str:
    """A short, key-safe name for a metric."""
    return hashlib.sha1(metric.encode()).hexdigest()[:20]


def tail_key(metric: str) -> str:
    """The counter every write of ``metric`` changes (keys tails and whole answers)."""
    return "gen:" + digest(metric)


def reset_key(metric: str) -> str:
    """The counter a very large late write of ``metric`` changes (keys all its blocks)."""
    return "genall:" + digest(metric)


def block_key(metric: str, level: timedelta, anchor: datetime) -> str:
    """The counter of one block: (metric, hour) or (metric, day)."""
    return f"genb:{digest(metric)}:{int(level.total_seconds())}:{int(anchor.timestamp())}"


def piece_generation_keys(metric: str, piece: Piece) -> list[str]:
    """The counters whose values key ``piece``'s cached answer."""
    if piece.level is None or piece.anchor is None:
        return [tail_key(metric), reset_key(metric)]
    return [block_key(metric, piece.level, piece.anchor), reset_key(metric)]


def written_keys(names: Iterable[str], late: Iterable[tuple[str, datetime]]) -> set[str]:
    """Counters to change after a write: each metric's tail, and the blocks of every length
    holding a late point ((metric, time) pairs older than the horizon)."""
    keys = {tail_key(name) for name in names}
    slots = {(name, floor_time(ts, SLOT)) for name, ts in late}
    if len(LEVELS) * len(slots) > MAX_LATE_KEYS:
        return keys | {reset_key(name) for name, _ in slots}
    for name, slot in slots:
        for level in LEVELS:
            keys.add(block_key(name, level, floor_time(slot, level)))
    return keys
