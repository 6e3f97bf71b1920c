"""Explore in headless Chromium on PostgreSQL: find a metric, chart it, change how,
share the URL, and (editors) add it to a dashboard."""

from __future__ import annotations

from typing import Any

import pytest
from dash.testing.composite import DashComposite
from flask import Flask
from selenium.webdriver.common.by import By

from dashapp.core.spec import parse_spec
from tests.browser import log_in, start, wait_for
from tests.test_browser_editor import PASSWORD, editor_app, stored

pytestmark = pytest.mark.browser
__all__ = ["editor_app"]  # the editor tests' fixture: demo metrics, "ops", editor ed

TRACES_JS = """
var plot = document.querySelector('#explore-graph .js-plotly-plot') ||
           document.querySelector('#explore-graph');
if (!plot || !plot.data) { return null; }
return plot.data.map(function (t) {
  return {name: t.name, points: (t.y || []).filter(function (v) { return v !== null; }).length};
});
"""


def traces(dash_duo: DashComposite) -> list[dict[str, Any]] | None:
    drawn = dash_duo.driver.execute_script(TRACES_JS)
    return drawn if drawn and all(t["points"] for t in drawn) else None


def test_an_analyst_finds_a_metric_and_charts_it(
    dash_duo: DashComposite, editor_app: Flask
) -> None:
    start(dash_duo, editor_app, "/")
    wait_for(lambda: dash_duo.driver.find_element(By.LINK_TEXT, "Explore")).click()
    box = wait_for(lambda: dash_duo.driver.find_element(By.ID, "explore-search"))
    box.send_keys("cpu.usage source:web-1")
    results = wait_for(lambda: dash_duo.driver.find_element(By.ID, "explore-results").text)
    assert "cpu.usage: 1 series" in results and "web-1" in results and "region=eu" in results
    dash_duo.driver.find_element(By.CSS_SELECTOR, "#explore-results button").click()
    drawn = wait_for(lambda: traces(dash_duo))
    assert drawn and sorted(t["name"] for t in drawn) == ["api-1", "web-1", "web-2", "web-3"]
    assert "metric=cpu.usage" in dash_duo.driver.current_url

    dash_duo.select_dcc_dropdown("#explore-group", value="one line per metric")
    assert wait_for(lambda: (t := traces(dash_duo)) and len(t) == 1)
    dash_duo.select_dcc_dropdown("#explore-agg", value="max")
    assert wait_for(lambda: "agg=max" in dash_duo.driver.current_url)
    shared = dash_duo.driver.current_url
    assert "group_by=none" in shared
    dash_duo.driver.get(shared)  # the link reproduces the chart
    assert wait_for(lambda: (t := traces(dash_duo)) and len(t) == 1)
    assert "max" in dash_duo.find_element("#explore-agg").text
    assert not dash_duo.driver.find_elements(By.ID, "explore-add")  # viewers don't add


def test_an_editor_adds_the_chart_to_a_dashboard(
    dash_duo: DashComposite, editor_app: Flask
) -> None:
    dash_duo.start_server(editor_app.extensions["dashapp.dash"])
    dash_duo.driver.set_window_size(1600, 1000)
    log_in(dash_duo, "ed", PASSWORD, "/explore?metric=memory.used&agg=max&group_by=source")
    assert wait_for(lambda: traces(dash_duo))
    dash_duo.select_dcc_dropdown("#explore-dashboard", value="Ops")
    dash_duo.driver.find_element(By.ID, "explore-add").click()
    assert wait_for(lambda: "Added as a new panel" in dash_duo.find_element("#explore-added").text)
    saved = stored(editor_app, "ops")
    panel = parse_spec(saved.spec).panels[-1]
    assert saved.version == 2 and panel.queries[0].metric == "memory.used"
    assert panel.queries[0].agg == "max"
