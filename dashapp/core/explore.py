"""Explore: charting any metrics without a dashboard, as a URL.

``/explore?metric=cpu.usage&metric=memory.used&source=web-*&agg=max&group_by=source
&from=now-6h&to=now`` charts those metrics with the panel engine; the same state
becomes a new panel when an editor adds it to a dashboard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, get_args
from urllib.parse import parse_qs, urlencode

from dashapp.core.spec import Aggregation
from dashapp.core.timerange import check_time

AGGREGATIONS: tuple[str, ...] = get_args(Aggregation)
MAX_METRICS = 10  # a panel holds at most ten queries
GROUPINGS = ("source", "none")


@dataclass(frozen=True)
class ExploreState:
    """What Explore charts: metrics, a source filter, aggregation, grouping and range."""

    metrics: list[str] = field(default_factory=list)
    source: str = ""
    agg: str = "avg"
    group_by: str = "source"
    time_from: str = "now-6h"
    time_to: str = "now"


def parse_explore(search: str | None) -> ExploreState:
    """The state a URL asks for; unknown or invalid parts keep their defaults."""
    params = parse_qs((search or "").lstrip("?"))
    state = ExploreState()
    metrics = [m for m in params.get("metric", []) if m.strip()][:MAX_METRICS]
    agg = params.get("agg", [state.agg])[0]
    group_by = params.get("group_by", [state.group_by])[0]
    time_from = params.get("from", [state.time_from])[0]
    time_to = params.get("to", [state.time_to])[0]
    try:
        check_time(time_from)
        check_time(time_to)
    except ValueError:
        time_from, time_to = state.time_from, state.time_to
    return ExploreState(
        metrics=list(dict.fromkeys(metrics)),
        source=params.get("source", [""])[0].strip()[:200],
        agg=agg if agg in AGGREGATIONS else state.agg,
        group_by=group_by if group_by in GROUPINGS or group_by.isidentifier() else "source",
        time_from=time_from,
        time_to=time_to,
    )


def explore_search(state: ExploreState) -> str:
    """The URL query string for a state (the inverse of :func:`parse_explore`)."""
    pairs = [("metric", m) for m in state.metrics]
    if state.source:
        pairs.append(("source", state.source))
    pairs += [("agg", state.agg), ("group_by", state.group_by),
              ("from", state.time_from), ("to", state.time_to)]  # fmt: skip
    return "?" + urlencode(pairs)


def explore_panel(state: ExploreState, panel_id: str = "explore") -> dict[str, Any]:
    """A timeseries panel document charting the state's metrics."""
    group = [] if state.group_by == "none" else [state.group_by]
    queries = [
        {"metric": metric, "source": state.source or None, "agg": state.agg, "group_by": group}
        for metric in state.metrics
    ]
    title = ", ".join(state.metrics) or "Explore"
    if state.source:
        title += f" ({state.source})"
    return {"id": panel_id, "type": "timeseries", "title": title[:200], "queries": queries,
            "grid": {"x": 0, "y": 0, "w": 24, "h": 9}}  # fmt: skip
