"""Cached reads for callbacks and routes: the one way panels and the API query metrics.

Panel queries, summaries and heatmaps are cached in blocks (see :mod:`db.blocks` and
:mod:`db.blockcache`): the aligned range splits into minute, ten-minute, hour and day
blocks, each cached under a counter that only writes into that block change. Blocks
older than the freshness horizon are cached for long; recent ones (minutes) briefly, as
agents keep writing into them. A miss computes contiguous missing blocks with one SQL
query and stores each block; the answer is the blocks stitched together, exactly what
one query over the whole range returns. Aligning means "last 6h" viewed by a hundred
people is one SQL query per block at most, and a refresh while agents write recomputes
the minute they write into. The series catalog is cached until a new series may have
appeared.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from dashapp.core.results import Histogram
from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange, aligned_range, floor_time
from db import blocks, tsdb
from db.blockcache import (
    Computed,
    Lookup,
    blocks_info,
    cached_pieces,
    catalog_cached,
    catalog_cached_last,
    horizon,
    source_of,
)
from db.blocks import Piece
from db.tsdb import histogram as histograms
from db.tsdb import query as engine
from db.tsdb.query import QueryResult, SummaryResult, bucket_step, summary_unit


def panel_query(
    spec: Query,
    time_range: TimeRange,
    max_points: int,
    *,
    variables: Mapping[str, Sequence[str]] | None = None,
    series_limit: int = 20,
    prefer_m4: bool = False,
    tail_grace: float | None = None,
) -> QueryResult:
    """Run a panel query (see :func:`db.tsdb.query.query`) through the block cache; with
    ``tail_grace``, its newest blocks may be up to that many seconds old (see
    :func:`db.blockcache.cached_pieces`)."""
    started = time.perf_counter()
    step = bucket_step(spec, time_range.span, max_points)
    window = aligned_range(time_range, step)
    pieces = blocks.plan(window, step, horizon(), whole_blocks=True)
    lookup = Lookup(spec.metric, pieces)
    shown, total = lookup.groups(spec, variables or {}, series_limit)
    use_m4 = engine.uses_m4(spec, shown, prefer_m4)
    # What the buckets depend on; filters, variables and the limit are in the members.
    members = [(key, [info.id for info in infos]) for key, infos in shown]
    identity = (spec.metric, spec.agg, step, members, use_m4)

    def compute(session: Any, span: TimeRange, run: list[Piece]) -> list[Computed]:
        begun = time.perf_counter()
        # Fresh pieces hold the hour being written, pending by design: read its points.
        raw = run[0].fresh
        per_group, sql, source = engine.group_buckets(
            session, spec, shown, span, step, use_m4, raw=raw
        )
        elapsed = (time.perf_counter() - begun) * 1000 / len(run)
        return [
            Computed([_cut(xs, ys, p.start, p.end) for xs, ys in per_group], source, elapsed, sql)
            for p in run
        ]

    again = refresh_job(
        "query", spec, time_range, max_points=max_points, variables=variables,
        series_limit=series_limit, prefer_m4=prefer_m4,
    )  # fmt: skip
    parts = cached_pieces(lookup.keys("qb", identity, pieces), pieces, compute, again, tail_grace)
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
        source=source_of(parts),
        cached=all(hit for _, _, hit in parts),
        blocks=blocks_info(parts, window),
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
    tail_grace: float | None = None,
) -> SummaryResult:
    """Exact per-series statistics over a range (see :func:`db.tsdb.query.summarize`), through
    the block cache: totals of blocks combine exactly (counts and sums add, minima and
    maxima compare, the last value is the latest one)."""
    started = time.perf_counter()
    unit = summary_unit(time_range.span)
    window = aligned_range(time_range, unit) if unit else time_range
    pieces = blocks.plan(window, unit, horizon(), whole_blocks=False)
    lookup = Lookup(spec.metric, pieces)
    shown, total = lookup.groups(spec, variables or {}, series_limit)
    members = [(key, [info.id for info in infos]) for key, infos in shown]
    identity = (unit, members)

    def compute(session: Any, span: TimeRange, run: list[Piece]) -> list[Computed]:
        """One query for the run, by block-wide slot; each piece combines the slots it
        holds (a first piece starting inside a slot gets its points from its start on)."""
        begun = time.perf_counter()
        slot = min(piece.level or blocks.MINUTE for piece in run)
        found, source = engine.slot_totals(session, shown, span, unit, slot, raw=run[0].fresh)
        elapsed = (time.perf_counter() - begun) * 1000 / len(run)
        payloads = []
        for piece in run:
            first = floor_time(piece.start, slot)
            totals: engine.Totals = {}
            for (index, at), row in found.items():
                if first <= _aware(at) < piece.end:
                    totals[index] = _combine(totals[index], row) if index in totals else row
            payloads.append(Computed(totals, source, elapsed))
        return payloads

    again = refresh_job("summary", spec, time_range, variables=variables, series_limit=series_limit)
    parts = cached_pieces(lookup.keys("sb", identity, pieces), pieces, compute, again, tail_grace)
    combined: engine.Totals = {}
    for _, payload, _ in parts:
        for index, row in payload.data.items():
            combined[index] = _combine(combined[index], row) if index in combined else row
    return SummaryResult(
        engine.summaries(spec, shown, combined), window.start, window.end, total,
        (time.perf_counter() - started) * 1000, source_of(parts),
        all(hit for _, _, hit in parts), blocks_info(parts, window),
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
    tail_grace: float | None = None,
) -> Histogram:
    """Value distribution over time (see :func:`db.tsdb.histogram.histogram`) in two passes
    over the same blocks: each block's lowest and highest value, which fix the bins;
    then each block's counts for those bins (keyed by them: while new points stay
    inside the range's extremes, old blocks keep their counts)."""
    started = time.perf_counter()
    step = bucket_step(spec, time_range.span, max_points)
    window = aligned_range(time_range, step)
    pieces = blocks.plan(window, step, horizon(), whole_blocks=False)
    lookup = Lookup(spec.metric, pieces)
    flat = spec.model_copy(update={"group_by": []})
    shown, _ = lookup.groups(flat, variables or {}, 1)
    ids = [info.id for _, members in shown for info in members]

    def extremes(session: Any, span: TimeRange, run: list[Piece]) -> list[Computed]:
        begun = time.perf_counter()
        slot = min((p.level for p in run if p.level), default=None)
        found, source = engine.slot_totals(session, shown, span, step, slot, raw=run[0].fresh)
        elapsed = (time.perf_counter() - begun) * 1000 / len(run)
        return [Computed(_extent(found, piece, slot), source, elapsed) for piece in run]

    again = refresh_job(
        "histogram", spec, time_range, max_points=max_points, bins=bins, variables=variables
    )
    range_keys = lookup.keys("hr", (step, ids), pieces)
    ranges = cached_pieces(range_keys, pieces, extremes, again, tail_grace)
    known = [payload.data for _, payload, _ in ranges if payload.data]
    if not ids or not known:
        return histograms.empty(window, step, len(ids))
    scale = (min(low for low, _ in known), max(high for _, high in known), bins)

    def counts(session: Any, span: TimeRange, run: list[Piece]) -> list[Computed]:
        begun = time.perf_counter()
        counted, source = histograms.bin_counts(session, ids, span, step, scale, raw=run[0].fresh)
        elapsed = (time.perf_counter() - begun) * 1000 / len(run)
        return [
            Computed([row for row in counted if p.start <= _aware(row[0]) < p.end], source, elapsed)
            for p in run
        ]

    count_keys = lookup.keys("hc", (step, ids, scale), pieces)
    parts = cached_pieces(count_keys, pieces, counts, again, tail_grace)
    counted = [row for _, payload, _ in parts for row in payload.data]
    elapsed = (time.perf_counter() - started) * 1000
    result = histograms.assemble(counted, scale, window, step, len(ids), elapsed, source_of(parts))
    cached = all(hit for _, _, hit in [*ranges, *parts])
    return replace(result, cached=cached, blocks=blocks_info(parts, window))


def _extent(found: dict[tuple[int, Any], tuple], piece: Piece, slot: timedelta | None) -> Any:
    """(lowest, highest) value of slot totals inside ``piece`` (None: no points)."""
    first = floor_time(piece.start, slot) if slot else None
    rows = [
        row for (_, at), row in found.items() if first is None or first <= _aware(at) < piece.end
    ]
    return (min(row[1] for row in rows), max(row[2] for row in rows)) if rows else None


def refresh_job(
    kind: str, spec: Query, time_range: TimeRange, **options: Any
) -> Callable[[], bytes]:
    """Encodes this read for a worker to run again (see :func:`rerun`), when a tick was
    served its newest blocks slightly stale."""

    def encode() -> bytes:
        variables = {k: list(v) for k, v in (options.get("variables") or {}).items()}
        return orjson.dumps(
            {
                "kind": kind, "spec": spec.model_dump(mode="json"), "at": time.time(),
                "range": [time_range.start, time_range.end],
                "options": {**options, "variables": variables},
            }
        )  # fmt: skip

    return encode


READS: dict[str, Callable[..., Any]] = {
    "query": panel_query,
    "summary": panel_summary,
    "histogram": panel_histogram,
}


def rerun(job: bytes, max_age: float) -> bool:
    """Run a read of :func:`refresh_job` again, with no grace: it recomputes and stores the
    recent blocks written since the answers it was served. False for a job older than
    ``max_age`` s, whose answers ticks no longer take (they compute them themselves)."""
    found = orjson.loads(job)
    if time.time() - found["at"] > max_age:
        return False
    start, end = (datetime.fromisoformat(moment) for moment in found["range"])
    spec = Query.model_validate(found["spec"])
    READS[found["kind"]](spec, TimeRange(start, end), **found["options"])
    return True


def variable_values(key: str, metric: str | None) -> list[str]:
    """Distinct values of ``source`` or a label, for a dashboard variable's choices."""
    return catalog_cached(
        "v", (key, metric), lambda session: tsdb.label_values(session, key, metric)
    )


def unknown_values(key: str, metric: str | None, values: Sequence[str]) -> list[str]:
    """Those of ``values`` that ``source`` or a label ``key`` does not have: first checked
    against the values this process last read (values go away only when retention drops
    whole series, and a query for one of them finds nothing), then, for any not there,
    against the current catalog (a new series may have brought them)."""
    seen = catalog_cached_last("v", (key, metric))
    if seen is not None and set(values) <= set(seen):
        return []
    current = set(variable_values(key, metric))
    return [value for value in values if value not in current]


def catalog() -> dict[str, Any]:
    """The query pickers' choices (see :func:`db.tsdb.catalog_summary`), as a dict."""
    summary = catalog_cached("c", (), tsdb.catalog_summary)
    return {"metrics": summary.metrics, "sources": summary.sources, "labels": summary.labels}
