"""Auto-refresh without re-sending charts: new points go out as a ``dash.Patch``.

After a full draw, a small ``meta`` document remembers, per trace, how many points
the chart holds and how many belong to the last (still filling) bucket. A refresh
then queries only from that bucket on, deletes its stale points, appends the new
ones and slides the x range. Anything that changes the shape (bucket width, series
set) falls back to a full redraw, as does a chart that has grown by half.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from dash import Patch

from dashapp.spec import Query, TimeseriesPanel
from dashapp.timerange import TimeRange, aligned_range, format_duration
from db.cached import panel_query
from db.query import QueryResult, bucket_step
from layouts.theme import compact, epoch_ms

GROWTH_BEFORE_REDRAW = 0.5
TAIL_MAX_POINTS = 1_000_000  # with the interval forced to the step, this never binds


def figure_meta(results: Sequence[QueryResult], max_points: int) -> dict[str, Any]:
    """What a later refresh needs to know about a freshly drawn timeseries chart."""
    queries = []
    for result in results:
        tail_start = result.end - result.step
        queries.append(
            {
                "step": result.step.total_seconds(),
                "end": result.end.isoformat(),
                "traces": [
                    {
                        "name": s.name,
                        "count": len(s.timestamps),
                        "tail": sum(1 for t in s.timestamps if t >= tail_start),
                    }
                    for s in result.series
                ],
            }
        )
    total = sum(t["count"] for q in queries for t in q["traces"])
    return {"max_points": max_points, "queries": queries, "drawn": total, "appended": 0}


def tail_patch(
    panel: TimeseriesPanel,
    meta: Mapping[str, Any],
    time_range: TimeRange,
    variables: Mapping[str, Sequence[str]] | None,
) -> tuple[Patch, dict[str, Any]] | None:
    """A Patch appending what arrived since the chart was drawn, or None to redraw it all."""
    queries = meta.get("queries", [])
    if (
        len(queries) != len(panel.queries)
        or meta["appended"] > meta["drawn"] * GROWTH_BEFORE_REDRAW
    ):
        return None
    patch = Patch()
    updated, appended, index, window = [], 0, 0, None
    for spec, known in zip(panel.queries, queries, strict=True):
        step = bucket_step(spec, time_range.span, meta["max_points"])
        if step.total_seconds() != known["step"]:
            return None
        window = aligned_range(time_range, step)
        tail = _tail(spec, step, datetime.fromisoformat(known["end"]), window, panel, variables)
        arrived = {series.name: series for series in tail.series}
        if not arrived.keys() <= {t["name"] for t in known["traces"]}:
            return None  # a new series appeared: redraw with its legend entry
        traces = []
        for trace in known["traces"]:
            series = arrived.get(trace["name"])
            new_x = series.timestamps if series else []
            new_y = series.values if series else []
            target = patch["data"][index]
            for position in range(trace["count"] - 1, trace["count"] - 1 - trace["tail"], -1):
                del target["x"][position]
                del target["y"][position]
            target["x"].extend(epoch_ms(new_x))
            target["y"].extend(compact(new_y))
            boundary = window.end - step
            traces.append(
                {
                    "name": trace["name"],
                    "count": trace["count"] - trace["tail"] + len(new_x),
                    "tail": sum(1 for t in new_x if t >= boundary),
                }
            )
            appended += len(new_x) - trace["tail"]
            index += 1
        updated.append(
            {"step": step.total_seconds(), "end": window.end.isoformat(), "traces": traces}
        )
    if window is not None:
        patch["layout"]["xaxis"]["range"] = epoch_ms([window.start, window.end])
    new_meta = {**meta, "queries": updated, "appended": meta["appended"] + appended}
    return patch, new_meta


def _tail(
    spec: Query,
    step: timedelta,
    drawn_end: datetime,
    window: TimeRange,
    panel: TimeseriesPanel,
    variables: Mapping[str, Sequence[str]] | None,
) -> QueryResult:
    """The points from the last drawn bucket to the end of the new window, same bucket width."""
    fixed = spec.model_copy(update={"interval": format_duration(step)})
    start = min(drawn_end - step, window.end - step)
    return panel_query(
        fixed,
        TimeRange(start, window.end),
        TAIL_MAX_POINTS,
        variables=variables,
        series_limit=panel.options.series_limit,
        prefer_m4=panel.options.style in ("line", "points"),
    )
