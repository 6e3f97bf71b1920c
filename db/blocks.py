"""Blocks of the results cache: how a query's range splits into pieces, and which
generation counters a write changes.

A query's aligned range is cut at minute, ten-minute, hour and day boundaries. Every
piece is an aligned block (or the part of one inside an exact range) keyed by a
generation counter of its own: (metric, level, start). A write changes exactly the
counters of the blocks holding its points, so a cached piece is valid until a point
lands inside it, whenever that point arrives.

Pieces that end before the freshness horizon (now minus ``CACHE_FRESHNESS``) are as large
as they fit (days where a whole day fits, hours where an hour fits, finer near the
edges) and cached for long: nothing writes there in the normal course. The recent part
is cut into the finest blocks the buckets allow (a minute for buckets of up to a
minute), so agents writing into the metrics on screen invalidate only the minute they
write into: a refresh recomputes that minute and reads the rest from the cache. A query
of a few series (a dashboard filtered to its hosts) keys those recent blocks by the
series' own counters, so the rest of a fleet writing the same metric leaves it cached.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from dashapp.core.timerange import TimeRange, floor_time

MINUTE = timedelta(minutes=1)
SLOT = timedelta(minutes=10)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
LEVELS = (MINUTE, SLOT, HOUR, DAY)
"""Block lengths, finest first; each divides the next."""
MAX_PIECES = 1000
"""Ranges needing more blocks than this are cached whole (years at hourly steps)."""
MAX_WRITTEN_KEYS = 6000
"""A write touching more block counters than this resets the metric's blocks instead."""
SERIES_LEVELS = (MINUTE, SLOT)
"""Recent blocks of these lengths may be keyed by their series' own counters."""
MAX_MEMBER_KEYS = 32
"""Queries of more series than this key recent blocks by their metric's counters."""
MAX_WRITTEN_SERIES = 20_000
"""A write touching more (series, minute) pairs than this changes its metrics' wide-write
counters instead of per-series ones (backfills)."""


@dataclass(frozen=True)
class Piece:
    """A part [start, end) of a query's range inside the block of length ``level``
    starting at ``anchor``, whose generation counter keys the piece; both are None for a
    range cached whole. ``fresh``: the piece ends after the freshness horizon (cached
    briefly, read from raw points: its hour's rollups are still being written)."""

    start: datetime
    end: datetime
    level: timedelta | None = None
    anchor: datetime | None = None
    fresh: bool = False


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
    """Split ``window`` into blocks: before ``horizon`` as large as they fit (ten minutes
    at least), after it blocks of the finest length for ``step``.

    ``whole_blocks``: pieces are whole aligned blocks even where the window starts or
    ends inside one (callers keep the buckets inside the window; bucketed answers are
    the same whatever range computed them), so a sliding window reuses the same blocks.
    Otherwise (totals over the exact range) the first and last pieces are cut at the
    window's edges.
    """
    unit = block_unit(step)
    whole = [Piece(window.start, window.end, fresh=window.end > horizon)]
    if unit is None:
        return whole
    coarse = max(unit, SLOT)
    end = _ceil(window.end, unit)
    if whole_blocks and _ceil(window.end, coarse) <= horizon:
        end = _ceil(window.end, coarse)
    first = floor_time(window.start, coarse)
    settled = floor_time(min(horizon, end), coarse)  # large blocks end here
    if settled <= first:
        first = settled = floor_time(window.start, unit)
    if (end - first) / DAY > MAX_PIECES:
        return whole
    pieces: list[Piece] = []
    at = first
    while at < end:
        level = unit
        if at < settled:
            level = next(
                length
                for length in reversed(LEVELS)
                if length == coarse or (floor_time(at, length) == at and at + length <= settled)
            )
        pieces.append(Piece(at, at + level, level, at, fresh=at + level > horizon))
        at += level
        if len(pieces) > MAX_PIECES:
            return whole
    if not whole_blocks:
        head = pieces[0]
        pieces[0] = Piece(window.start, head.end, head.level, head.anchor, head.fresh)
        tail = pieces[-1]
        pieces[-1] = Piece(tail.start, window.end, tail.level, tail.anchor, tail.fresh)
    return pieces


def _ceil(value: datetime, step: timedelta) -> datetime:
    low = floor_time(value, step)
    return low if low == value else low + step


@lru_cache(maxsize=4096)
def digest(metric: str) -> str:
    """A short, key-safe name for a metric (memoised: every read names its counters)."""
    return hashlib.sha1(metric.encode()).hexdigest()[:20]


def tail_key(metric: str) -> str:
    """The counter every write of ``metric`` changes (keys answers cached whole)."""
    return "gen:" + digest(metric)


def reset_key(metric: str) -> str:
    """The counter a very large write of ``metric`` changes (keys all its blocks)."""
    return "genall:" + digest(metric)


def block_key(metric: str, level: timedelta, anchor: datetime) -> str:
    """The counter of one block: (metric, length, start)."""
    return f"genb:{digest(metric)}:{_block_id(level, anchor)}"


def _block_id(level: timedelta, anchor: datetime) -> str:
    return f"{int(level.total_seconds())}:{int(anchor.timestamp())}"


def series_hash(level: timedelta, anchor: datetime) -> str:
    """The hash holding the counters of one block per series (field: the series id): a
    query of few series keys its recent blocks by these, so writes into the metric's
    other series leave it cached."""
    return f"gens:{_block_id(level, anchor)}"


def wide_key(metric: str, level: timedelta, anchor: datetime) -> str:
    """The counter a write too wide for series counters changes instead (it keys every
    block keyed by series counters, with them)."""
    return f"genw:{digest(metric)}:{_block_id(level, anchor)}"


def piece_generation_keys(
    metric: str, piece: Piece, members: Sequence[int] | None = None
) -> list[str]:
    """The counters whose values key ``piece``'s cached answer: its block's, or for a
    recent minute or ten minutes of at most :data:`MAX_MEMBER_KEYS` series ``members``,
    those series' own (named ``hash#series id``)."""
    if piece.level is None or piece.anchor is None:
        return [tail_key(metric), reset_key(metric)]
    wide = [wide_key(metric, piece.level, piece.anchor), reset_key(metric)]
    if members is None and keyed_by_series(piece):
        return [block_key(metric, piece.level, piece.anchor), *wide]  # either way
    if members is not None and keyed_by_series(piece) and len(members) <= MAX_MEMBER_KEYS:
        table = series_hash(piece.level, piece.anchor)
        return [*(f"{table}#{sid}" for sid in members), *wide]
    return [block_key(metric, piece.level, piece.anchor), reset_key(metric)]


def keyed_by_series(piece: Piece) -> bool:
    """Whether ``piece`` may be keyed by its series' counters (recent, fine blocks)."""
    return piece.fresh and piece.level in SERIES_LEVELS


Written = set[tuple[str, int, datetime]]
"""(metric, series id, minute) of every point of a write."""


def written_counters(written: Written) -> tuple[set[str], dict[str, set[str]]]:
    """Counters to change after a write: each metric's whole-answer counter and those of
    the blocks of every length holding a written point (or the metric's reset counter
    when that is too many); and per-series counters, hash -> series ids, of the written
    series' minutes and ten minutes (or, for a write too wide, the metrics' wide-write
    counters instead)."""
    keys = {tail_key(name) for name, _, _ in written}
    minutes = {(name, minute) for name, _, minute in written}
    if len(LEVELS) * len(minutes) > MAX_WRITTEN_KEYS:
        return keys | {reset_key(name) for name, _ in minutes}, {}
    for name, minute in minutes:
        for level in LEVELS:
            keys.add(block_key(name, level, floor_time(minute, level)))
    if len(written) > MAX_WRITTEN_SERIES:
        wide = {wide_key(name, level, floor_time(minute, level))
                for name, minute in minutes for level in SERIES_LEVELS}  # fmt: skip
        return keys | wide, {}
    by_minute: dict[datetime, set[str]] = {}
    for _, sid, minute in written:
        by_minute.setdefault(minute, set()).add(str(sid))
    tables: dict[str, set[str]] = {}
    for minute, sids in by_minute.items():
        for level in SERIES_LEVELS:
            tables.setdefault(series_hash(level, floor_time(minute, level)), set()).update(sids)
    return keys, tables


def touched(names: Iterable[str], series_ids: Iterable[int], stamps: Iterable[datetime]) -> Written:
    """(metric, series, minute) of every point of a write given as parallel sequences
    (the usual batch, all in one minute, takes a shortcut)."""
    names, series_ids, stamps = list(names), list(series_ids), list(stamps)
    minute_of = {ts: floor_time(_aware(ts), MINUTE) for ts in set(stamps)}
    if len(set(minute_of.values())) == 1:
        (minute,) = set(minute_of.values())
        return {(name, sid, minute) for name, sid in set(zip(names, series_ids, strict=True))}
    return {
        (name, sid, minute_of[ts]) for name, sid, ts in zip(names, series_ids, stamps, strict=True)
    }


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)
