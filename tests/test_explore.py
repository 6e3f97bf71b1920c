"""Explore's URL state, search terms and the panel it becomes (no browser)."""

from __future__ import annotations

from callbacks.explore import search_terms
from dashapp.core.explore import ExploreState, explore_panel, explore_search, parse_explore
from dashapp.core.spec import parse_spec


def test_the_url_round_trips_and_ignores_nonsense() -> None:
    state = ExploreState(["cpu.usage", "memory.used"], "web-*", "max", "none", "now-1h", "now")
    assert parse_explore(explore_search(state)) == state
    odd = parse_explore("?metric=cpu&agg=median&from=garbage&to=now&group_by=no%20way")
    assert (odd.metrics, odd.agg, odd.time_from, odd.group_by) == (
        ["cpu"],
        "avg",
        "now-6h",
        "source",
    )


def test_the_state_becomes_a_valid_timeseries_panel() -> None:
    state = ExploreState(["cpu.usage"], "web-*", "max", "region")
    panel = explore_panel(state)
    spec = parse_spec({"title": "t", "panels": [panel]})
    query = spec.panels[0].queries[0]
    assert (query.metric, query.source, query.agg, query.group_by) == (
        "cpu.usage",
        "web-*",
        "max",
        ["region"],
    )


def test_search_terms() -> None:
    assert search_terms("cpu source:web-1 region=eu") == {
        "contains": "cpu",
        "source": "web-1",
        "labels": {"region": "eu"},
    }


def test_explore_queries_follow_the_ad_hoc_limits(database_url: str) -> None:
    """Any viewer may explore, but each chart counts against ADHOC_RATE_LIMIT (issue 10):
    the browser chooses these queries, so they are bounded like the editor's previews."""
    from callbacks.explore import chart
    from tests.conftest import make_app

    app = make_app(database_url, ADHOC_RATE_LIMIT="2/minute")
    search = "?metric=cpu.usage&from=now-1h&to=now"
    with app.test_request_context():
        answers = [chart(["cpu.usage"], "", "avg", "source", None, search)[1] for _ in range(3)]
    assert answers[0] == answers[1] == "No data in this time range."
    assert answers[2].startswith("Too many ad-hoc queries")
