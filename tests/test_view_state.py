"""The URL reproduces a view: range, refresh and variables, both ways."""

from __future__ import annotations

from datetime import UTC, datetime

from dashapp.core.view_state import (
    ViewState,
    check_view,
    clean_variables,
    parse_view,
    refresh_interval_ms,
    shifted,
    view_problem_message,
    view_search,
    zoomed_out,
)

DEFAULTS = ViewState("now-6h", "now", "30s", {"host": []})


def test_round_trip_of_every_part() -> None:
    view = ViewState("1767225600000", "1767229200000", "off", {"host": ["web-1", "web-2"]})
    search = view_search(view)
    assert search == (
        "?from=1767225600000&to=1767229200000&refresh=off&var-host=web-1&var-host=web-2"
    )
    assert parse_view(search, DEFAULTS) == view


def test_missing_or_invalid_parts_keep_the_defaults() -> None:
    assert parse_view("", DEFAULTS) == DEFAULTS
    odd = parse_view("?from=yesterday&to=now&refresh=2s&var-unknown=x", DEFAULTS)
    assert odd == DEFAULTS
    assert parse_view("?from=2026-01-01T00:00:00Z&to=now", DEFAULTS).time_from == (
        "2026-01-01T00:00:00Z"
    )


def test_all_is_the_empty_selection() -> None:
    assert parse_view("?var-host=*", DEFAULTS).variables == {"host": []}
    assert "var-host=%2A" in view_search(DEFAULTS)


def test_clean_variables_understands_all() -> None:
    assert clean_variables({"host": ["*", "web-1"]}, {"host": []}) == {"host": ["web-1"]}
    assert clean_variables({"host": ["web-1", "*"]}, {"host": ["web-1"]}) == {"host": []}
    assert clean_variables({"host": []}, {"host": ["web-1"]}) == {"host": []}
    assert clean_variables({"host": ["a", "b"]}, {"host": ["a"]}) == {"host": ["a", "b"]}


def test_zoom_out_doubles_the_range() -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    assert zoomed_out({"from": "now-6h", "to": "now"}, now) == {"from": "now-12h", "to": "now"}
    absolute = zoomed_out({"from": "1767265200000", "to": "1767268800000"}, now)  # 11:00-12:00
    assert absolute == {"from": "1767263400000", "to": "1767270600000"}  # 10:30-12:30


def test_t_arrows_shift_by_half_the_range_and_forward_stops_at_now() -> None:
    now = datetime(2026, 1, 1, 12, tzinfo=UTC)
    ms = lambda hour: str(int(datetime(2026, 1, 1, hour, tzinfo=UTC).timestamp() * 1000))  # noqa: E731
    last_6h = {"from": "now-6h", "to": "now"}
    assert shifted(last_6h, -1, now) == {"from": ms(3), "to": ms(9)}  # 06-12 -> 03-09
    assert shifted({"from": ms(3), "to": ms(9)}, -1, now) == {"from": ms(0), "to": ms(6)}
    assert shifted({"from": ms(0), "to": ms(6)}, 1, now) == {"from": ms(3), "to": ms(9)}
    # Past now it becomes the live range of the same span; already live, nothing newer.
    assert shifted({"from": ms(3), "to": ms(9)}, 1, now) == last_6h
    assert shifted(last_6h, 1, now) is None


def test_refresh_intervals() -> None:
    assert refresh_interval_ms("off") is None
    assert refresh_interval_ms("30s") == 30_000
    assert refresh_interval_ms("1m") == 60_000


def test_check_view_names_what_a_url_got_wrong() -> None:
    choices = {"host": ["web-1", "web-2"]}
    assert check_view("?from=now-1h&to=now&var-host=web-1", DEFAULTS, choices)[1] == []
    view, problems = check_view("?from=garbage&to=now", DEFAULTS, choices)
    assert view == DEFAULTS and problems == ["from=garbage is not a time"]
    view, problems = check_view("?from=now-1h&to=now-2h", DEFAULTS, choices)
    assert view.time_range == DEFAULTS.time_range
    assert problems == ["the range ends before it starts"]
    view, problems = check_view("?var-host=web-9&var-host=web-2", DEFAULTS, choices)
    assert view.variables == {"host": ["web-2"]} and problems == ["host has no value web-9"]
    message = view_problem_message(["from=x is not a time", "host has no value y"])
    assert (
        message.count("ignored") == 1 and "from=x" in message and "host has no value y" in message
    )
    assert view_problem_message([]) == ""
