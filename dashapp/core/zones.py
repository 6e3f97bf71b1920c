"""Time zones: which one a view uses, and moving instants onto its wall clock.

A view shows one zone. It comes from the URL (``tz=``), else the viewer's preference,
else the dashboard's setting (``browser``, ``UTC`` or an IANA name); ``browser`` means
the zone the browser reports. Charts are drawn on that zone's wall clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

BROWSER = "browser"


@lru_cache(maxsize=512)
def zone_info(name: str) -> tzinfo:
    """The tzinfo for ``UTC`` or an IANA name; ValueError for anything else."""
    if name.upper() == "UTC":
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        message = f"{name!r} is not a time zone (use UTC or a name like Europe/Paris)"
        raise ValueError(message) from None


def is_zone(name: str | None) -> bool:
    """Whether ``name`` is UTC or an IANA zone name."""
    if not name:
        return False
    try:
        zone_info(name)
    except ValueError:
        return False
    return True


def view_zone(
    url_zone: str | None, preference: str | None, setting: str | None, browser: str | None
) -> str:
    """The zone a view uses: the URL's, else the viewer's, else the dashboard's
    (``browser``: the browser's own; UTC when the browser did not say)."""
    for choice in (url_zone, preference, setting):
        if choice == BROWSER:
            return browser if is_zone(browser) else "UTC"
        if is_zone(choice):
            return "UTC" if choice.upper() == "UTC" else choice  # type: ignore[union-attr]
    return browser if is_zone(browser) else "UTC"


def wall_clock(moment: datetime, zone: str) -> datetime:
    """``moment`` as the zone's clocks show it, labelled UTC (how plotly, which knows
    no zones, draws a date axis in that zone)."""
    if zone == "UTC":
        return moment
    return moment.astimezone(zone_info(zone)).replace(tzinfo=UTC)


def from_wall_clock(wall: datetime, zone: str) -> datetime:
    """The instant a wall-clock time in ``zone`` names (the inverse of wall_clock)."""
    return wall.replace(tzinfo=zone_info(zone)).astimezone(UTC)


def offset_label(zone: str, now: datetime | None = None) -> str:
    """``Europe/Paris (UTC+01:00)``: the zone and its current offset."""
    if zone == "UTC":
        return "UTC"
    offset = (now or datetime.now(UTC)).astimezone(zone_info(zone)).utcoffset() or timedelta()
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{zone} (UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d})"


@lru_cache(maxsize=1)
def zone_names() -> tuple[str, ...]:
    """Every IANA zone name this machine knows, sorted."""
    return tuple(sorted(n for n in available_timezones() if "/" in n and not n.startswith("Etc")))
