"""Auto-refresh without re-sending charts: new points go out as a ``dash.Patch``.

After a full draw, a small ``meta`` document remembers, per trace, how many points
the chart holds, how many belong to the last (still filling) bucket and where the trace
sits in the figure. A refresh then queries only from that bucket on, deletes its stale
points, appends the new ones and slides the x range; a series that appears (a new host
in a group-by panel) is appended as a new trace. A change of bucket width, or a chart
that has grown by half, falls back to a full redraw. Patches carry times on the view's
wall clock, like the drawn chart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from dash import Patch

from dashapp.core.panel_data import bucket_step
from dashapp.core.results import QueryResult
from dashapp.core.spec import Query, TimeseriesPanel
from dashapp.core.timerange import TimeRange, aligned_range, format_duration
from dashapp.core.zones import wall_clock
from layouts.charts import WEBGL_THRESHOLD, time_trace
from layouts.theme import axis_times, compact, series_colors

GROWTH_BEFORE_REDRAW = 0.5


def figure_meta(results: Sequence[QueryResult], max_points: int) -> dict[str, Any]:
    """What a later refresh needs to know about a freshly drawn timeseries chart."""
    queries = []
    index = 0
    for result in results:
        tail_start = result.end - result.step
        traces = []
        for s in result.series:
            traces.append(
                {
                    "name": s.name,
                    "count": len(s.timestamps),
                    "tail": sum(1 for t in s.timestamps if t >= tail_start),
                    "index": index,
                }
            )
            index += 1
        queries.append(
            {"step": result.step.total_seconds(), "end": result.end.isoformat(), "traces": traces}
        )
    total = sum(t["count"] for q in queries for t in q["traces"])
    webgl = total > WEBGL_THRESHOLD
    return {
        "max_points": max_points, "queries": queries, "drawn": total, "appended": 0,
        "traces": index, "webgl": webgl,
    }  # fmt: skip


@dataclass(frozen=True)
class TailPlan:
    """One query's refresh: ask ``query`` (its interval fixed to ``step``) over ``time_range``."""

    query: Query
    time_range: TimeRange
    step: timedelta
    window: TimeRange


def tail_plans(
    panel: TimeseriesPanel, meta: Mapping[str, Any], time_range: TimeRange
) -> list[TailPlan] | None:
    """What to query for a refresh: per query, from its last drawn bucket to the end of the
    new window at the same bucket width; None when the chart must be redrawn instead."""
    queries = meta.get("queries", [])
    if (
        len(queries) != len(panel.queries)
        or meta["appended"] > meta["drawn"] * GROWTH_BEFORE_REDRAW
    ):
        return None
    plans = []
    for spec, known in zip(panel.queries, queries, strict=True):
        step = bucket_step(spec, time_range.span, meta["max_points"])
        if step.total_seconds() != known["step"]:
            return None
        window = aligned_range(time_range, step)
        drawn_end = datetime.fromisoformat(known["end"])
        start = min(drawn_end - step, window.end - step)
        fixed = spec.model_copy(update={"interval": format_duration(step)})
        plans.append(TailPlan(fixed, TimeRange(start, window.end), step, window))
    return plans


def tail_patch(
    panel: TimeseriesPanel,
    meta: Mapping[str, Any],
    plans: Sequence[TailPlan],
    tails: Sequence[QueryResult],
    zone: str = "UTC",
) -> tuple[Patch, dict[str, Any]]:
    """A Patch replacing each trace's last bucket with what the tail queries returned, and
    appending a trace for each series that appeared since the chart was drawn. Times go
    out on ``zone``'s wall clock, as the chart was drawn (``meta`` keeps UTC)."""

    def shown(moments: Sequence[datetime]) -> list[str]:
        return axis_times([wall_clock(moment, zone) for moment in moments])

    patch = Patch()
    updated, appended = [], 0
    total_traces = meta.get("traces", sum(len(q["traces"]) for q in meta["queries"]))
    first_new = total_traces
    for known, plan, tail in zip(meta["queries"], plans, tails, strict=True):
        arrived = {series.name: series for series in tail.series}
        boundary = plan.window.end - plan.step
        traces = []
        for position, trace in enumerate(known["traces"]):
            index = trace.get("index", position)
            series = arrived.pop(trace["name"], None)
            new_x = series.timestamps if series else []
            new_y = series.values if series else []
            target = patch["data"][index]
            for point in range(trace["count"] - 1, trace["count"] - 1 - trace["tail"], -1):
                del target["x"][point]
                del target["y"][point]
            target["x"].extend(shown(new_x))
            target["y"].extend(compact(new_y))
            traces.append(
                {
                    "name": trace["name"],
                    "count": trace["count"] - trace["tail"] + len(new_x),
                    "tail": sum(1 for t in new_x if t >= boundary),
                    "index": index,
                }
            )
            appended += len(new_x) - trace["tail"]
        options, webgl = panel.options, meta.get("webgl", False)
        names = [t["name"] for t in known["traces"]] + list(arrived)
        colors = series_colors(names, options.colors) if arrived else {}
        for series in arrived.values():  # series that appeared: new traces at the end
            drawn = replace(series, timestamps=[wall_clock(t, zone) for t in series.timestamps])
            trace = time_trace(drawn, options.style, options.unit, webgl, colors[series.name])
            patch["data"].append(trace)
            count = len(series.timestamps)
            tail_count = sum(1 for t in series.timestamps if t >= boundary)
            traces.append(
                {"name": series.name, "count": count, "tail": tail_count, "index": total_traces}
            )
            total_traces += 1
            appended += count
        updated.append(
            {
                "step": plan.step.total_seconds(),
                "end": plan.window.end.isoformat(),
                "traces": traces,
            }
        )
    if plans:
        patch["layout"]["xaxis"]["range"] = shown([plans[-1].window.start, plans[-1].window.end])
    if total_traces > first_new:
        patch["layout"]["showlegend"] = panel.options.legend and total_traces > 1
    new_meta = {
        **meta, "queries": updated, "appended": meta["appended"] + appended,
        "traces": total_traces,
    }  # fmt: skip
    return patch, new_meta
