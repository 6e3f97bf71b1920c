"""Durations, relative time expressions (``now-6h``), and bucket-aligned ranges."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|y)\s*$")
_UNIT_SECONDS = {
    "ms": 0.001,
    "s": 1,
    "m": 60,
    "h": 3600,
    "d": 86400,
    "w": 7 * 86400,
    "y": 365 * 86400,
}
# now, now-6h, and rounded down to the start of a day or week: now/d, now-1d/d, now/w.
_RELATIVE = re.compile(r"^now\s*(?:-\s*([^/]+?))?\s*(?:/\s*([dw]))?$")

# Bucket widths a chart may use; a computed interval is rounded up to one of these.
NICE_STEPS_SECONDS = (
    1, 2, 5, 10, 15, 30,
    60, 120, 300, 600, 900, 1800,
    3600, 7200, 10800, 21600, 43200,
    86400, 2 * 86400, 7 * 86400, 30 * 86400,
)  # fmt: skip


def parse_duration(text: str) -> timedelta:
    """Parse ``30s``, ``5m``, ``6h``, ``7d``, ``2w`` or ``1y`` into a timedelta."""
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 6h, 7d)")
    amount, unit = match.groups()
    try:
        return timedelta(seconds=float(amount) * _UNIT_SECONDS[unit])
    except OverflowError:
        raise ValueError(f"duration too long: {text!r}") from None


def format_duration(value: timedelta) -> str:
    """The shortest exact ``<n><unit>`` form of a duration (``3600s`` -> ``1h``)."""
    seconds = value.total_seconds()
    for unit in ("d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def parse_time(text: str | int | float, now: datetime, zone: tzinfo | None = None) -> datetime:
    """Resolve ``now``, ``now-6h``, ``now/d`` (today's start), ``now-1d/d``, ``now/w``
    (this week's Monday), an ISO 8601 string or epoch milliseconds to a UTC datetime.

    Days and weeks start, and ISO times without an offset are read, in ``zone`` (UTC by
    default). Raises ValueError for anything else, including times datetime cannot hold.
    """
    try:
        return _parse_time(text, now, zone or UTC)
    except (OverflowError, OSError):
        raise ValueError(f"time out of range: {text!r}") from None


def _parse_time(text: str | int | float, now: datetime, zone: tzinfo) -> datetime:
    if isinstance(text, int | float) and not isinstance(text, bool):
        return datetime.fromtimestamp(float(text) / 1000, tz=UTC)
    value = str(text).strip()
    relative = _RELATIVE.match(value)
    if relative:
        offset, unit = relative.groups()
        moment = now - parse_duration(offset) if offset else now
        return _start_of(moment, unit, zone) if unit else moment
    if re.fullmatch(r"-?\d+(\.\d+)?", value):
        return datetime.fromtimestamp(float(value) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"not a time: {value!r} (use now, now-6h, an ISO 8601 time or epoch milliseconds)"
        ) from None
    return (
        parsed.replace(tzinfo=zone).astimezone(UTC)
        if parsed.tzinfo is None
        else (parsed.astimezone(UTC))
    )


def _start_of(moment: datetime, unit: str, zone: tzinfo) -> datetime:
    """The start of ``moment``'s day (``d``) or ISO week (``w``) on ``zone``'s clocks."""
    local = moment.astimezone(zone)
    day = local.date() - timedelta(days=local.weekday() if unit == "w" else 0)
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def check_time(text: str) -> None:
    """Raise ValueError unless ``text`` is a time expression :func:`parse_time` accepts."""
    parse_time(text, datetime(2000, 1, 1, tzinfo=UTC))


def nice_step(span: timedelta, max_points: int, minimum: timedelta | None = None) -> timedelta:
    """The smallest nice bucket width that keeps ``span`` within ``max_points`` buckets."""
    wanted = span.total_seconds() / max(max_points, 1)
    if minimum is not None:
        wanted = max(wanted, minimum.total_seconds())
    for step in NICE_STEPS_SECONDS:
        if step >= wanted:
            return timedelta(seconds=step)
    days = math.ceil(wanted / 86400)
    return timedelta(days=days)


def floor_time(value: datetime, step: timedelta) -> datetime:
    """Round ``value`` down to a multiple of ``step`` since the Unix epoch."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((value - epoch) // step) * step


@dataclass(frozen=True)
class TimeRange:
    """A resolved, half-open range [start, end) in UTC."""

    start: datetime
    end: datetime

    @property
    def span(self) -> timedelta:
        """Length of the range."""
        return self.end - self.start


def resolve_range(
    start: str | int | float,
    end: str | int | float,
    now: datetime | None = None,
    zone: tzinfo | None = None,
) -> TimeRange:
    """Resolve a pair of time expressions (days start in ``zone``), refusing empty or
    inverted ranges."""
    now = now or datetime.now(UTC)
    resolved = TimeRange(parse_time(start, now, zone), parse_time(end, now, zone))
    if resolved.end <= resolved.start:
        raise ValueError("the end of the time range must be after its start")
    return resolved


def aligned_range(time_range: TimeRange, step: timedelta) -> TimeRange:
    """Widen a range to whole buckets, so moving ``now`` only changes the key once per bucket."""
    start = floor_time(time_range.start, step)
    end = floor_time(time_range.end, step)
    if end < time_range.end:
        end += step
    return TimeRange(start, end)
