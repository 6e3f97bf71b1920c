"""Auto-refresh without re-sending charts: new points go out as a ``dash.Patch``.

After a full draw, a small ``meta`` document remembers, per trace, how many of its
points belong to the last (still filling) bucket and where the trace sits in the
figure. A refresh then queries only from that bucket on, deletes its stale points (from
the end of the trace), appends the new ones and slides the x range; a series that
appears (a new host in a group-by panel) is appended as a new trace. A change of bucket
width, or a chart that has grown by half, falls back to a full redraw. Patches carry
times on the view's wall clock, like the drawn chart.

The browser holds the meta, so the server trusts none of its numbers: the document is
validated (:class:`PanelMeta`), and every size it could steer is bounded by what the
server derives from the saved panel, the range and the bucket width (:func:`tail_plans`):
the last drawn bucket must lie inside the window, a trace holds at most the points one
bucket can have (four with M4), a query at most its series limit. Anything else is a
full redraw, which the cost cap bounds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from dash import Patch
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from dashapp.core.panel_data import M4_AGGREGATIONS, bucket_step
from dashapp.core.results import QueryResult
from dashapp.core.spec import Query, TimeseriesPanel
from dashapp.core.timerange import TimeRange, aligned_range, format_duration
from dashapp.core.zones import wall_clock
from layouts.charts import WEBGL_THRESHOLD, time_trace
from layouts.theme import axis_times, compact, series_colors

GROWTH_BEFORE_REDRAW = 0.5
M4_POINTS_PER_BUCKET = 4  # first, last, lowest and highest
MAX_META_QUERIES = 64
MAX_META_TRACES = 500  # the largest series limit a panel may set


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class TraceMeta(_Strict):
    """One drawn trace: its name, its points in the last bucket, its place in the figure."""

    name: str = Field(max_length=2000)
    tail: int = Field(ge=0, le=M4_POINTS_PER_BUCKET)
    index: int = Field(ge=0)


class QueryMeta(_Strict):
    """One query's drawn bucket width and aligned end, and its traces."""

    step: float = Field(gt=0)
    end: AwareDatetime = Field(strict=False)  # an ISO string in the browser's store
    traces: list[TraceMeta] = Field(max_length=MAX_META_TRACES)


class PanelMeta(_Strict):
    """What the browser says it drew (see :func:`figure_meta`); untrusted."""

    queries: list[QueryMeta] = Field(max_length=MAX_META_QUERIES)
    drawn: int = Field(ge=0)
    appended: int = Field(ge=0)
    traces: int = Field(ge=0)
    webgl: bool


def parse_meta(document: Any) -> PanelMeta | None:
    """The validated meta, or None (malformed, forged or from an older release: redraw)."""
    if not isinstance(document, Mapping):
        return None
    try:
        return PanelMeta.model_validate(document)
    except ValidationError:
        return None


def figure_meta(results: Sequence[QueryResult]) -> dict[str, Any]:
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
                    "tail": sum(1 for t in s.timestamps if t >= tail_start),
                    "index": index,
                }
            )
            index += 1
        queries.append(
            {"step": result.step.total_seconds(), "end": result.end.isoformat(), "traces": traces}
        )
    total = sum(len(s.timestamps) for result in results for s in result.series)
    webgl = total > WEBGL_THRESHOLD
    return {"queries": queries, "drawn": total, "appended": 0, "traces": index, "webgl": webgl}


@dataclass(frozen=True)
class TailPlan:
    """One query's refresh: ask ``query`` (its interval fixed to ``step``) over ``time_range``."""

    query: Query
    time_range: TimeRange
    step: timedelta
    window: TimeRange


def tail_plans(
    panel: TimeseriesPanel, meta: PanelMeta, time_range: TimeRange, max_points: int
) -> list[TailPlan] | None:
    """What to query for a refresh: per query, from its last drawn bucket to the end of the
    new window at the same bucket width; None when the chart must be redrawn instead
    (the bucket width changed, the chart grew by half, or the meta is not one the server
    could have written for this panel, range and width)."""
    if len(meta.queries) != len(panel.queries) or not _consistent(panel, meta):
        return None
    if meta.appended > meta.drawn * GROWTH_BEFORE_REDRAW:
        return None
    plans, most_points = [], 0
    for spec, known in zip(panel.queries, meta.queries, strict=True):
        step = bucket_step(spec, time_range.span, max_points)
        if step.total_seconds() != known.step:
            return None
        window = aligned_range(time_range, step)
        drawn_end = known.end
        if not window.start < drawn_end <= window.end or (drawn_end - window.start) % step:
            return None  # not a bucket edge of this window: nothing to append to
        start = drawn_end - step
        fixed = spec.model_copy(update={"interval": format_duration(step)})
        plans.append(TailPlan(fixed, TimeRange(start, window.end), step, window))
        buckets = window.span // step + 1
        most_points += panel.options.series_limit * buckets * points_per_bucket(panel, spec)
    if meta.drawn > most_points:
        return None
    return plans


def points_per_bucket(panel: TimeseriesPanel, spec: Query) -> int:
    """The most points one trace of ``spec`` can have in a bucket: four where the panel
    may draw M4 (see :func:`db.query.uses_m4`), else one."""
    prefer_m4 = panel.options.style in ("line", "points")
    m4 = spec.mode == "m4" or (spec.mode == "auto" and prefer_m4 and spec.agg in M4_AGGREGATIONS)
    return M4_POINTS_PER_BUCKET if m4 else 1


def _consistent(panel: TimeseriesPanel, meta: PanelMeta) -> bool:
    """Whether the traces the meta lists fit the panel: at most its series limit per
    query, at most a bucket's points in each tail, each figure index once."""
    indices = [trace.index for query in meta.queries for trace in query.traces]
    if sorted(indices) != list(range(meta.traces)):
        return False
    return all(
        len(known.traces) <= panel.options.series_limit
        and all(trace.tail <= points_per_bucket(panel, spec) for trace in known.traces)
        for spec, known in zip(panel.queries, meta.queries, strict=True)
    )


def tail_size(plans: Sequence[TailPlan], meta: PanelMeta, tails: Sequence[QueryResult]) -> int:
    """Points a patch sends and deletes: what the cost cap counts."""
    sent = sum(len(s.timestamps) for tail in tails for s in tail.series)
    return sent + sum(trace.tail for query in meta.queries for trace in query.traces)


def tail_patch(
    panel: TimeseriesPanel,
    meta: PanelMeta,
    plans: Sequence[TailPlan],
    tails: Sequence[QueryResult],
    zone: str = "UTC",
) -> tuple[Patch, dict[str, Any]]:
    """A Patch replacing each trace's last bucket with what the tail queries returned, and
    appending a trace for each series that appeared since the chart was drawn. Times go
    out on ``zone``'s wall clock, as the chart was drawn (``meta`` keeps UTC). A trace's
    stale points are deleted from its end (negative indices), so no count the browser
    sends places a deletion."""

    def shown(moments: Sequence[datetime]) -> list[str]:
        return axis_times([wall_clock(moment, zone) for moment in moments])

    patch = Patch()
    updated, appended = [], 0
    total_traces = first_new = meta.traces
    for known, plan, tail in zip(meta.queries, plans, tails, strict=True):
        arrived = {series.name: series for series in tail.series}
        boundary = plan.window.end - plan.step
        traces = []
        for trace in known.traces:
            series = arrived.pop(trace.name, None)
            new_x = series.timestamps if series else []
            new_y = series.values if series else []
            target = patch["data"][trace.index]
            for _ in range(trace.tail):
                del target["x"][-1]
                del target["y"][-1]
            target["x"].extend(shown(new_x))
            target["y"].extend(compact(new_y))
            tail_count = sum(1 for t in new_x if t >= boundary)
            traces.append({"name": trace.name, "tail": tail_count, "index": trace.index})
            appended += len(new_x) - trace.tail
        options = panel.options
        names = [t.name for t in known.traces] + list(arrived)
        colors = series_colors(names, options.colors) if arrived else {}
        for series in arrived.values():  # series that appeared: new traces at the end
            drawn = replace(series, timestamps=[wall_clock(t, zone) for t in series.timestamps])
            trace = time_trace(drawn, options.style, options.unit, meta.webgl, colors[series.name])
            patch["data"].append(trace)
            tail_count = sum(1 for t in series.timestamps if t >= boundary)
            traces.append({"name": series.name, "tail": tail_count, "index": total_traces})
            total_traces += 1
            appended += len(series.timestamps)
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
        **meta.model_dump(mode="json"), "queries": updated,
        "appended": max(0, meta.appended + appended), "traces": total_traces,
    }  # fmt: skip
    return patch, new_meta
