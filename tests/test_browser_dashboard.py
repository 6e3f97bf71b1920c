"""The demo dashboard in headless Chromium, on PostgreSQL: what an analyst does with it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from dash.testing.composite import DashComposite
from flask import Flask
from selenium.webdriver.common.action_chains import ActionChains
from sqlalchemy import event

from dashapp.commands.seed import seed_demo
from dashapp.extensions import database
from tests.browser import wait_for
from tests.conftest import bearer, empty_tables, make_app

pytestmark = pytest.mark.browser

PANELS_JS = """
return Array.from(document.querySelectorAll('.panel')).map(function (panel) {
  var plot = panel.querySelector('.js-plotly-plot');
  var rows = panel.querySelectorAll('.data-table tbody tr');
  var status = panel.querySelector('.panel-status');
  var points = 0, names = [];
  if (plot && plot.data) {
    plot.data.forEach(function (t) {
      names.push(t.name);
      var ys = t.y || t.z || (t.value !== undefined ? [t.value] : []);
      points += ys.filter(function (v) { return v !== null; }).length;
    });
  }
  points += rows.length;
  if (panel.querySelector('.panel-text')) { points += 1; }
  var spinning = !!status && status.hasAttribute('data-dash-is-loading') &&
                 getComputedStyle(status, '::after').opacity === '1';
  return {id: panel.id, points: points, names: names, spinning: spinning,
          status: status ? status.innerText : '',
          range: plot && plot.layout && plot.layout.xaxis ? plot.layout.xaxis.range : null};
});
"""


@pytest.fixture(scope="module")
def demo_database(postgresql_database: str) -> str:
    """PostgreSQL with a day of demo data, shared by this module's tests (they only read)."""
    empty_tables(postgresql_database)
    app = make_app(postgresql_database)
    with app.app_context():
        seed_demo(days=1.2)
    app.extensions["dashapp.db"].engine.dispose()
    return postgresql_database


@pytest.fixture
def demo_app(chromium: str, demo_database: str) -> Flask:
    return make_app(demo_database)  # closed after the browser stops, see conftest


def panels(dash_duo: DashComposite) -> dict[str, dict[str, Any]]:
    return {p["id"]: p for p in dash_duo.driver.execute_script(PANELS_JS)}


def all_drawn(dash_duo: DashComposite) -> dict[str, dict[str, Any]]:
    """The panels once every one holds data (empty until then)."""
    state = panels(dash_duo)
    return state if state and all(p["points"] for p in state.values()) else {}


def span_hours(axis_range: list[Any] | None) -> float:
    """Hours spanned by a date axis range (plotly may hold epoch ms or date strings)."""
    if not axis_range:
        return 0.0
    start, end = (
        v / 1000 if isinstance(v, int | float) else
        datetime.fromisoformat(v.replace(" ", "T")[:26]).replace(tzinfo=UTC).timestamp()
        for v in axis_range
    )  # fmt: skip
    return (end - start) / 3600


def open_dashboard(dash_duo: DashComposite, app: Flask, query: str = "") -> dict[str, Any]:
    dash_duo.start_server(app.extensions["dashapp.dash"])
    dash_duo.driver.get(f"{dash_duo.server_url}/d/service-health{query}")
    drawn = wait_for(lambda: all_drawn(dash_duo))
    assert drawn, panels(dash_duo)
    return drawn


def test_every_demo_panel_draws_data(dash_duo: DashComposite, demo_app: Flask) -> None:
    dash_duo.start_server(demo_app.extensions["dashapp.dash"])
    dash_duo.wait_for_element("a.dashboard-link").click()
    dash_duo.wait_for_text_to_equal("h1", "Service health")
    state = wait_for(lambda: all_drawn(dash_duo))
    assert len(state) == 12, panels(dash_duo)
    assert all(not p["status"] for p in state.values()), state
    assert dash_duo.get_logs() == []


def test_changing_the_time_range_requeries_every_panel(
    dash_duo: DashComposite, demo_app: Flask
) -> None:
    before = open_dashboard(dash_duo, demo_app, "?from=now-1h&to=now")
    assert span_hours(before["panel-cpu"]["range"]) == pytest.approx(1, abs=0.1)
    dash_duo.select_dcc_dropdown("#time-preset", value="Last 24 hours")
    charts = ("panel-cpu", "panel-memory")  # redrawn in parallel: wait for both
    after = wait_for(
        lambda: (
            (s := all_drawn(dash_duo))
            and all(span_hours(s[chart]["range"]) > 20 for chart in charts)
            and s
        )
    )
    assert after, panels(dash_duo)
    assert span_hours(after["panel-cpu"]["range"]) == pytest.approx(24, abs=0.5)
    assert span_hours(after["panel-memory"]["range"]) == pytest.approx(24, abs=0.5)
    assert "from=now-24h" in dash_duo.driver.current_url


def test_a_url_with_range_and_variable_reproduces_the_view(
    dash_duo: DashComposite, demo_app: Flask
) -> None:
    state = open_dashboard(dash_duo, demo_app, "?from=now-3h&to=now&var-host=web-2")
    assert span_hours(state["panel-cpu"]["range"]) == pytest.approx(3, abs=0.1)
    assert state["panel-cpu"]["names"] == ["web-2"]
    assert state["panel-requests"]["names"] == ["web-2"]
    assert "web-2" in dash_duo.find_element(".variable-select").text

    dash_duo.select_dcc_dropdown("#time-preset", value="Last 1 hour")
    wait_for(lambda: "from=now-1h" in dash_duo.driver.current_url)
    assert wait_for(lambda: span_hours(panels(dash_duo)["panel-cpu"]["range"]) < 1.5)
    dash_duo.driver.back()  # the browser's own history restores the 3-hour view
    assert wait_for(lambda: span_hours(panels(dash_duo)["panel-cpu"]["range"]) > 2.5)
    assert "from=now-3h" in dash_duo.driver.current_url
    assert panels(dash_duo)["panel-cpu"]["names"] == ["web-2"]


def test_dragging_a_zoom_box_sets_the_range_of_every_panel(
    dash_duo: DashComposite, demo_app: Flask
) -> None:
    open_dashboard(dash_duo, demo_app, "?from=now-6h&to=now")
    drag = dash_duo.find_element("#panel-cpu .nsewdrag")
    width, height = drag.size["width"], drag.size["height"]
    # selenium 4.2 (pinned by dash[testing]) measures offsets from the top-left corner.
    ActionChains(dash_duo.driver).move_to_element_with_offset(drag, width // 4, height // 2) \
        .click_and_hold().move_by_offset(width // 4, 0).release().perform()  # fmt: skip
    zoomed = wait_for(
        lambda: (s := all_drawn(dash_duo)) and span_hours(s["panel-memory"]["range"]) < 3 and s
    )
    assert zoomed, panels(dash_duo)
    expected = span_hours(zoomed["panel-cpu"]["range"])
    assert 1 < expected < 2.5  # a quarter of six hours, give or take the bucket edges
    assert span_hours(zoomed["panel-memory"]["range"]) == pytest.approx(expected, abs=0.2)
    url = dash_duo.driver.current_url
    assert "from=1" in url and "to=1" in url  # absolute epoch milliseconds

    dash_duo.find_element("#zoom-out").click()
    wider = wait_for(lambda: span_hours(panels(dash_duo)["panel-cpu"]["range"]) > expected * 1.8)
    assert wider
    dash_duo.find_element("#time-back").click()
    assert wait_for(lambda: span_hours(panels(dash_duo)["panel-cpu"]["range"]) < expected * 1.2)


def test_auto_refresh_appends_new_points(dash_duo: DashComposite, demo_app: Flask) -> None:
    open_dashboard(dash_duo, demo_app, "?from=now-15m&to=now&refresh=5s")
    client = demo_app.test_client()
    response = client.post(
        "/api/v1/metrics",
        json={"name": "cpu.usage", "source": "web-1", "value": 12.3456,
              "labels": {"region": "eu"}, "timestamp": datetime.now(UTC).timestamp()},
        headers=bearer(demo_app, "ingest"),
    )  # fmt: skip
    assert response.status_code == 201
    found = wait_for(
        lambda: dash_duo.driver.execute_script(
            "var p = document.querySelector('#panel-cpu .js-plotly-plot');"
            "return p.data.some(function (t) { return t.y.indexOf(12.3456) >= 0; });"
        ),
        timeout=20,
    )
    assert found
    assert all(p["points"] for p in panels(dash_duo).values())


def test_clicking_a_table_header_sorts_the_rows(dash_duo: DashComposite, demo_app: Flask) -> None:
    open_dashboard(dash_duo, demo_app)
    table = "#panel-latency-table"
    max_header = dash_duo.driver.find_elements("css selector", f"{table} .table-sort")[3]
    assert max_header.text == "Max"
    max_header.click()

    def maxima() -> list[float]:
        cells = dash_duo.driver.find_elements("css selector", f"{table} tbody td:nth-child(4)")
        return [float(cell.text.removesuffix(" ms")) for cell in cells]

    assert wait_for(lambda: "sorted-desc" in (max_header.get_attribute("class") or ""), 10)
    assert wait_for(lambda: (m := maxima()) and m == sorted(m, reverse=True) and m, 10)
    max_header.click()
    assert wait_for(lambda: "sorted-asc" in (max_header.get_attribute("class") or ""), 10)
    assert wait_for(lambda: (m := maxima()) and m == sorted(m) and m, 10)


def test_a_failing_panel_does_not_break_the_rest(dash_duo: DashComposite, demo_app: Flask) -> None:
    """A slow panel spins while the others draw, then says it timed out."""
    demo_app.extensions["dashapp.db"].statement_timeout_ms = 1500

    def slow_memory(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if (
            statement.lstrip().startswith("SELECT")
            and "FROM series" in statement
            and ("memory.used" in str(parameters))
        ):
            cursor.execute("SELECT pg_sleep(3)")

    with demo_app.app_context():
        engine = database.engine
    event.listen(engine, "before_cursor_execute", slow_memory)
    try:
        dash_duo.start_server(demo_app.extensions["dashapp.dash"])
        dash_duo.driver.get(f"{dash_duo.server_url}/d/service-health")
        loading = wait_for(lambda: (s := panels(dash_duo)) and s["panel-memory"]["spinning"] and s)
        assert loading, panels(dash_duo)
        state = wait_for(
            lambda: (
                (s := panels(dash_duo))
                and "timed out" in s["panel-memory"]["status"].lower()
                and all(p["points"] for k, p in s.items() if k != "panel-memory")
                # A second round (the viewport arriving) may re-run the slow panel: wait
                # for it to settle too, or a loaded machine catches it mid-spin.
                and not any(p["spinning"] for p in s.values())
                and s
            )
        )
    finally:
        event.remove(engine, "before_cursor_execute", slow_memory)
    assert state, panels(dash_duo)
    assert len([p for p in state.values() if p["points"]]) == 11
    assert not any(p["spinning"] for p in state.values())
