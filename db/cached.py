"""Cached reads for callbacks and routes: the one way panels and the API query metrics.

Panel queries and summaries are cached in blocks (see :mod:`db.blocks`): the aligned
range splits into ten-minute, hour and day blocks that end before the freshness
horizon, cached for long and changed only by late writes into them, and a fresh tail
(5-15 minutes), cached only until the next write of the metric (or for
``CACHE_TAIL_GRACE``). A miss computes contiguous missing blocks with one SQL query and
stores each block; the answer is the blocks stitched together, exactly what one query
over the whole range returns. Aligning means "last 6h" viewed by a hundred people is
one SQL query per bucket at most.

Heatmaps (whose value bins and source span the whole range) are cached whole until the
next write of their metric; the series catalog until a new series may have appeared.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app

from dashapp.core.results import Block, Histogram, SeriesInfo
from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange, aligned_range, floor_time
from db import blocks, metrics
from db import query as engine
from db.blocks import Piece
from db.cache import cache
from db.engine import database
from db.histogram import histogram
from db.query import QueryResult, SummaryResult, bucket_step, summary_unit

log = logging.getLogger(__name__)
CATALOG = "*catalog*"  # the generation of the series catalog itself
DEFAULT_FRESHNESS = timedelta(minutes=5)
DEFAULT_BLOCK_TIMEOUT = 86400


def freshness() -> timedelta:
    """How far back points may still arrive in the normal course (``CACHE_FRESHNESS``)."""
    seconds = current_app.config.get("CACHE_FRESHNESS")
    return DEFAULT_FRESHNESS if seconds is None else timedelta(seconds=float(seconds))


def _block_timeout() -> int:
    return int(current_app.config.get("CACHE_BLOCK_TIMEOUT") or DEFAULT_BLOCK_TIMEOUT)


def late_cutoff(now: datetime | None = None) -> datetime:
    """Points older than this are late: their write changes the blocks holding them. Half
    the freshness window short of the horizon, so clocks a little apart stay safe."""
    return (now or datetime.now(UTC)) - freshness() / 2


def mark_written(
    metrics_written: Iterable[str],
    catalog_changed: bool = True,
    late: Iterable[tuple[str, datetime]] = (),
) -> None:
    """Invalidate cached answers after a write commits: the tails of these metric names,
    the blocks holding ``late`` (metric, time) points (see :func:`late_cutoff`), and the
    catalog (picker choices, variable values) when series may have been added.

    Counters are random tokens with a lifetime twice a block's, so an expired counter
    can never bring back an answer cached under an older value.
    """
    names = set(metrics_written)
    keys = blocks.written_keys(names, late)
    if catalog_changed:
        keys.add(blocks.tail_key(CATALOG))
    token = secrets.token_hex(8)
    cache.set_many(dict.fromkeys(keys, token), timeout=2 * _block_timeout())


def mark_dropped(metrics_dropped: Iterable[str]) -> None:
    """Invalidate every cached answer of these metrics after retention dropped some of
    their data (their reset counters key all their blocks), and the catalog (how far back
    series reach)."""
    names = set(metrics_dropped)
    if not names:
        return
    keys = {key for name in names for key in (blocks.reset_key(name), blocks.tail_key(name))}
    keys.add(blocks.tail_key(CATALOG))
    cache.set_many(dict.fromkeys(keys, secrets.token_hex(8)), timeout=2 * _block_timeout())


def data_generation(metric: str) -> str:
    """A token that changes whenever points of ``metric`` are written."""
    return str(cache.get(blocks.tail_key(metric)))


def _key(kind: str, parts: Any) -> str:
    return f"{kind}:" + hashlib.sha256(repr(parts).encode()).hexdigest()


def _through_cache(kind: str, metric: str | None, parts: tuple[Any, ...], compute: Any) -> Any:
    """Return the cached answer for ``parts`` (plus the metric's generation), or compute it
    in a read transaction bounded by the statement timeout. Reads never write: hours
    whose rollups are not refreshed yet (the worker's job) are read from raw points."""
    token = _tail_token() if metric else None  # the catalog is never served stale
    key = _key(kind, (parts, token or data_generation(metric or CATALOG)))
    hit = cache.get(key)
    if hit is not None:
        return replace(hit, cached=True) if hasattr(hit, "cached") else hit
    with database.read_session() as session:
        result = compute(session)
    cache.set(key, result)
    return result


class _Lookup:
    """What a blocked read needs before its pieces: the generation counters of the pieces
    and the metric's series, fetched from the cache in one round trip.

    The series list is stored with the catalog counter it was read under and used only
    while that counter is unchanged (it is read before the database is).
    """

    def __init__(self, metric: str, pieces: list[Piece]) -> None:
        self.counters = [blocks.piece_generation_keys(metric, piece) for piece in pieces]
        catalog_key, series_key = blocks.tail_key(CATALOG), "sr:" + blocks.digest(metric)
        names = sorted({name for keys in self.counters for name in keys})
        found = cache.get_many(*names, catalog_key, series_key)
        self.values = dict(zip(names, found, strict=False))
        catalog, entry = found[-2], found[-1]
        if isinstance(entry, tuple) and entry[0] == catalog:
            self.series: list[SeriesInfo] = entry[1]
            return
        with database.read_session() as session:
            self.series = metrics.find_series(session, metric)
        cache.set(series_key, (catalog, self.series))

    def keys(self, kind: str, identity: Any, pieces: list[Piece]) -> list[str]:
        """The cache key of each piece's answer (see :func:`_tail_token` for tails)."""
        grace = _tail_token()
        return [
            _key(kind, (identity, p.start, p.end, [self.values[n] for n in c]))
            if grace is None or not p.fresh
            else _key(kind, (identity, p.start, p.end, grace))
            for p, c in zip(pieces, self.counters, strict=True)
        ]


def _tail_token() -> str | None:
    """With ``CACHE_TAIL_GRACE`` set, tails and whole answers are keyed by the current
    grace period instead of their metric's write counter: everyone asking within a
    period shares one answer, which may miss points written in the last ``grace``
    seconds. None (the default): keyed by the counter, never stale."""
    grace = float(current_app.config.get("CACHE_TAIL_GRACE") or 0)
    return f"grace:{int(time.time() // grace)}" if grace > 0 else None


@dataclass(frozen=True)
class _Computed:
    """One piece's cached payload: its data, where it was read from, what it cost."""

    data: Any
    source: str
    elapsed_ms: float
    sql: str = ""


Compute = Callable[[Any, TimeRange, list[Piece]], list[_Computed]]
"""Computes the payloads of contiguous pieces over their union, in one session."""


def _pieces(
    keys: list[str], pieces: list[Piece], compute: Compute
) -> list[tuple[Piece, _Computed, bool]]:
    """Each piece's payload from the cache or computed (contiguous misses together),
    and whether it was a cache hit."""
    found: list[Any] = list(cache.get_many(*keys))
    missing = [i for i, hit in enumerate(found) if hit is None]
    if missing:
        with database.read_session() as session:
            for run in _runs(pieces, missing):
                span = TimeRange(pieces[run[0]].start, pieces[run[-1]].end)
                for index, payload in zip(
                    run, compute(session, span, [pieces[i] for i in run]), strict=True
                ):
                    found[index] = payload
        stored = {keys[i]: found[i] for i in missing}
        tails = {k: v for i, (k, v) in enumerate(stored.items()) if pieces[missing[i]].fresh}
        if tails:
            cache.set_many(tails)
        if len(tails) < len(stored):
            olds = {k: v for k, v in stored.items() if k not in tails}
            cache.set_many(olds, timeout=_block_timeout())
    hits = set(range(len(pieces))) - set(missing)
    return [(p, found[i], i in hits) for i, p in enumerate(pieces)]


def _runs(pieces: list[Piece], missing: list[int]) -> list[list[int]]:
    """Missing pieces grouped into runs of adjacent blocks; the tail runs alone (it reads
    pending hours as raw points, which old blocks need not)."""
    runs: list[list[int]] = []
    for index in missing:
        previous = runs[-1][-1] if runs else None
        joins = previous == index - 1 and not pieces[index].fresh and not pieces[previous].fresh
        if joins:
            runs[-1].append(index)
        else:
            runs.append([index])
    return runs


def _blocks_info(parts: list[tuple[Piece, _Computed, bool]], window: TimeRange) -> tuple:
    return tuple(
        Block(
            max(piece.start, window.start), min(piece.end, window.end),
            "tail" if piece.fresh else "block", hit, payload.source,
            0.0 if hit else payload.elapsed_ms,
        )
        for piece, payload, hit in parts
    )  # fmt: skip


def _source(parts: list[tuple[Piece, _Computed, bool]]) -> str:
    sources = list(dict.fromkeys(payload.source for _, payload, _ in parts))
    return " + ".join(sources) if sources else "points"


def _horizon() -> datetime:
    return datetime.now(UTC) - freshness()


def panel_query(
    spec: Query,
    time_range: TimeRange,
    max_points: int,
    *,
    variables: Mapping[str, Sequence[str]] | None = None,
    series_limit: int = 20,
    prefer_m4: bool = False,
) -> QueryResult:
    """Run a panel query (see :func:`db.query.query`) through the block cache."""
    started = time.perf_counter()
    step = bucket_step(spec, time_range.span, max_points)
    window = aligned_range(time_range, step)
    pieces = blocks.plan(window, step, _horizon(), whole_blocks=True)
    lookup = _Lookup(spec.metric, pieces)
    shown, total = engine.matching_groups(None, spec, variables or {}, series_limit, lookup.series)
    use_m4 = engine.uses_m4(spec, shown, prefer_m4)
    # What the buckets depend on; filters, variables and the limit are in the members.
    members = [(key, [info.id for info in infos]) for key, infos in shown]
    identity = (spec.metric, spec.agg, step, members, use_m4)

    def compute(session: Any, span: TimeRange, run: list[Piece]) -> list[_Computed]:
        begun = time.perf_counter()
        # The tail holds the hour being written, pending by design: read its points.
        raw = run[0].fresh
        per_group, sql, source = engine.group_buckets(
            session, spec, shown, span, step, use_m4, raw=raw
        )
        elapsed = (time.perf_counter() - begun) * 1000 / len(run)
        return [
            _Computed([_cut(xs, ys, p.start, p.end) for xs, ys in per_group], source, elapsed, sql)
            for p in run
        ]

    parts = _pieces(lookup.keys("qb", identity, pieces), pieces, compute)
    per_group: engine.PerGroup = [([], []) for _ in shown]
    for _, payload, _ in parts:
        for (xs, ys), (more_x, more_y) in zip(per_group, payload.data, strict=True):
            cut_x, cut_y = _cut(more_x, more_y, window.start, window.end)
            xs.extend(cut_x)
            ys.extend(cut_y)
    return QueryResult(
        series=engine.assemble(spec, shown, per_group),
        start=window.start,
        end=window.end,
        step=step,
        mode="m4" if use_m4 else "buckets",
        total_series=total,
        elapsed_ms=(time.perf_counter() - started) * 1000,
        sql=next((p.sql for _, p, _ in reversed(parts) if p.sql), ""),
        source=_source(parts),
        cached=all(hit for _, _, hit in parts),
        blocks=_blocks_info(parts, window),
    )


def _cut(
    xs: Sequence[datetime], ys: Sequence[float | None], start: datetime, end: datetime
) -> tuple[list[datetime], list[float | None]]:
    """The (timestamps, values) with timestamps in [start, end) (timestamps are sorted)."""
    low, high = bisect.bisect_left(xs, start), bisect.bisect_left(xs, end)
    return list(xs[low:high]), list(ys[low:high])


def panel_summary(
    spec: Query,
    time_range: TimeRange,
    *,
    variables: Mapping[str, Sequence[str]] | None = None,
    series_limit: int = 20,
) -> SummaryResult:
    """Exact per-series statistics over a range (see :func:`db.query.summarize`), through
    the block cache: totals of blocks combine exactly (counts and sums add, minima and
    maxima compare, the last value is the latest one)."""
    started = time.perf_counter()
    unit = summary_unit(time_range.span)
    window = aligned_range(time_range, unit) if unit else time_range
    pieces = blocks.plan(window, unit, _horizon(), whole_blocks=False)
    lookup = _Lookup(spec.metric, pieces)
    shown, total = engine.matching_groups(None, spec, variables or {}, series_limit, lookup.series)
    members = [(key, [info.id for info in infos]) for key, infos in shown]
    identity = (unit, members)

    def compute(session: Any, span: TimeRange, run: list[Piece]) -> list[_Computed]:
        """One query for the run, by block-wide slot; each piece combines the slots it
        holds (a first piece starting inside a slot gets its points from its start on)."""
        begun = time.perf_counter()
        slot = blocks.block_unit(unit)
        found, source = engine.slot_totals(session, shown, span, unit, slot, raw=run[0].fresh)
        elapsed = (time.perf_counter() - begun) * 1000 / len(run)
        payloads = []
        for piece in run:
            first = floor_time(piece.start, slot or blocks.SLOT)
            totals: engine.Totals = {}
            for (index, at), row in found.items():
                if first <= _aware(at) < piece.end:
                    totals[index] = _combine(totals[index], row) if index in totals else row
            payloads.append(_Computed(totals, source, elapsed))
        return payloads

    parts = _pieces(lookup.keys("sb", identity, pieces), pieces, compute)
    combined: engine.Totals = {}
    for _, payload, _ in parts:
        for index, row in payload.data.items():
            combined[index] = _combine(combined[index], row) if index in combined else row
    return SummaryResult(
        engine.summaries(spec, shown, combined), window.start, window.end, total,
        (time.perf_counter() - started) * 1000, _source(parts),
        all(hit for _, _, hit in parts), _blocks_info(parts, window),
    )  # fmt: skip


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _combine(a: tuple, b: tuple) -> tuple:
    """Totals of two disjoint ranges: (count, min, max, sum, last, last_ts)."""
    last, last_ts = (b[4], b[5]) if b[5] >= a[5] else (a[4], a[5])
    return (a[0] + b[0], min(a[1], b[1]), max(a[2], b[2]), a[3] + b[3], last, last_ts)


def panel_histogram(
    spec: Query,
    time_range: TimeRange,
    max_points: int,
    bins: int,
    *,
    variables: Mapping[str, Sequence[str]] | None = None,
) -> Histogram:
    """Value distribution over time (see :func:`db.histogram.histogram`), cached whole:
    its value bins span the whole range, so blocks cannot be combined exactly."""
    step = bucket_step(spec, time_range.span, max_points)
    window = aligned_range(time_range, step)
    chosen = _variables(variables)
    result = _through_cache(
        "h",
        spec.metric,
        (spec, window, max_points, bins, chosen),
        lambda session: histogram(
            session, spec, window, max_points, bins, variables=dict(chosen), step=step
        ),
    )
    whole = Block(window.start, window.end, "whole", result.cached, result.source,
                  0.0 if result.cached else result.elapsed_ms)  # fmt: skip
    return replace(result, blocks=(whole,))


def variable_values(key: str, metric: str | None) -> list[str]:
    """Distinct values of ``source`` or a label, for a dashboard variable's choices."""
    return _through_cache(
        "v",
        None,
        (key, metric),
        lambda session: metrics.label_values(session, key, metric),
    )


def catalog() -> dict[str, Any]:
    """The query pickers' choices (see :func:`db.metrics.catalog_summary`), as a dict."""
    summary = _through_cache("c", None, (), metrics.catalog_summary)
    return {"metrics": summary.metrics, "sources": summary.sources, "labels": summary.labels}


def _variables(variables: Mapping[str, Sequence[str]] | None) -> tuple[Any, ...]:
    return tuple(sorted((k, tuple(v)) for k, v in (variables or {}).items()))
