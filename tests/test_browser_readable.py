"""Numbers and colours as a person reads them, in headless Chromium (issue 28, items 6
and 7): a memory gauge in bytes that reads like the time series beside it, and a dark
theme whose series, placeholders, clear buttons, date boxes and menus stay legible."""

from __future__ import annotations

import re
from typing import Any

import pytest
from dash.testing.composite import DashComposite
from flask import Flask
from selenium.webdriver.common.by import By

from dashapp.commands.seed import seed_demo
from dashapp.core.spec import parse_spec
from dashapp.extensions import database
from db import dashboards
from tests.browser import screenshots, start, wait_for
from tests.conftest import empty_tables, make_app
from tests.test_browser_dashboard import all_drawn
from tests.test_contrast import contrast

pytestmark = pytest.mark.browser

MEMORY = {
    "title": "Memory",
    "panels": [
        {"id": "gauge", "type": "gauge", "grid": {"x": 0, "y": 0, "w": 8, "h": 8},
         "queries": [{"metric": "memory.used", "source": "web-1"}], "options": {"unit": "bytes"}},
        {"id": "lines", "type": "timeseries", "grid": {"x": 8, "y": 0, "w": 16, "h": 8},
         "queries": [{"metric": "memory.used", "source": "web-1"}], "options": {"unit": "bytes"}},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def readable_database(postgresql_database: str) -> str:
    """A few hours of demo data and a dashboard with a memory gauge in bytes."""
    empty_tables(postgresql_database)
    app = make_app(postgresql_database)
    with app.app_context():
        seed_demo(days=0.2)
        with database.transaction() as session:
            dashboards.create_dashboard(session, "memory", parse_spec(MEMORY), "ann")
    app.extensions["dashapp.db"].engine.dispose()
    return postgresql_database


@pytest.fixture
def readable_app(chromium: str, readable_database: str) -> Flask:
    return make_app(readable_database)


def texts(dash_duo: DashComposite, selector: str) -> list[str]:
    found = dash_duo.driver.find_elements(By.CSS_SELECTOR, selector)
    return [e.get_attribute("textContent") for e in found]


def test_a_memory_gauge_in_bytes_reads_like_the_time_series(
    dash_duo: DashComposite, readable_app: Flask
) -> None:
    """Issue 28, item 6: the gauge said "7.217e+9 B" on a 0-100 dial, ticks "2B…16B"."""
    start(dash_duo, readable_app, "/d/memory")
    assert wait_for(lambda: all_drawn(dash_duo))
    number = wait_for(lambda: texts(dash_duo, "#panel-gauge .annotation-text"))
    assert re.fullmatch(r"\d+(\.\d+)? GiB", number[0]), number
    dial = texts(dash_duo, "#panel-gauge [class*=angularaxistick] text")
    assert len(dial) >= 3 and all(re.fullmatch(r"\d+(\.\d+)? GiB", t) for t in dial), dial
    value = float(number[0].split()[0])
    assert float(dial[-1].split()[0]) >= value  # the dial reaches past the value
    axis = texts(dash_duo, "#panel-lines .ytick text")
    assert axis and all(re.fullmatch(r"\d+(\.\d+)? GiB", t) for t in axis), axis
    hover = dash_duo.driver.execute_script(
        "return document.querySelector('#panel-lines .js-plotly-plot').data[0].customdata;"
    )
    assert all(re.fullmatch(r"\d+(\.\d+)? GiB", t) for t in hover if t), hover[:5]


# The colour a person sees: an element's text over whatever it is painted on (layers of
# translucent backgrounds blended, up to the page).
COLOURS_JS = """
function rgba(c) {
  var m = (c.match(/[\\d.]+/g) || ['0', '0', '0', '0']).map(Number);
  return [m[0], m[1], m[2], m.length > 3 ? m[3] : 1];
}
function over(top, below) {
  return [0, 1, 2].map(function (k) { return top[k] * top[3] + below[k] * (1 - top[3]); });
}
function backdrop(el) {
  var layers = [];
  for (var e = el; e; e = e.parentElement) {
    var c = rgba(getComputedStyle(e).backgroundColor);
    if (c[3] > 0) { layers.push(c); if (c[3] >= 1) { break; } }
  }
  var out = [255, 255, 255];
  for (var i = layers.length - 1; i >= 0; i--) { out = over(layers[i], out); }
  return out;
}
function hex(c) {
  return '#' + c.map(function (v) {
    return ('0' + Math.round(v).toString(16)).slice(-2);
  }).join('');
}
return Array.from(document.querySelectorAll(arguments[0])).filter(function (el) {
  return el.getClientRects().length > 0;
}).map(function (el) {
  var back = backdrop(el), fg = rgba(getComputedStyle(el).color);
  return {text: el.textContent.slice(0, 30), fg: hex(over(fg, back)), bg: hex(back)};
});
"""


def colours(dash_duo: DashComposite, selector: str) -> list[dict[str, Any]]:
    return dash_duo.driver.execute_script(COLOURS_JS, selector)


def legible(found: list[dict[str, Any]], ratio: float = 4.5) -> list[dict[str, Any]]:
    """The elements whose text is below ``ratio`` against what it is drawn on."""
    return [c | {"ratio": round(contrast(c["fg"], c["bg"]), 2)} for c in found
            if contrast(c["fg"], c["bg"]) < ratio]  # fmt: skip


def test_the_dark_theme_keeps_everything_legible(
    dash_duo: DashComposite, readable_app: Flask
) -> None:
    """Issue 28, item 7: api-1 (#1f2937) vanished on the dark panels; "all tags" and the
    clear button were dark blue on black; the date boxes stayed white; menus stayed light."""
    start(dash_duo, readable_app, "/d/service-health")
    assert wait_for(lambda: all_drawn(dash_duo))
    dash_duo.driver.find_element(By.ID, "theme-toggle").click()
    assert wait_for(lambda: "dark" in dash_duo.find_element("#app-root").get_attribute("class"))
    panel_bg = colours(dash_duo, "#panel-cpu")[0]["bg"]
    series = dash_duo.driver.execute_script(
        "return document.querySelector('#panel-cpu .js-plotly-plot').data"
        ".map(function (t) { return [t.name, t.line.color]; });"
    )
    faint = {name: round(contrast(color, panel_bg), 2) for name, color in series
             if contrast(color, panel_bg) < 3}  # fmt: skip
    assert len(series) >= 4 and faint == {}, faint

    placeholders = [c for c in colours(dash_duo, ".dash-dropdown *") if c["text"] == "all tags"]
    assert placeholders and legible(placeholders) == [], placeholders
    clear = colours(dash_duo, ".dash-dropdown-clear")
    assert clear and legible(clear, 3.0) == [], clear  # an icon: graphics, 3:1
    boxes = colours(dash_duo, ".time-input") + colours(dash_duo, ".dash-datepicker-input")
    assert boxes and all(contrast(b["bg"], "#ffffff") > 10 for b in boxes), boxes  # dark boxes
    assert legible(boxes) == [], boxes

    dash_duo.driver.find_element(By.CSS_SELECTOR, ".time-preset").click()
    options = wait_for(lambda: colours(dash_duo, ".dash-dropdown-option"))
    assert options and all(contrast(o["bg"], "#ffffff") > 10 for o in options), options[:3]
    assert legible(options) == [], options[:3]
    dash_duo.driver.find_element(By.TAG_NAME, "h1").click()  # close the menu

    wide = screenshots(dash_duo, "dashboard-dark", lambda: all_drawn(dash_duo))
    assert wide["scroll"] <= wide["client"], wide
