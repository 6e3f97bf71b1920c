"""Points as clients send them: validate a whole batch before anything is written.

A bad item anywhere refuses the batch, with errors naming its index (or line) and field.
:func:`prepare` turns valid points into ``(series key, timestamp, value)`` rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal, NotRequired

import orjson
from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)
from pydantic_core import PydanticCustomError
from typing_extensions import TypedDict

from dashapp.core.keys import SeriesKey, series_key
from dashapp.core.protocols.points import Decoded, Point, Rejected

Precision = Literal["s", "ms", "us", "ns"]
PRECISION_DIVISOR = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}
MAX_BATCH = 100_000
MAX_ERRORS = 50
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
LATEST_SECONDS = (LATEST - EARLIEST).total_seconds()

# Sizes are checked in bytes by series_limit_errors (SERIES_LIMITS), after these.
MetricName = Annotated[str, StringConstraints(min_length=1, pattern=r"^[A-Za-z0-9_.:\-/]+$")]
SourceName = Annotated[str, StringConstraints(min_length=1)]
LabelName = Annotated[str, StringConstraints(min_length=1)]
LabelValue = str
MAX_MAGNITUDE = 1e300
"""Larger values would let sums of a few of them overflow a double in aggregations."""
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# What one series may carry, in UTF-8 bytes. Together they keep a series row well below
# PostgreSQL's b-tree row limit (about 2.7 kB) on the (name, source, labels) unique index,
# so an oversized series is refused up front (422 naming the limit), never by the database.
SERIES_LIMITS = {
    "name_bytes": 200,
    "source_bytes": 200,
    "labels_per_series": 32,
    "label_key_bytes": 100,
    "label_value_bytes": 200,
    "labels_total_bytes": 1024,
}


def _strict_number(value: Any) -> Any:
    """Refuse integers beyond int64 and floats beyond ±1e300 (types are checked after)."""
    kind = type(value)
    if kind is int and not INT64_MIN <= value <= INT64_MAX:
        raise PydanticCustomError("int64", "integers must fit in 64 bits (int64)")
    if kind is float and not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
        raise PydanticCustomError("magnitude", "must be a finite number within ±1e300")
    return value


# Strict: "42", true and integers beyond int64 are refused, not coerced.
Value = Annotated[float, BeforeValidator(_strict_number), Strict()]
EpochNumber = (
    Annotated[int, BeforeValidator(_strict_number), Strict()]
    | Annotated[float, BeforeValidator(_strict_number), Strict()]
)
RFC3339 = Annotated[
    str,
    StringConstraints(
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?"
        r"([Zz]|[+-][0-9]{2}:?[0-9]{2})$"
    ),
]
"""An RFC 3339 time with ASCII digits only (no digit separators, no other scripts)."""
TIMESTAMP_MESSAGE = (
    "must be an epoch number (int64 or float) or an RFC 3339 string with a time zone"
)


class PointIn(TypedDict):
    """One point as a client sends it."""

    __pydantic_config__ = ConfigDict(extra="forbid", allow_inf_nan=False)  # type: ignore[misc]

    name: MetricName
    source: SourceName
    value: Value
    timestamp: NotRequired[EpochNumber | RFC3339 | None]
    labels: NotRequired[dict[LabelName, LabelValue]]


class PointsEnvelope(TypedDict):
    """A batch wrapped in an object: ``{"points": [...]}``."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    points: list[PointIn]


POINT = TypeAdapter(PointIn)
POINTS = TypeAdapter(list[PointIn])
ENVELOPE = TypeAdapter(PointsEnvelope)

# The same checks without a Python call per number (a third of a batch's validation),
# for bodies in which every integer has at most 18 digits, so fits in int64 by itself.
Finite = Annotated[float, Strict(), Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE)]
DIGITS_ONLY = bytes(48 if 48 <= byte <= 57 else 32 for byte in range(256))
"""A translation table: ASCII digits to ``0``, every other byte to a space."""


class FastPointIn(TypedDict):
    """:class:`PointIn` for a body without 19-digit numbers (see :func:`_validate_json`)."""

    __pydantic_config__ = ConfigDict(extra="forbid", allow_inf_nan=False)  # type: ignore[misc]

    name: MetricName
    source: SourceName
    value: Finite
    timestamp: NotRequired[Annotated[int, Strict()] | Finite | RFC3339 | None]
    labels: NotRequired[dict[LabelName, LabelValue]]


class FastPointsEnvelope(TypedDict):
    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    points: list[FastPointIn]


FAST = {POINTS: TypeAdapter(list[FastPointIn]), ENVELOPE: TypeAdapter(FastPointsEnvelope)}


def _validate_json(adapter: TypeAdapter[Any], body: bytes) -> Any:
    """``adapter.validate_json(body)``, through its fast twin when no run of 19 digits
    (a number that may be beyond int64) is in the body. The twin accepts exactly what
    the strict one does; a body it refuses is validated again by the strict one, whose
    errors name the int64 and magnitude limits."""
    if b"0" * 19 not in body.translate(DIGITS_ONLY):  # faster than a regular expression
        try:
            return FAST[adapter].validate_json(body)
        except ValidationError:
            pass
    return adapter.validate_json(body)


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


def validation_errors(
    error: ValidationError, lines: Sequence[int] | None = None, offset: int = 0
) -> list[dict[str, Any]]:
    """Pydantic errors as ``{"index": 3, "field": "labels.region", "message": ...}``.

    ``offset`` drops leading location parts (an envelope's ``points``); ``lines``
    maps item indexes to line numbers for text formats.
    """
    items = []
    seen: set[tuple[Any, str]] = set()
    for detail in error.errors(include_url=False)[: MAX_ERRORS * 4]:
        location = list(detail["loc"])[offset:]
        index = location.pop(0) if location and isinstance(location[0], int) else None
        message = detail["msg"]
        if location[:1] == ["timestamp"]:
            # One message for the union (number or RFC 3339 string), not one per member.
            location = location[:1]
            if detail["type"] not in ("int64", "magnitude"):
                message = TIMESTAMP_MESSAGE
        field = ".".join(str(part) for part in location) or "(item)"
        if (index, field) in seen and field == "timestamp":
            continue
        seen.add((index, field))
        item: dict[str, Any] = {"index": index, "field": field, "message": message}
        if lines is not None and index is not None:
            item["line"] = lines[index]
        items.append(item)
    return items[:MAX_ERRORS]


def check_size(count: int) -> None:
    """Refuse batches of more than MAX_BATCH points (413)."""
    if count > MAX_BATCH:
        raise IngestError(
            [{"index": None, "field": "(batch)", "message": f"at most {MAX_BATCH} points"}], 413
        )


def parse_points(document: Any) -> list[PointIn]:
    """Validate decoded JSON (one point, a list, or ``{"points": [...]}``) into points."""
    if isinstance(document, dict) and "points" in document:
        if isinstance(document["points"], list):
            check_size(len(document["points"]))
        try:
            return ENVELOPE.validate_python(document)["points"]
        except ValidationError as error:
            raise IngestError(validation_errors(error, offset=1)) from None
    items = document if isinstance(document, list) else [document]
    check_size(len(items))
    try:
        return POINTS.validate_python(items)
    except ValidationError as error:
        raise IngestError(validation_errors(error)) from None


def validate_points(items: list[dict[str, Any]], lines: Sequence[int]) -> list[PointIn]:
    """Validate already-decoded points (from a text format); errors carry line numbers."""
    check_size(len(items))
    try:
        points = POINTS.validate_python(items)
    except ValidationError as error:
        raise IngestError(validation_errors(error, lines)) from None
    _refuse_nul(points)
    return points


def _malformed(message: str, line: int | None = None) -> IngestError:
    item: dict[str, Any] = {"index": None, "field": "(body)", "message": message}
    if line is not None:
        item["line"] = line
    return IngestError([item], status=400)


def parse_json(body: bytes) -> list[PointIn]:
    """Validate a JSON body: one point, an array of points, or ``{"points": [...]}``.

    Arrays, the common bulk shape, go straight from bytes through pydantic-core
    without building an intermediate document.
    """
    if body.lstrip()[:1] == b"[":
        try:
            points = _validate_json(POINTS, body)
        except ValidationError as error:
            if error.errors()[0]["type"] == "json_invalid":
                raise _malformed(
                    f"the body is not valid JSON: {error.errors()[0]['msg']}"
                ) from None
            raise IngestError(validation_errors(error)) from None
        check_size(len(points))
    else:
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise _malformed(f"the body is not valid JSON: {error}") from None
        points = _parse_object(body, document)
    if b"\\u0000" in body:
        _refuse_nul(points)
    return points


def _parse_object(body: bytes, document: Any) -> list[PointIn]:
    """A point or an envelope, validated from the bytes again: orjson reads integers
    beyond 64 bits as floats, which would let them pass the strict int64 check."""
    if isinstance(document, dict) and isinstance(document.get("points"), list):
        check_size(len(document["points"]))
        try:
            return _validate_json(ENVELOPE, body)["points"]
        except ValidationError as error:
            raise IngestError(validation_errors(error, offset=1)) from None
    if isinstance(document, dict) and "points" not in document:
        try:
            return [POINT.validate_json(body)]
        except ValidationError as error:
            errors = [{**item, "index": 0} for item in validation_errors(error)]
            raise IngestError(errors) from None
    return parse_points(document)


def parse_ndjson(body: bytes) -> list[PointIn]:
    """Validate newline-delimited JSON: one point per line; blank lines are skipped."""
    points: list[PointIn] = []
    errors: list[dict[str, Any]] = []
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            points.append(POINT.validate_json(line))
        except ValidationError as error:
            if error.errors()[0]["type"] == "json_invalid":
                raise _malformed("the line is not valid JSON", number) from None
            for item in validation_errors(error):
                errors.append({**item, "index": len(points), "line": number})
            points.append({})  # type: ignore[typeddict-item]  # keeps indexes aligned
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        raise IngestError(errors)
    check_size(len(points))
    if b"\\u0000" in body:
        _refuse_nul(points)
    return points


def _refuse_nul(points: Sequence[PointIn]) -> None:
    """PostgreSQL cannot store NUL in text: refuse it with the item and field."""
    errors = []
    for index, point in enumerate(points):
        texts = [("name", point["name"]), ("source", point["source"])]
        for key, value in (point.get("labels") or {}).items():
            texts += [("labels", key), (f"labels.{key}", value)]
        errors += [
            {"index": index, "field": field, "message": "NUL characters are not allowed"}
            for field, text in texts
            if "\x00" in text
        ]
    if errors:
        raise IngestError(errors[:MAX_ERRORS])


def series_limit_errors(name: str, source: str, labels: Mapping[str, str]) -> list[dict]:
    """What a prepared series breaks of :data:`SERIES_LIMITS`, as field errors (empty: none).

    Every ingest path (each protocol's decoder) checks its points with this before
    writing, so an oversized series is a 422 naming the limit, never a database error.
    Each error carries ``limit`` (the key in SERIES_LIMITS) and ``max``.
    """
    errors: list[dict] = []

    def over(field: str, limit: str, size: int, unit: str = "bytes") -> None:
        maximum = SERIES_LIMITS[limit]
        if size > maximum:
            message = f"{size} {unit} is over the limit {limit} (at most {maximum})"
            errors.append({"field": field, "message": message, "limit": limit, "max": maximum})

    over("name", "name_bytes", len(name.encode()))
    over("source", "source_bytes", len(source.encode()))
    if labels:
        over("labels", "labels_per_series", len(labels), "labels")
        total = 0
        for key, value in labels.items():
            key_bytes, value_bytes = len(key.encode()), len(value.encode())
            total += key_bytes + value_bytes
            over(f"labels.{key}", "label_key_bytes", key_bytes)
            over(f"labels.{key}", "label_value_bytes", value_bytes)
        over("labels", "labels_total_bytes", total)
    return errors


def to_datetime(
    value: int | float | str | None, precision: Precision | None, now: datetime
) -> datetime:
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
        if not 0 <= value / divisor < LATEST_SECONDS:
            raise ValueError("timestamp must be between 1970 and 2200")
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


@lru_cache(maxsize=65_536)
def checked_series(
    name: str, source: str, labels: tuple[tuple[str, str], ...]
) -> SeriesKey | list[dict]:
    """The key of a point's series, or the limits it breaks (errors without an index).
    Memoised in the process: agents send the same series every few seconds, and checking
    and encoding each took a fifth of a batch's preparation."""
    found = dict(labels)
    return series_limit_errors(name, source, found) or series_key(name, source, found)


def prepare(
    points: Sequence[PointIn], precision: Precision | None = None, now: datetime | None = None
) -> list[tuple[SeriesKey, datetime, float]]:
    """Turn validated points into (series key, timestamp, value), checking timestamps.

    Batches repeat a few series and timestamps many times, so both conversions are
    memoised per batch: each distinct one is computed once.
    """
    now = now or datetime.now(UTC)
    rows = []
    append = rows.append
    errors = []
    stamps: dict[Any, datetime] = {}
    keys: dict[tuple[Any, ...], SeriesKey] = {}
    for index, point in enumerate(points):
        raw = point.get("timestamp")
        stamp = stamps.get(raw)
        if stamp is None:
            try:
                stamp = stamps[raw] = to_datetime(raw, precision, now)
            except (ValueError, OverflowError) as error:
                errors.append({"index": index, "field": "timestamp", "message": str(error)})
                if len(errors) >= MAX_ERRORS:
                    break
                continue
        name, source, labels = point["name"], point["source"], point.get("labels")
        memo = (name, source, tuple(labels.items()) if labels else ())
        key = keys.get(memo)
        if key is None:
            key = checked_series(*memo)
            if isinstance(key, list):
                errors += [{"index": index, **error} for error in key]
                if len(errors) >= MAX_ERRORS:
                    break
                continue
            keys[memo] = key
        append((key, stamp, point["value"]))
    if errors:
        raise IngestError(errors[:MAX_ERRORS])
    return rows


def prepare_plain(
    points: Sequence[Point], now: datetime | None = None
) -> list[tuple[SeriesKey, datetime, float]]:
    """Rows for writing from points decoded from an agent's wire format (already
    normalised and checked by :mod:`dashapp.core.protocols`); a None timestamp is ``now``.

    Decoders share one labels dict between the points of a series, so the series key is
    memoised first by the dict's identity (every dict stays alive for the whole call),
    then by content for label sets built anew.
    """
    check_size(len(points))
    now = now or datetime.now(UTC)
    by_identity: dict[tuple[str, str, int], SeriesKey] = {}
    by_content: dict[tuple[Any, ...], SeriesKey] = {}
    rows = []
    append = rows.append
    for name, source, labels, stamp, value in points:
        memo = (name, source, id(labels))
        key = by_identity.get(memo)
        if key is None:
            content = (name, source, *labels.items())
            key = by_content.get(content)
            if key is None:
                key = by_content[content] = series_key(name, source, labels)
            by_identity[memo] = key
        append((key, stamp or now, value))
    return rows


def within_limits(decoded: Decoded) -> Decoded:
    """``decoded`` without the points whose series break :data:`SERIES_LIMITS`, which join
    the rejected items (an agent's valid points are never refused because of them)."""
    verdicts: dict[tuple[str, str, int], str] = {}
    kept: list[Point] = []
    rejected = list(decoded.rejected)
    for point in decoded.points:
        name, source, labels = point[0], point[1], point[2]
        memo = (name, source, id(labels))
        verdict = verdicts.get(memo)
        if verdict is None:
            errors = series_limit_errors(name, source, labels)
            verdict = verdicts[memo] = errors[0]["message"] if errors else ""
        if verdict:
            rejected.append(Rejected(f"{name}: {verdict}"))
        else:
            kept.append(point)
    if len(kept) == len(decoded.points):
        return decoded
    return Decoded(kept, rejected, decoded.skipped)
