"""Callbacks called directly: routing, panel data, in-panel errors (no browser)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from dash import dcc, html
from flask import Flask
from sqlalchemy import event

from callbacks.dashboard import choose_preset
from callbacks.panels import update_panel
from callbacks.router import render_page
from dashapp.demo import dashboard_spec
from dashapp.extensions import database
from dashapp.seed import seed_demo
from tests.test_layouts import find


@pytest.fixture
def seeded(app: Flask) -> Flask:
    with app.app_context():
        seed_demo(days=0.1)
    return app


def test_router_renders_home_dashboard_and_404(seeded: Flask) -> None:
    with seeded.test_request_context():
        home = render_page("/", "")
        page = render_page("/d/service-health", "?from=now-1h&to=now")
        missing = render_page("/d/nope", "")
        odd = render_page("/admin/../etc", "")
    assert find(home, lambda c: isinstance(c, dcc.Link)).href == "/d/service-health"
    time_range = find(page, lambda c: getattr(c, "id", None) == "time-range")
    assert time_range.data == {"from": "now-1h", "to": "now"}
    assert find(missing, lambda c: isinstance(c, html.H1)).children == "Not found"
    assert find(odd, lambda c: isinstance(c, html.H1)).children == "Not found"


def test_every_demo_panel_gets_data(seeded: Flask) -> None:
    panels = [p for p in dashboard_spec()["panels"] if p["type"] != "text"]
    with seeded.test_request_context():
        for panel in panels:
            figure, status = update_panel({"from": "now-1h", "to": "now"}, None, panel)
            assert status is None, (panel["id"], status)
            values = [v for trace in figure["data"] for v in trace["y"] if v is not None]
            assert values, panel["id"]


def test_empty_range_says_no_data(seeded: Flask) -> None:
    panel = dashboard_spec()["panels"][4]
    with seeded.test_request_context():
        _, status = update_panel({"from": "now-30d", "to": "now-20d"}, None, panel)
    assert status.children == "No data in this time range"


def test_bad_time_range_is_explained_in_the_panel(seeded: Flask) -> None:
    panel = dashboard_spec()["panels"][4]
    with seeded.test_request_context():
        _, status = update_panel({"from": "now", "to": "now-1h"}, None, panel)
    assert "after its start" in status.children


def test_a_query_past_the_statement_timeout_fails_inside_its_panel(seeded: Flask) -> None:
    """Only the slow panel shows an error; it comes from the database's own timeout."""
    seeded.extensions["dashapp.db"].statement_timeout_ms = 200

    def slow_down(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        finding_series = statement.lstrip().startswith("SELECT") and "FROM series" in statement
        if finding_series and "memory.used" in str(parameters):
            sleep = (
                "SELECT pg_sleep(2)"
                if conn.dialect.name == "postgresql"
                else (
                    "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) "
                    "SELECT count(*) FROM r"
                )
            )
            cursor.execute(sleep)

    with seeded.app_context():
        engine = database.engine
    event.listen(engine, "before_cursor_execute", slow_down)
    try:
        panels = dashboard_spec()["panels"]
        with seeded.test_request_context():
            _, memory_status = update_panel({"from": "now-1h", "to": "now"}, None, panels[5])
            _, cpu_status = update_panel({"from": "now-1h", "to": "now"}, None, panels[4])
    finally:
        event.remove(engine, "before_cursor_execute", slow_down)
    assert "timed out" in memory_status.children.lower()
    assert cpu_status is None


def test_choosing_a_preset_updates_range_and_url() -> None:
    time_range, search = choose_preset("now-24h")
    assert time_range == {"from": "now-24h", "to": "now"}
    assert search == "?from=now-24h&to=now"


def test_seed_reaches_now(seeded: Flask) -> None:
    from db import metrics

    with seeded.app_context(), database.transaction() as session:
        latest = metrics.last_points(session, [s.id for s in metrics.list_series(session)])
    newest = max(p.ts for p in latest.values())
    assert datetime.now(UTC) - newest < timedelta(seconds=30)
