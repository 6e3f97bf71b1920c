"""The demo dashboard in headless Chromium, on PostgreSQL: every panel draws data."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from dash.testing.composite import DashComposite
from flask import Flask

from dashapp.seed import seed_demo
from tests.conftest import empty_tables, make_app

pytestmark = pytest.mark.browser

PANEL_DATA_JS = """
return Array.from(document.querySelectorAll('.panel')).map(function (panel) {
  var plot = panel.querySelector('.js-plotly-plot');
  var status = panel.querySelector('.panel-status');
  var points = 0;
  if (plot && plot.data) {
    plot.data.forEach(function (t) { points += (t.y || []).filter(function (v) {
      return v !== null; }).length; });
  }
  return {id: panel.id, points: points, status: status ? status.innerText : '',
          range: plot && plot.layout && plot.layout.xaxis ? plot.layout.xaxis.range : null};
});
"""


@pytest.fixture
def demo_app(chromium: str, postgresql_database: str) -> Iterator[Flask]:
    empty_tables(postgresql_database)
    app = make_app(postgresql_database)
    with app.app_context():
        seed_demo(days=1.2)
    yield app
    app.extensions["dashapp.db"].engine.dispose()


def panels_state(dash_duo: DashComposite) -> list[dict]:
    return dash_duo.driver.execute_script(PANEL_DATA_JS)


def wait_for(condition, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def all_drawn(dash_duo: DashComposite) -> list[dict]:
    """The panels' state once every panel holds data (empty list until then)."""
    state = panels_state(dash_duo)
    return state if state and all(p["points"] for p in state) else []


def test_every_demo_panel_draws_data(dash_duo: DashComposite, demo_app: Flask) -> None:
    dash_duo.start_server(demo_app.extensions["dashapp.dash"])
    dash_duo.wait_for_element("a.dashboard-link").click()
    dash_duo.wait_for_text_to_equal("h1", "Service health")
    state = wait_for(lambda: all_drawn(dash_duo))
    assert state, panels_state(dash_duo)
    assert len(state) >= 6
    assert all(p["points"] > 0 and not p["status"] for p in state), state
    assert dash_duo.get_logs() == []


def test_changing_the_time_range_requeries_every_panel(
    dash_duo: DashComposite, demo_app: Flask
) -> None:
    dash_duo.start_server(demo_app.extensions["dashapp.dash"])
    dash_duo.driver.get(dash_duo.server_url + "/d/service-health?from=now-1h&to=now")
    before = {p["id"]: p for p in wait_for(lambda: all_drawn(dash_duo))}
    assert _span_hours(before["panel-cpu"]["range"]) == pytest.approx(1, abs=0.1)

    dash_duo.select_dcc_dropdown("#time-preset", value="Last 24 hours")
    after = wait_for(
        lambda: (
            (s := {p["id"]: p for p in panels_state(dash_duo)})
            and _span_hours(s["panel-cpu"]["range"]) > 20
            and s
        )
    )
    assert after, panels_state(dash_duo)
    assert _span_hours(after["panel-cpu"]["range"]) == pytest.approx(24, abs=0.5)
    assert after["panel-cpu"]["points"] > before["panel-cpu"]["points"] / 2
    assert all(p["points"] > 0 for p in after.values())
    assert "from=now-24h" in dash_duo.driver.current_url


def _span_hours(axis_range: list[str] | None) -> float:
    from datetime import datetime

    if not axis_range:
        return 0.0
    start, end = (datetime.fromisoformat(v.replace(" ", "T")) for v in axis_range)
    return (end - start).total_seconds() / 3600
