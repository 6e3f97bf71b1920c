"""Read points back through the panels' query engine (``db.cached.panel_query``)."""

from __future__ import annotations

import math
import re
from typing import Any

from flask import Response, jsonify
from pydantic import ValidationError
from sqlalchemy.exc import DataError, OperationalError

from dashapp.api import blueprint
from dashapp.api.args import check_id, parse_args
from dashapp.api.auth import requires
from dashapp.api.errors import ApiError
from dashapp.api.metrics import labels_of
from dashapp.api.openapi import documented
from dashapp.api.schemas import QueryArgs, QueryOut, RangeArgs
from dashapp.core.results import SeriesInfo
from dashapp.core.spec import Query, field_errors
from dashapp.core.timerange import TimeRange, resolve_range
from dashapp.extensions import database
from db import tsdb
from db.cached import panel_query
from db.engine import is_timeout

_GLOB = re.compile(r"([*?\[])")


def _bad(field: str, message: str) -> ApiError:
    return ApiError(400, "Bad Request", message, errors=[{"field": field, "message": message}])


def _overflow() -> ApiError:
    return ApiError(
        422,
        "Aggregation Overflow",
        "the aggregation exceeds double precision over these values; try max, min or last",
    )


def _time_range(args: RangeArgs) -> TimeRange:
    try:
        return resolve_range(args.start, args.end)
    except (ValueError, OverflowError, OSError) as error:
        raise _bad("start", str(error)) from None


def _run(spec: Query, time_range: TimeRange, max_points: int, series_limit: int) -> Response:
    try:
        result = panel_query(spec, time_range, max_points, series_limit=series_limit)
    except DataError:  # PostgreSQL: float8 overflow in sum/avg
        raise _overflow() from None
    except OperationalError as error:
        if not is_timeout(error):
            raise
        raise ApiError(
            503,
            "Query Timeout",
            "the query ran past the statement timeout; "
            "narrow the range, or ask for a coarser interval or fewer max_points",
            headers={"Retry-After": "5"},
        ) from None
    if any(v is not None and not math.isfinite(v) for s in result.series for v in s.values):
        raise _overflow()  # SQLite: the same overflow yields inf
    body = QueryOut(
        start=result.start,
        end=result.end,
        step_seconds=result.step.total_seconds(),
        mode=result.mode,
        total_series=result.total_series,
        cached=result.cached,
        series=[
            {"name": s.name, "labels": s.labels, "timestamps": s.timestamps, "values": s.values}
            for s in result.series
        ],
    )
    return jsonify(body.model_dump(mode="json"))


@blueprint.get("/query")
@documented(
    "Query metrics like a panel",
    tag="query",
    query=QueryArgs,
    responses={200: QueryOut, 422: None},
)
@requires("read")
def query_metrics() -> Response:
    """Bucketed aggregation over the matching series, grouped like a panel query.

    The same engine and cache the dashboards use: relative times (``now-6h``),
    ``agg`` per bucket, one line per ``group_by`` group (all matching series
    combined without it), at most ``max_points`` buckets per line.
    """
    args = parse_args(QueryArgs)
    try:
        spec = Query(
            metric=args.metric,
            source=args.source,
            labels=labels_of(args.label),
            agg=args.agg,
            group_by=args.group_by,
            interval=args.interval,
        )
    except ValidationError as error:
        raise ApiError(400, "Bad Request", "invalid query", errors=field_errors(error)) from None
    return _run(spec, _time_range(args), args.max_points, args.series_limit)


def _exact(text: str) -> str:
    """An fnmatch pattern matching ``text`` only."""
    return _GLOB.sub(r"[\1]", text)


def exact_query(info: SeriesInfo, others: list[SeriesInfo], agg: str, interval: str) -> Query:
    """A panel query selecting exactly one series among those of its metric.

    Label keys other series have but this one lacks must be empty, so a series with
    extra labels is not mixed in.
    """
    labels = {key: _exact(value) for key, value in info.labels.items()}
    for other in others:
        for key in other.labels:
            labels.setdefault(key, "")
    values: dict[str, Any] = {
        "metric": info.name,
        "source": _exact(info.source),
        "labels": labels,
        "agg": agg,
        "group_by": [],
        "interval": interval,
        "mode": "buckets",
        "alias": None,
    }
    # model_construct: label keys written by clients need not fit the spec's key pattern.
    return Query.model_construct(**values)


@blueprint.get("/metrics/<int:series_id>/points")
@documented(
    "Points of one series",
    tag="query",
    query=RangeArgs,
    responses={200: QueryOut, 404: None, 422: None},
)
@requires("read")
def series_points(series_id: int) -> Response:
    """One series' points over a range, aggregated into at most ``max_points`` buckets."""
    args = parse_args(RangeArgs)
    try:
        Query(metric="m", interval=args.interval)
    except ValidationError as error:
        raise ApiError(400, "Bad Request", "invalid interval", errors=field_errors(error)) from None
    time_range = _time_range(args)
    with database.read_session() as session:
        info = tsdb.get_series(session, check_id(series_id, "series"))
        others = tsdb.find_series(session, info.name) if info else []
    if info is None:
        raise ApiError(404, "Not Found", f"no series with id {series_id}")
    return _run(exact_query(info, others, args.agg, args.interval), time_range, args.max_points, 1)
