"""Ingest: validate a whole batch of points, resolve series ids, write in one transaction.

Validation happens before anything touches the database, so a bad item anywhere
refuses the whole batch. Series ids come from an in-process map filled only
after a commit, so a rolled-back batch can never leave a dangling id behind.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal, NotRequired

from flask import current_app
from pydantic import ConfigDict, StringConstraints, TypeAdapter, ValidationError
from typing_extensions import TypedDict

from dashapp.extensions import database
from db import metrics
from db.cached import mark_written

Precision = Literal["s", "ms", "us", "ns"]
PRECISION_DIVISOR = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
MAX_BATCH = 100_000
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)

MetricName = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.:\-/]+$")
]
SourceName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
LabelName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
LabelValue = Annotated[str, StringConstraints(max_length=200)]


class PointIn(TypedDict):
    """One point as a client sends it."""

    __pydantic_config__ = ConfigDict(extra="forbid", allow_inf_nan=False)  # type: ignore[misc]

    name: MetricName
    source: SourceName
    value: float
    timestamp: NotRequired[float | str | None]
    labels: NotRequired[dict[LabelName, LabelValue]]


POINTS = TypeAdapter(list[PointIn])


class IngestError(ValueError):
    """The batch was refused; ``errors`` lists ``{"index", "field", "message"}`` items."""

    def __init__(self, errors: list[dict[str, Any]], status: int = 422) -> None:
        self.errors = errors
        self.status = status
        first = errors[0] if errors else {}
        super().__init__(first.get("message", "invalid batch"))


@dataclass(frozen=True)
class IngestResult:
    """What was written."""

    accepted: int
    series: int


def validation_errors(error: ValidationError) -> list[dict[str, Any]]:
    """Pydantic errors as ``{"index": 3, "field": "labels.region", "message": ...}``."""
    items = []
    for detail in error.errors(include_url=False)[:50]:
        location = list(detail["loc"])
        index = location.pop(0) if location and isinstance(location[0], int) else None
        field = ".".join(str(part) for part in location) or "(item)"
        items.append({"index": index, "field": field, "message": detail["msg"]})
    return items


def parse_points(document: Any) -> list[PointIn]:
    """Validate decoded JSON (one point or a list of points) into points."""
    items = document if isinstance(document, list) else [document]
    if len(items) > MAX_BATCH:
        raise IngestError(
            [{"index": None, "field": "(batch)", "message": f"at most {MAX_BATCH} points"}], 413
        )
    try:
        return POINTS.validate_python(items)
    except ValidationError as error:
        raise IngestError(validation_errors(error)) from None


def to_datetime(value: float | str | None, precision: Precision | None, now: datetime) -> datetime:
    """A point's timestamp: RFC 3339 string, or epoch number in ``precision`` (default s)."""
    if value is None:
        return now
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("RFC 3339 timestamps need a time zone (Z or +hh:mm)")
        stamp = parsed.astimezone(UTC)
    else:
        if not math.isfinite(value):
            raise ValueError("timestamp must be finite")
        divisor = PRECISION_DIVISOR[precision or "s"]
        if precision in (None, "s"):
            stamp = EARLIEST + timedelta(seconds=value)
        else:
            whole = int(value)
            stamp = EARLIEST + timedelta(
                seconds=whole // divisor, microseconds=(whole % divisor) * 1_000_000 // divisor
            )
    if not EARLIEST <= stamp < LATEST:
        raise ValueError("timestamp must be between 1970 and 2200")
    return stamp


def prepare(
    points: Sequence[PointIn], precision: Precision | None = None, now: datetime | None = None
) -> list[tuple[metrics.SeriesKey, datetime, float]]:
    """Turn validated points into (series key, timestamp, value), checking timestamps."""
    now = now or datetime.now(UTC)
    rows = []
    errors = []
    for index, point in enumerate(points):
        try:
            stamp = to_datetime(point.get("timestamp"), precision, now)
        except (ValueError, OverflowError) as error:
            errors.append({"index": index, "field": "timestamp", "message": str(error)})
            if len(errors) >= 50:
                break
            continue
        key = metrics.series_key(point["name"], point["source"], point.get("labels") or {})
        rows.append((key, stamp, float(point["value"])))
    if errors:
        raise IngestError(errors)
    return rows


class SeriesIdCache:
    """Series key -> id, per process; filled only with ids from committed transactions."""

    def __init__(self, limit: int = 200_000) -> None:
        self._ids: dict[metrics.SeriesKey, int] = {}
        self._lock = threading.Lock()
        self._limit = limit

    def lookup(self, keys: Iterable[metrics.SeriesKey]) -> tuple[dict[metrics.SeriesKey, int], set]:
        """Known ids, and the keys still to resolve."""
        known, missing = {}, set()
        for key in keys:
            sid = self._ids.get(key)
            if sid is None:
                missing.add(key)
            else:
                known[key] = sid
        return known, missing

    def remember(self, ids: dict[metrics.SeriesKey, int]) -> None:
        """Add committed ids (the map is cleared when it grows past its limit)."""
        with self._lock:
            if len(self._ids) + len(ids) > self._limit:
                self._ids.clear()
            self._ids.update(ids)


def series_id_cache() -> SeriesIdCache:
    """The current app's series id cache."""
    return current_app.extensions["dashapp.series_ids"]


def write(rows: Sequence[tuple[metrics.SeriesKey, datetime, float]]) -> IngestResult:
    """Write prepared rows in one transaction; returns counts. Nothing is written on error."""
    id_cache = series_id_cache()
    distinct = {key for key, _, _ in rows}
    known, missing = id_cache.lookup(distinct)
    with database.transaction() as session:
        created = metrics.resolve_series(session, missing)
        ids = {**known, **created}
        metrics.write_points(session, ((ids[key], ts, value) for key, ts, value in rows))
    id_cache.remember(created)
    mark_written(name for name, _, _ in distinct)
    return IngestResult(accepted=len(rows), series=len(distinct))


def ingest_json(document: Any, precision: Precision | None = None) -> IngestResult:
    """Validate and store decoded JSON points (atomic: all or nothing)."""
    return write(prepare(parse_points(document), precision))
