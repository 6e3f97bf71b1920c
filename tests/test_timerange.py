"""Durations, relative times, nice steps and bucket alignment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashapp.core.timerange import (
    TimeRange,
    aligned_range,
    format_duration,
    nice_step,
    parse_duration,
    parse_time,
    resolve_range,
)

NOW = datetime(2026, 1, 2, 12, 34, 56, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("5m", 300), ("6h", 21600), ("7d", 604800), ("2w", 1209600)]
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_format_duration_picks_the_largest_exact_unit() -> None:
    assert format_duration(timedelta(hours=1)) == "1h"
    assert format_duration(timedelta(days=14)) == "14d"
    assert format_duration(timedelta(seconds=90)) == "90s"


@pytest.mark.parametrize("text", ["", "6", "h", "-5m", "5 minutes"])
def test_parse_duration_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_parse_time_forms() -> None:
    assert parse_time("now", NOW) == NOW
    assert parse_time("now-6h", NOW) == NOW - timedelta(hours=6)
    assert parse_time("2026-01-01T00:00:00Z", NOW) == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_time("2026-01-01T01:00:00+01:00", NOW) == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_time(1767225600000, NOW) == datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_time("1767225600000", NOW) == datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ValueError, match="not a time"):
        parse_time("yesterday", NOW)


def test_resolve_range_refuses_inverted_ranges() -> None:
    with pytest.raises(ValueError, match="after its start"):
        resolve_range("now", "now-1h", NOW)


@pytest.mark.parametrize(
    ("span", "points", "step"),
    [
        (timedelta(hours=6), 1000, timedelta(seconds=30)),
        (timedelta(hours=1), 1000, timedelta(seconds=5)),
        (timedelta(days=30), 1000, timedelta(hours=1)),
        (timedelta(days=7), 100, timedelta(hours=2)),
    ],
)
def test_nice_step_never_exceeds_max_points(span: timedelta, points: int, step: timedelta) -> None:
    assert nice_step(span, points) == step
    assert span / nice_step(span, points) <= points


def test_nice_step_respects_a_minimum_interval() -> None:
    assert nice_step(timedelta(hours=1), 1000, minimum=timedelta(minutes=5)) == timedelta(minutes=5)


def test_aligned_range_is_stable_within_a_bucket() -> None:
    step = timedelta(seconds=30)
    first = aligned_range(TimeRange(NOW - timedelta(hours=6), NOW), step)
    later = NOW + timedelta(seconds=3)
    second = aligned_range(TimeRange(later - timedelta(hours=6), later), step)
    assert first == second
    assert first.start.timestamp() % 30 == 0 and first.end.timestamp() % 30 == 0
    assert first.end >= NOW


def test_days_and_weeks_start_on_the_zones_clock() -> None:
    from zoneinfo import ZoneInfo

    new_york = ZoneInfo("America/New_York")
    now = datetime(2026, 1, 7, 3, 0, tzinfo=UTC)  # Tuesday 22:00 on 6 January in New York
    assert parse_time("now/d", now) == datetime(2026, 1, 7, tzinfo=UTC)
    assert parse_time("now/d", now, new_york) == datetime(2026, 1, 6, 5, tzinfo=UTC)
    assert parse_time("now-1d/d", now, new_york) == datetime(2026, 1, 5, 5, tzinfo=UTC)
    assert parse_time("now/w", now, new_york) == datetime(2026, 1, 5, 5, tzinfo=UTC)  # Monday
    assert parse_time("2026-01-06 10:00", now, new_york) == datetime(2026, 1, 6, 15, tzinfo=UTC)
    assert resolve_range("now-1d/d", "now/d", now, new_york).span.total_seconds() == 86400
