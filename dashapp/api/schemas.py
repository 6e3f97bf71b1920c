"""Pydantic models of the REST API: query parameters, request bodies and responses.

The OpenAPI document is generated from these (``dashapp.api.openapi``), and routes
parse their input with the same models, so the documentation cannot drift from
what the server accepts.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from dashapp.core.points import PointIn, PointsEnvelope
from dashapp.core.spec import Aggregation, DashboardSpec

Precision = Literal["s", "ms", "us", "ns"]
LineProtocolPrecision = Literal["s", "ms", "u", "us", "n", "ns"]
TimeExpression = Annotated[
    str,
    StringConstraints(min_length=1, max_length=64),
    Field(description="now, now-6h, an RFC 3339 time, or epoch milliseconds"),
]
LabelMatcher = Annotated[
    str,
    StringConstraints(pattern=r"^[^=\x00]{1,100}=[^\x00]{0,200}$"),
    Field(description="key=value; repeat the parameter for several labels"),
]


def _refuse_nul(value: Any) -> Any:
    """Strings reaching SQL may not hold NUL (PostgreSQL refuses it in text)."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("NUL characters are not allowed")
    if isinstance(value, list | tuple):
        for item in value:
            _refuse_nul(item)
    return value


class Args(BaseModel):
    """Base of query-string models: unknown parameters are ignored, NUL is refused."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_nul(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for value in data.values():
                _refuse_nul(value)
        return data


# --- problems --------------------------------------------------------------------------


class FieldError(BaseModel):
    """One field-level error: which item (for batches), which field, what is wrong."""

    field: str
    message: str
    index: int | None = None
    line: int | None = None


class Problem(BaseModel):
    """RFC 9457 problem details; ``errors`` lists field-level errors."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None


# --- ingest ----------------------------------------------------------------------------


IngestBody = PointIn | list[PointIn] | PointsEnvelope


class IngestArgs(Args):
    """Query parameters of ``POST /metrics``."""

    precision: Precision | None = Field(
        default=None,
        description="unit of numeric timestamps (default: seconds; strings are RFC 3339)",
    )


class WriteArgs(Args):
    """Query parameters of ``POST /write`` (InfluxDB line protocol)."""

    precision: LineProtocolPrecision = Field(
        default="ns", description="unit of the timestamps, as in InfluxDB (default ns)"
    )


class Accepted(BaseModel):
    """What an ingest request stored."""

    accepted: int = Field(description="points written (a repeated series+timestamp counts once)")
    series: int = Field(description="distinct series in the batch")


# --- catalog ---------------------------------------------------------------------------


class CatalogArgs(Args):
    """Filters and pagination of the series catalog."""

    name: str | None = Field(default=None, max_length=200, description="exact metric name")
    source: str | None = Field(default=None, max_length=200, description="exact source")
    q: str | None = Field(default=None, max_length=200, description="substring of the name")
    label: list[LabelMatcher] = Field(default_factory=list, max_length=10)
    limit: int = Field(default=100, ge=1, le=1000)
    cursor: str | None = Field(default=None, max_length=500, description="from next_cursor")


class DashboardListArgs(Args):
    """Search of the dashboard list (the same as the home page's search box)."""

    q: str | None = Field(
        default=None, max_length=200, description="words all found in the title, slug or tags"
    )


class SeriesOut(BaseModel):
    """One series of the catalog, with its newest point."""

    id: int
    name: str
    source: str
    labels: dict[str, str]
    last_timestamp: datetime | None = None
    last_value: float | None = None
    oldest_timestamp: datetime | None = Field(
        default=None, description="the oldest point still stored (hot or compacted)"
    )
    retention: dict[str, str] = Field(
        default_factory=dict,
        description='how long each level keeps this metric: {"raw": "30d", "1m": "180d", '
        '"1h": "5y"} ("forever" when kept for good)',
    )


class SeriesPage(BaseModel):
    """A page of the catalog; pass ``next_cursor`` as ``cursor`` for the next one."""

    items: list[SeriesOut]
    next_cursor: str | None = None


# --- queries ---------------------------------------------------------------------------


class RangeArgs(Args):
    """A time range and resolution."""

    start: TimeExpression = "now-1h"
    end: TimeExpression = "now"
    agg: Aggregation = "avg"
    interval: str = Field(default="auto", max_length=20, description="auto, or e.g. 1m, 1h")
    max_points: int = Field(default=1000, ge=1, le=10_000, description="buckets per series")


class QueryArgs(RangeArgs):
    """The query a panel runs, as URL parameters."""

    metric: str = Field(min_length=1, max_length=200)
    source: str | None = Field(default=None, max_length=200, description="'*' wildcards allowed")
    label: list[LabelMatcher] = Field(default_factory=list, max_length=10)
    group_by: list[Annotated[str, StringConstraints(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=5, description="source, name or a label key"
    )
    series_limit: int = Field(default=20, ge=1, le=200)


class SeriesData(BaseModel):
    """One line of a query result: parallel lists of timestamps and values."""

    name: str
    labels: dict[str, str]
    timestamps: list[datetime]
    values: list[float | None]


class QueryOut(BaseModel):
    """A query result, with the resolved range and bucket width."""

    start: datetime
    end: datetime
    step_seconds: float
    mode: str
    total_series: int
    cached: bool
    series: list[SeriesData]


# --- dashboards ------------------------------------------------------------------------


class DashboardSummaryOut(BaseModel):
    """A row of the dashboard list."""

    slug: str
    title: str
    tags: list[str]
    panel_count: int
    version: int
    updated_at: datetime
    updated_by: str | None


class DashboardList(BaseModel):
    """Every live dashboard."""

    items: list[DashboardSummaryOut]


class DashboardOut(BaseModel):
    """A dashboard with its current spec; send ``version`` back when saving."""

    slug: str
    title: str
    version: int
    spec: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    updated_by: str | None


Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,99}$")]


class DashboardCreate(BaseModel):
    """Body of ``POST /dashboards``; the slug defaults to one made from the title."""

    model_config = ConfigDict(extra="forbid")

    spec: DashboardSpec
    slug: Slug | None = None
    message: str = Field(default="Created", max_length=500)


class DashboardUpdate(BaseModel):
    """Body of ``PUT /dashboards/{slug}``: the new spec and the version it was based on."""

    model_config = ConfigDict(extra="forbid")

    spec: DashboardSpec
    version: int | None = Field(
        default=None, ge=1, description="the version you started from (or send If-Match)"
    )
    slug: Slug | None = Field(default=None, description="a new slug, to rename")
    message: str = Field(default="", max_length=500)


class VersionSummary(BaseModel):
    """One saved state of a dashboard, without its spec."""

    version: int
    author: str | None
    message: str
    created_at: datetime


class VersionList(BaseModel):
    """A dashboard's history, newest first."""

    items: list[VersionSummary]


class VersionOut(VersionSummary):
    """One saved state of a dashboard, with its spec."""

    spec: dict[str, Any]


# --- health ----------------------------------------------------------------------------


class Health(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok"]
    database: Literal["ok"] | None = None
