"""What a Grafana user does without thinking, in headless Chromium on PostgreSQL: a
panel's full screen fills the window, a gauge says when its data stopped, and the time
picker's keys (t← / t→ shift by half the range, t z zooms out, Esc closes)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dash.testing.composite import DashComposite
from flask import Flask
from selenium.webdriver.common.by import By

from dashapp.commands import dashboards as commands
from dashapp.commands.seed import seed_demo
from dashapp.core.permissions import Actor
from dashapp.core.spec import parse_spec
from dashapp.extensions import database
from db import metrics
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
