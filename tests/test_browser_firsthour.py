"""What a Grafana user does without thinking, in headless Chromium on PostgreSQL: a
panel's full screen fills the window, a gauge says when its data stopped, and the time
picker's keys (t← / t→ shift by half the range, t z zooms out, Esc closes)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from dash.testing.composite import DashComposite
from flask import Flask
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dashapp.commands import dashboards as commands
from dashapp.commands.seed import seed_demo
from dashapp.core.permissions import Actor
from dashapp.core.spec import parse_spec
from dashapp.extensions import database
from db.tsdb import metrics
from tests.browser import DESKTOP, PHONE, SCREENSHOTS, set_width, start, wait_for
from tests.conftest import empty_tables, make_app

pytestmark = pytest.mark.browser
STOPPED = "stopped-gauge"


@pytest.fixture(scope="module")
def firsthour_database(postgresql_database: str) -> Iterator[str]:
    """A few hours of demo data, and a dashboard whose gauge's metric stopped an hour ago."""
    empty_tables(postgresql_database)
    app = make_app(postgresql_database)
    with app.app_context():
        seed_demo(days=0.3)
        key = metrics.series_key("pump.pressure", "pump-1", {})
        now = datetime.now(UTC)
        with database.transaction() as session:
            sid = metrics.resolve_series(session, [key])[key]
            points = [(sid, now - timedelta(hours=1, minutes=m), 60.0 + m % 7) for m in range(240)]
            metrics.write_points(session, points)
        spec = {
            "schema_version": 2, "title": "Pumps", "time": {"from": "now-6h", "to": "now"},
            "panels": [
                {"id": "pressure", "type": "gauge", "title": "Pressure",
                 "grid": {"x": 0, "y": 0, "w": 8, "h": 8},
                 "queries": [{"metric": "pump.pressure", "agg": "avg"}],
                 "options": {"unit": "percent", "min": 0, "max": 100}},
                {"id": "pressure-stat", "type": "stat", "title": "Pressure now",
                 "grid": {"x": 8, "y": 0, "w": 8, "h": 8},
                 "queries": [{"metric": "pump.pressure", "agg": "avg"}],
                 "options": {"unit": "percent"}},
            ],
        }  # fmt: skip
        commands.create(Actor.system(), parse_spec(spec), STOPPED, "test")
    app.extensions["dashapp.db"].engine.dispose()
    yield postgresql_database


@pytest.fixture
def firsthour_app(chromium: str, firsthour_database: str) -> Flask:
    return make_app(firsthour_database)


VIEWPORT_JS = """
var card = document.querySelector('#fullscreen-modal .modal-card').getBoundingClientRect();
var plot = document.querySelector('#fullscreen-modal .js-plotly-plot');
var drawn = plot && plot.querySelector('.main-svg');
var root = document.documentElement;
return {width: root.clientWidth, height: root.clientHeight, card: [card.width, card.height],
        plot: drawn ? drawn.getBoundingClientRect().height : 0};
"""


def viewport(dash_duo: DashComposite) -> dict[str, Any]:
    return dash_duo.driver.execute_script(VIEWPORT_JS)


def window_screenshots(dash_duo: DashComposite, name: str, ready: Callable[[], Any]) -> None:
    """``name-desktop.png`` and ``name-phone.png`` of what the window shows (a full-page
    shot would grow the window, and a full-screen view with it)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        set_width(dash_duo, size)
        wait_for(ready)
        time.sleep(0.5)  # plotly's resize
        dash_duo.driver.save_screenshot(str(SCREENSHOTS / f"{name}-{label}.png"))
    set_width(dash_duo, DESKTOP)


def fills_the_window(dash_duo: DashComposite) -> bool:
    size = viewport(dash_duo)
    card_w, card_h = size["card"]
    return (
        abs(card_w - size["width"]) <= 1
        and abs(card_h - size["height"]) <= 1
        and size["plot"] >= 0.75 * size["height"]
    )


def test_full_screen_fills_the_whole_window(dash_duo: DashComposite, firsthour_app: Flask) -> None:
    start(dash_duo, firsthour_app, "/d/service-health?from=now-1h&to=now")
    button = '[id=\'{"panel":"cpu","type":"panel-fullscreen"}\']'
    wait_for(lambda: dash_duo.driver.find_element(By.CSS_SELECTOR, button)).click()
    assert wait_for(lambda: fills_the_window(dash_duo)), viewport(dash_duo)
    set_width(dash_duo, PHONE)
    assert wait_for(lambda: fills_the_window(dash_duo)), viewport(dash_duo)
    set_width(dash_duo, DESKTOP)
    # The link to the panel (?viewPanel=) opens it as large.
    dash_duo.driver.get(
        dash_duo.server_url + "/d/service-health?from=now-1h&to=now&viewPanel=memory"
    )
    assert wait_for(lambda: fills_the_window(dash_duo)), viewport(dash_duo)
    window_screenshots(dash_duo, "fullscreen", lambda: fills_the_window(dash_duo))


def panel_text(dash_duo: DashComposite, panel: str) -> str:
    return dash_duo.driver.find_element(By.ID, f"panel-{panel}").text


def test_a_gauge_whose_data_stopped_says_stale_like_a_stat(
    dash_duo: DashComposite, firsthour_app: Flask
) -> None:
    start(dash_duo, firsthour_app, f"/d/{STOPPED}")
    assert wait_for(lambda: "stale: no recent data" in panel_text(dash_duo, "pressure-stat"))
    assert wait_for(lambda: "stale: no recent data" in panel_text(dash_duo, "pressure"))
    # The live demo's gauge is not stale.
    dash_duo.driver.get(dash_duo.server_url + "/d/service-health?from=now-1h&to=now")
    assert wait_for(lambda: "%" in panel_text(dash_duo, "cpu-gauge"))
    assert "stale" not in panel_text(dash_duo, "cpu-gauge")
    dash_duo.driver.get(dash_duo.server_url + f"/d/{STOPPED}")
    ready = lambda: "stale: no recent data" in panel_text(dash_duo, "pressure")  # noqa: E731
    window_screenshots(dash_duo, "gauge-stale", ready)


def view_range(dash_duo: DashComposite) -> tuple[str, str]:
    query = parse_qs(urlparse(dash_duo.driver.current_url).query)
    return query["from"][0], query["to"][0]


def press(dash_duo: DashComposite, *keys: str) -> None:
    """Keys pressed with the focus on the page (not in a box), one after the other."""
    chain = ActionChains(dash_duo.driver)
    for key in keys:
        chain.send_keys(key)  # at machine speed: a quick "t ←" must count
    chain.perform()


def listening(dash_duo: DashComposite) -> None:
    """The dashboard is drawn and its shortcut listener is in place; the focus is on the
    page, as after a click on its title."""
    driver = dash_duo.driver
    assert wait_for(lambda: driver.find_element(By.CSS_SELECTOR, "#panel-cpu .main-svg"))
    assert wait_for(lambda: driver.execute_script("return window.dashappTimeKeys === true"))
    driver.find_element(By.CSS_SELECTOR, "h1").click()


def test_t_arrows_shift_t_z_zooms_out_and_typing_is_left_alone(
    dash_duo: DashComposite, firsthour_app: Flask
) -> None:
    start(dash_duo, firsthour_app, "/d/service-health?from=now-6h&to=now")
    listening(dash_duo)
    before = time.time() * 1000
    press(dash_duo, "t", Keys.ARROW_LEFT)  # half the range back: 9 h to 3 h ago
    moved = wait_for(lambda: view_range(dash_duo)[0].isdigit() and view_range(dash_duo))
    assert moved, (dash_duo.driver.current_url, dash_duo.get_logs())
    start_ms, end_ms = (int(v) for v in moved)
    assert end_ms - start_ms == 6 * 3600_000
    assert abs(end_ms - (before - 3 * 3600_000)) < 120_000
    assert dash_duo.driver.find_element(By.ID, "time-from").get_attribute("value")[:2] == "20"
    press(dash_duo, "t", Keys.ARROW_RIGHT)  # and forward again: live, as it was
    assert wait_for(lambda: view_range(dash_duo) == ("now-6h", "now")), view_range(dash_duo)
    press(dash_duo, "t", "z")
    assert wait_for(lambda: view_range(dash_duo) == ("now-12h", "now")), view_range(dash_duo)
    dash_duo.driver.find_element(By.ID, "time-back").click()  # each went into the history
    assert wait_for(lambda: view_range(dash_duo) == ("now-6h", "now"))
    # In a text box, t and the arrows are the box's.
    box = dash_duo.driver.find_element(By.ID, "time-to")
    box.click()
    box.send_keys("t", Keys.ARROW_LEFT, "z")
    time.sleep(1)  # nothing to wait for: the range must stay as it is
    assert view_range(dash_duo) == ("now-6h", "now")
    # An arrow without t, or t a while before it, is nothing either.
    dash_duo.driver.find_element(By.CSS_SELECTOR, "h1").click()
    press(dash_duo, Keys.ARROW_LEFT)
    time.sleep(1)
    assert view_range(dash_duo) == ("now-6h", "now")


def test_esc_closes_the_innermost_open_thing(dash_duo: DashComposite, firsthour_app: Flask) -> None:
    start(dash_duo, firsthour_app, "/d/service-health?from=now-6h&to=now")
    driver = dash_duo.driver
    listening(dash_duo)
    set_width(dash_duo, PHONE)
    toggle = driver.find_element(By.CSS_SELECTOR, "#controls-toggle input")
    controls = driver.find_element(By.CSS_SELECTOR, ".toolbar-controls")
    toggle.click()  # the phone's time controls unfold
    assert wait_for(lambda: controls.is_displayed())
    button = '[id=\'{"panel":"cpu","type":"panel-fullscreen"}\']'
    driver.find_element(By.CSS_SELECTOR, button).click()
    modal = driver.find_element(By.ID, "fullscreen-modal")
    assert wait_for(lambda: "hidden" not in modal.get_attribute("class"))
    press(dash_duo, Keys.ESCAPE)  # the full screen view closes; the controls stay open
    assert wait_for(lambda: "hidden" in modal.get_attribute("class"))
    time.sleep(0.5)
    assert controls.is_displayed()
    presets = driver.find_element(By.ID, "time-preset")
    presets.click()
    assert wait_for(lambda: presets.get_attribute("aria-expanded") == "true")
    press(dash_duo, Keys.ESCAPE)  # the open list closes, nothing else
    assert wait_for(lambda: presets.get_attribute("aria-expanded") == "false")
    time.sleep(0.5)
    assert controls.is_displayed() and view_range(dash_duo) == ("now-6h", "now")
    driver.find_element(By.CSS_SELECTOR, "h1").click()
    press(dash_duo, Keys.ESCAPE)  # then the controls fold away
    assert wait_for(lambda: not controls.is_displayed())
    assert view_range(dash_duo) == ("now-6h", "now")
