"""Plain, frozen result types that repositories return and layouts draw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

PAST_RETENTION = "raw points past retention"
"""Said by a result's ``source`` when rollups answered because raw points were dropped."""
NO_PERCENTILES = "none: percentiles need raw points, past retention here"
"""A result's ``source`` when only rollups hold the range and the query asks a percentile."""


@dataclass(frozen=True)
class Block:
    """One piece of a cached answer: a time range, and whether it came from the cache.

    ``kind`` is ``block`` for an immutable, long-cached piece that ends before the
    freshness horizon, ``tail`` for the piece computed fresh (cached only until the
    next write of the metric), ``whole`` for answers cached as one piece.
    """

    start: datetime
    end: datetime
    kind: str
    cached: bool
    source: str = "points"
    elapsed_ms: float = 0.0


@dataclass(frozen=True)
class Series:
    """One line of a query result."""

    name: str
    labels: dict[str, str]
    timestamps: list[datetime]
    values: list[float | None]


@dataclass(frozen=True)
class QueryResult:
    """What a panel needs to draw a query, plus what the inspect view shows about it."""

    series: list[Series]
    start: datetime
    end: datetime
    step: timedelta
    mode: str
    total_series: int
    elapsed_ms: float
    sql: str = ""
    source: str = "points"
    cached: bool = False
    blocks: tuple[Block, ...] = ()

    @property
    def hidden(self) -> int:
        """How many series the panel's series limit left out."""
        return self.total_series - len(self.series)

    @property
    def points(self) -> int:
        """Number of points returned."""
        return sum(len(s.values) for s in self.series)


@dataclass(frozen=True)
class Summary:
    """One series (or group) reduced over a whole range, from every point in it."""

    name: str
    labels: dict[str, str]
    count: int
    min: float | None
    max: float | None
    avg: float | None
    sum: float | None
    last: float | None
    last_ts: datetime | None


@dataclass(frozen=True)
class SummaryResult:
    """Summaries of a query's series over a range, plus what the inspect view shows."""

    summaries: list[Summary]
    start: datetime
    end: datetime
    total_series: int
    elapsed_ms: float
    source: str = "points"
    cached: bool = False
    blocks: tuple[Block, ...] = ()


@dataclass(frozen=True)
class Histogram:
    """How many samples fell in each value bin, per time bucket."""

    times: list[datetime]
    edges: list[float]
    counts: list[list[int]]
    """``counts[bin][time]``, ready for a plotly heatmap's ``z``."""
    start: datetime
    end: datetime
    step: timedelta
    total_series: int
    elapsed_ms: float
    source: str = "points"
    cached: bool = False
    blocks: tuple[Block, ...] = ()

    @property
    def empty(self) -> bool:
        """True when no sample fell in the range."""
        return not self.times


@dataclass(frozen=True)
class SeriesInfo:
    """A series as listed in the catalog."""

    id: int
    name: str
    source: str
    labels: dict[str, str]
    last_ts: datetime | None = None
    last_value: float | None = None
    oldest_ts: datetime | None = None


@dataclass(frozen=True)
class LastPoint:
    """The newest point of a series."""

    ts: datetime
    value: float


@dataclass(frozen=True)
class Catalog:
    """What the query pickers offer: metric names, sources, and label keys per metric."""

    metrics: list[str]
    sources: list[str]
    labels: dict[str, list[str]]
