"""What an analyst sees, as a URL query string: range, refresh and variable choices.

``/d/<slug>?from=now-6h&to=now&refresh=30s&var-source=web-1&var-source=web-2``
reproduces a view exactly; absolute times are epoch milliseconds (ISO is accepted).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from urllib.parse import parse_qs, urlencode

from dashapp.core.spec import REFRESH_CHOICES, DashboardSpec
from dashapp.core.timerange import check_time, format_duration, parse_duration, parse_time
from dashapp.core.zones import BROWSER, is_zone

ALL_CHOICE = "*"
MAX_VARIABLE_VALUES = 100
"""Most values one variable may hold (a variable offers a known list)."""
MAX_SEARCH_LENGTH = 65_536
"""Longest URL query string read; a longer one is ignored whole."""
LISTED_UNKNOWN = 5
"""Unknown values a notice names before saying how many more there are."""


@dataclass(frozen=True)
class ViewState:
    """The view of one dashboard: time range, auto-refresh, and variable selections."""

    time_from: str = "now-6h"
    time_to: str = "now"
    refresh: str = "off"
    variables: dict[str, list[str]] = field(default_factory=dict)
    tz: str = ""  # a zone the URL asks for ("" = the viewer's or the dashboard's)

    @property
    def time_range(self) -> dict[str, str]:
        """The range as the time-range store holds it."""
        return {"from": self.time_from, "to": self.time_to}


def default_view(spec: DashboardSpec) -> ViewState:
    """The view a dashboard opens with when the URL says nothing."""
    return ViewState(
        time_from=spec.time.from_,
        time_to=spec.time.to,
        refresh=spec.time.refresh,
        variables={v.name: list(v.default) for v in spec.variables},
    )


def parse_view(search: str | None, defaults: ViewState) -> ViewState:
    """The view a URL query string asks for; invalid or unknown parts keep the defaults."""
    return check_view(search, defaults)[0]


def check_view(
    search: str | None,
    defaults: ViewState,
    choices: Mapping[str, Sequence[str]] | None = None,
) -> tuple[ViewState, list[str]]:
    """The view a URL asks for, and what in the URL was ignored (said once, in words).

    A time that does not parse or an inverted range keeps the default range; a variable
    value not among ``choices`` (when given) is dropped; an unknown refresh keeps the
    default refresh.
    """
    if len(search or "") > MAX_SEARCH_LENGTH:
        return defaults, [f"the link is longer than {MAX_SEARCH_LENGTH} characters"]
    params = parse_qs((search or "").lstrip("?"))
    view, problems = defaults, []
    time_from = params.get("from", [view.time_from])[0]
    time_to = params.get("to", [view.time_to])[0]
    range_problem = _range_problem(time_from, time_to)
    if range_problem:
        problems.append(range_problem)
    else:
        view = replace(view, time_from=time_from, time_to=time_to)
    tz = params.get("tz", [""])[0]
    if tz and (tz == BROWSER or is_zone(tz)):
        view = replace(view, tz=tz)
    elif tz:
        problems.append(f"tz={tz} is not a time zone")
    refresh = params.get("refresh", [view.refresh])[0]
    if refresh in REFRESH_CHOICES:
        view = replace(view, refresh=refresh)
    else:
        problems.append(f"refresh={refresh} is not an auto-refresh choice")
    chosen = dict(view.variables)
    for name in defaults.variables:
        values = params.get(f"var-{name}")
        if values is None:
            continue
        if len(values) > MAX_VARIABLE_VALUES:
            problems.append(f"{name} has more than {MAX_VARIABLE_VALUES} values")
            continue
        if ALL_CHOICE in values:
            chosen[name] = []
            continue
        values = list(dict.fromkeys(values))
        known = None if choices is None else set(choices.get(name, []))
        unknown = [v for v in values if known is not None and v not in known]
        if unknown:
            problems.append(f"{name} has no value {_listed(unknown)}")
        kept = [v for v in values if known is None or v in known]
        chosen[name] = kept or list(chosen.get(name, []))
    return replace(view, variables=chosen), problems


def _listed(values: Sequence[str]) -> str:
    """The first few of ``values``, and how many more."""
    shown = ", ".join(values[:LISTED_UNKNOWN])
    more = len(values) - LISTED_UNKNOWN
    return f"{shown} and {more} more" if more > 0 else shown


def _range_problem(time_from: str, time_to: str) -> str:
    """Why a URL's from/to cannot be shown, or an empty string."""
    for key, text in (("from", time_from), ("to", time_to)):
        if not _valid_time(text):
            return f"{key}={text} is not a time"
    now = datetime.now(UTC)
    if parse_time(time_to, now) <= parse_time(time_from, now):
        return "the range ends before it starts"
    return ""


def view_problem_message(problems: Sequence[str]) -> str:
    """One sentence for everything a URL asked for that could not be shown."""
    if not problems:
        return ""
    return f"Part of this link was ignored: {'; '.join(problems)}. Showing the defaults instead."


def view_search(view: ViewState) -> str:
    """The URL query string for a view (the inverse of :func:`parse_view`)."""
    pairs = [("from", view.time_from), ("to", view.time_to), ("refresh", view.refresh)]
    if view.tz:
        pairs.append(("tz", view.tz))
    for name, values in sorted(view.variables.items()):
        for value in values or [ALL_CHOICE]:
            pairs.append((f"var-{name}", value))
    return "?" + urlencode(pairs)


def _valid_time(text: str) -> bool:
    try:
        check_time(text)
    except ValueError:
        return False
    return True


def absolute(moment: datetime) -> str:
    """A time as the URL writes absolute times: epoch milliseconds."""
    return str(int(moment.timestamp() * 1000))


def zoomed_out(time_range: Mapping[str, str], now: datetime) -> dict[str, str]:
    """The range twice as wide around the same centre (relative ranges stay relative)."""
    start, end = parse_time(time_range["from"], now), parse_time(time_range["to"], now)
    span = end - start
    if time_range["to"] == "now":
        return {"from": "now-" + format_duration(_rounded(span * 2)), "to": "now"}
    centre = start + span / 2
    return {"from": absolute(centre - span), "to": absolute(centre + span)}


def shifted(
    time_range: Mapping[str, str], direction: int, now: datetime, zone: tzinfo | None = None
) -> dict[str, str] | None:
    """Grafana's t← / t→: the range moved back (``direction`` -1) or forward (+1) by half
    its span, as absolute times (``zone``: where days start for ``now/d``).

    Forward never passes now: a range already ending at now has nothing newer (None),
    and one that would reach it (within a hundredth of the span: the seconds since the
    range was shifted back) becomes the live range of the same span ending at now.
    """
    start, end = parse_time(time_range["from"], now, zone), parse_time(time_range["to"], now, zone)
    half = (end - start) / 2
    if direction < 0:
        return {"from": absolute(start - half), "to": absolute(end - half)}
    if end >= now:
        return None
    if end + half >= now - (end - start) / 100:
        return {"from": "now-" + format_duration(_rounded(end - start)), "to": "now"}
    return {"from": absolute(start + half), "to": absolute(end + half)}


def _rounded(span: timedelta) -> timedelta:
    return timedelta(seconds=max(1, round(span.total_seconds())))


def refresh_interval_ms(refresh: str) -> int | None:
    """Milliseconds between auto-refreshes, or None when off."""
    return None if refresh == "off" else int(parse_duration(refresh).total_seconds() * 1000)


def clean_variables(
    chosen: Mapping[str, Sequence[str] | None], before: Mapping[str, Sequence[str]]
) -> dict[str, list[str]]:
    """Variable selections, with "All" (or nothing) stored as an empty list.

    Picking a value while "All" was selected means that value alone; picking "All"
    beside specific values means all of them.
    """
    cleaned = {}
    for name, values in chosen.items():
        picked = [v for v in values or [] if v is not None]
        specific = [v for v in picked if v != ALL_CHOICE]
        if ALL_CHOICE in picked and specific and not before.get(name):
            cleaned[name] = specific
        elif ALL_CHOICE in picked or not specific:
            cleaned[name] = []
        else:
            cleaned[name] = specific
    return cleaned
