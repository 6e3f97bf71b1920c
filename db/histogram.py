"""Value distributions over time, for heatmap panels."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from dashapp.core.results import Histogram
from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange, aligned_range
from db import rollups
from db.query import bucket_step, matching_groups
from db.sqlfunctions import floor_int


def histogram(
    session: Session,
    spec: Query,
    time_range: TimeRange,
    max_points: int,
    bins: int,
    *,
    variables: Mapping[str, Sequence[str]] | None = None,
    step: timedelta | None = None,
) -> Histogram:
    """Bin every matching series' samples by value, per time bucket.

    Samples are raw points for short ranges; for long ones, each rollup row counts as
    ``count`` samples at its average, which keeps the query cheap at the price of
    smoothing within a minute or an hour.
    """
    started = time.perf_counter()
    groups, _ = matching_groups(
        session, spec.model_copy(update={"group_by": []}), variables or {}, 1
    )
    ids = [info.id for _, members in groups for info in members]
    step = step or bucket_step(spec, time_range.span, max_points)
    window = aligned_range(time_range, step)
    empty = Histogram([], [], [], window.start, window.end, step, len(ids), 0.0)
    if not ids:
        return empty
    level = rollups.usable_level(session, step, "avg", ids, window)
    rows = rollups.shaped_rows(level, step, rollups.covering(session, level, ids, window)).c
    low, high = session.execute(select(func.min(rows.min), func.max(rows.max))).one()
    if low is None:
        return empty
    width = (high - low) / bins or 1.0
    index = floor_int((rows.sum / rows.count - low) / width)
    index = case((index >= bins, bins - 1), else_=index)
    counted = session.execute(
        select(rows.t, index, func.sum(rows.count)).group_by(rows.t, index).order_by(rows.t)
    ).all()
    times = sorted({t for t, _, _ in counted})
    column = {t: i for i, t in enumerate(times)}
    counts = [[0] * len(times) for _ in range(bins)]
    for t, bin_index, count in counted:
        counts[bin_index][column[t]] += int(count)
    edges = [low + width * i for i in range(bins + 1)]
    elapsed = (time.perf_counter() - started) * 1000
    return Histogram(
        times, edges, counts, window.start, window.end, step, len(ids), elapsed,
        rollups.describe(level),
    )  # fmt: skip
