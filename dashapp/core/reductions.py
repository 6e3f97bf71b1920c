"""One number per series over a range: what stat, gauge, bar and table panels show.

For value-like aggregations (avg, min, max, last) the numbers come from every point
in the range (:func:`db.tsdb.query.summarize`), so a table's max is the real maximum and
does not move with the panel's width. For the others (sum, count, rate, percentiles)
the panel's buckets are the series it shows, and those are reduced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dashapp.core.results import QueryResult, SummaryResult

VALUE_AGGREGATIONS = frozenset({"avg", "min", "max", "last"})


@dataclass(frozen=True)
class Reduction:
    """A series reduced every way a panel may ask: last, min, max, avg, sum."""

    name: str
    last: float | None
    min: float | None
    max: float | None
    avg: float | None
    sum: float | None

    def value(self, how: str) -> float | None:
        """The reduction named ``how`` (last, min, max, avg or sum)."""
        return getattr(self, how)


def reduce_values(values: Sequence[float | None], how: str) -> float | None:
    """Reduce a series to one number: last, avg, max, min or sum of its non-null values."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if how == "last":
        return present[-1]
    if how == "avg":
        return sum(present) / len(present)
    if how == "max":
        return max(present)
    if how == "min":
        return min(present)
    return sum(present)


def from_buckets(result: QueryResult) -> list[Reduction]:
    """Reductions of the bucketed series of a query result."""
    return [
        Reduction(
            s.name, *(reduce_values(s.values, how) for how in ("last", "min", "max", "avg", "sum"))
        )
        for s in result.series
    ]


def from_summary(result: SummaryResult) -> list[Reduction]:
    """Reductions computed from every point (exact)."""
    return [Reduction(s.name, s.last, s.min, s.max, s.avg, s.sum) for s in result.summaries]
