"""Crafted callback requests an anonymous visitor can send: forged auto-refresh metadata
and oversized dashboard URLs. The server sizes every answer, never the browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashapp.commands.seed import seed_demo
from dashapp.core.demo import DEMO_SLUG
from layouts import ids
from layouts.panels import stored_source
from tests.dash_requests import body, chart_output, post

LAST_HOUR = {"from": "now-1h", "to": "now", "tz": "UTC"}
TICK = "auto-refresh.n_intervals"


@pytest.fixture
def seeded(app: Flask) -> Flask:
    with app.app_context():
        seed_demo(days=0.1)
    return app


def anonymous(app: Flask) -> tuple[FlaskClient, str]:
    """A visitor's client and the CSRF token its page got."""
    client = app.test_client()
    page = client.get("/")
    cookie = next(c for c in page.headers.getlist("Set-Cookie") if c.startswith("_csrf_token="))
    return client, cookie.split(";")[0].split("=", 1)[1]


def chart_request(app: Flask, meta: Any, changed: str = TICK) -> dict[str, Any]:
    values = {
        (ids.TIME_RANGE, "data"): LAST_HOUR,
        (ids.AUTO_REFRESH, "n_intervals"): 3,
        (ids.THEME, "data"): "light",
        (ids.VIEWPORT, "data"): 1600,
        (ids.PANEL_SPEC, "data"): stored_source(DEMO_SLUG, 1, "cpu"),
        (ids.PANEL_META, "data"): meta,
    }
    return body(app, chart_output(app), values, [changed], key="cpu")


def drawn_meta(app: Flask, client: FlaskClient, csrf: str) -> dict[str, Any]:
    """The meta the server returned with a first draw of the CPU panel."""
    answer = post(client, chart_request(app, None, "time-range.data"), csrf)
    assert answer.status_code == 200
    response = answer.json["response"]
    return next(props["data"] for name, props in response.items() if "panel-meta" in name)


def forged(meta: dict[str, Any], count: int) -> dict[str, Any]:
    """The probe's document: every trace claims ``count`` points, all in its tail."""
    queries = [
        {**query, "traces": [{**t, "count": count, "tail": count} for t in query["traces"]]}
        for query in meta["queries"]
    ]
    return {**meta, "queries": queries, "drawn": 10**12}


def test_a_forged_tail_cannot_size_the_answer(seeded: Flask) -> None:
    client, csrf = anonymous(seeded)
    meta = drawn_meta(seeded, client, csrf)
    honest = post(client, chart_request(seeded, meta), csrf)
    assert honest.status_code == 200
    assert "__dash_patch_update" in honest.get_data(as_text=True)  # only new points
    answer = post(client, chart_request(seeded, forged(meta, 300_000)), csrf)
    assert answer.status_code == 200
    # The probe got a 40 MB patch of 300,000 deletions per trace; now a full draw of
    # the panel (its size set by the panel and the cost cap) is what it gets.
    assert len(answer.data) < 200_000
    figure = next(p["figure"] for n, p in answer.json["response"].items() if "graph" in n)
    assert figure["data"] and "__dash_patch_update" not in figure


def test_a_last_bucket_outside_the_window_is_redrawn_not_queried(seeded: Flask) -> None:
    """A drawn end years back would have made the tail query read years of buckets."""
    client, csrf = anonymous(seeded)
    meta = drawn_meta(seeded, client, csrf)
    long_ago = (datetime.now(UTC) - timedelta(days=3650)).replace(microsecond=0)
    back = [{**q, "end": long_ago.isoformat()} for q in meta["queries"]]
    answer = post(client, chart_request(seeded, {**meta, "queries": back}), csrf)
    assert answer.status_code == 200 and len(answer.data) < 200_000
    assert "__dash_patch_update" not in answer.get_data(as_text=True)


MALFORMED = [
    [],
    "meta",
    {},
    {"queries": "x", "drawn": 1, "appended": 0, "traces": 1, "webgl": False},
    {"queries": [{"traces": [{"count": 5, "tail": 5}]}], "drawn": 1e12},
    {"queries": [{"step": "5", "end": "soon", "traces": []}], "drawn": 0, "appended": 0,
     "traces": 0, "webgl": False},
    {"queries": [{"step": 5.0, "end": "2026-01-01T00:00:00+00:00",
                  "traces": [{"name": None, "tail": -1, "index": 10**30}]}],
     "drawn": -1, "appended": "0", "traces": 1, "webgl": "yes"},
    {"queries": [[[[]]]] * 3, "drawn": None},
]  # fmt: skip


@pytest.mark.parametrize("meta", MALFORMED, ids=range(len(MALFORMED)))
def test_malformed_meta_is_a_redraw_not_a_500(seeded: Flask, meta: Any) -> None:
    client, csrf = anonymous(seeded)
    answer = post(client, chart_request(seeded, meta), csrf)
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    assert "__dash_patch_update" not in answer.get_data(as_text=True)


def router_request(app: Flask, search: str) -> dict[str, Any]:
    values = {(ids.URL, "pathname"): f"/d/{DEMO_SLUG}", (ids.URL, "search"): search}
    return body(app, "page.children", values, ["url.pathname"])


def test_too_many_url_values_are_refused_with_the_notice(seeded: Flask) -> None:
    """30,000 ``var-host`` values took 14 s (the work grew with the square of them): a
    link that long is ignored whole, and a variable holds at most 100 values."""
    client, csrf = anonymous(seeded)
    for value, count, notice in (
        ("nohost{}", 30_000, "the link is longer than 65536 characters"),
        ("web-1", 30_000, "the link is longer than 65536 characters"),
        ("web-1", 101, "host has more than 100 values"),
        ("nohost{}", 100, "host has no value nohost0, nohost1, nohost2, nohost3, nohost4 and 95"),
    ):
        hosts = "&".join(f"var-host={value.format(i)}" for i in range(count))
        answer = post(client, router_request(seeded, f"?from=now-1h&to=now&{hosts}"), csrf)
        assert answer.status_code == 200
        text = answer.get_data(as_text=True)
        assert notice in text, (value, count)
        assert len(answer.data) < 150_000  # the notice does not list them
        assert '"web-1", "web-1"' not in text and '"web-1","web-1"' not in text


def test_an_overlong_url_is_ignored_with_the_notice(seeded: Flask) -> None:
    client, csrf = anonymous(seeded)
    search = "?from=now-2h&to=now&var-host=web-1&pad=" + "x" * 70_000
    answer = post(client, router_request(seeded, search), csrf)
    assert answer.status_code == 200
    text = answer.get_data(as_text=True)
    assert "the link is longer than 65536 characters" in text
    assert "now-6h" in text and "now-2h" not in text  # the dashboard's defaults


def test_the_view_callback_bounds_url_values_too(seeded: Flask) -> None:
    from tests.test_callbacks import navigate_with

    hosts = "&".join("var-host=web-1" for _ in range(500))
    url = f"?from=now-1h&to=now&{hosts}"
    with seeded.test_request_context():
        out = navigate_with(ids.VIEW_URL, "search", url, url=url)
    assert "host has more than 100 values" in out["error"]
    assert len(out["selections"][0]) == 1
