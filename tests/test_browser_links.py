"""Links an analyst follows or pastes, in headless Chromium on PostgreSQL: bad URL
parameters, logging in from a page, and the screenshots of the dashboard page."""

from __future__ import annotations

from typing import Any

import pytest
from dash.testing.composite import DashComposite
from flask import Flask
from selenium.webdriver.common.by import By

from dashapp.auth import hash_password
from dashapp.commands.seed import seed_demo
from dashapp.extensions import database
from db import users
from tests.browser import start, wait_for
from tests.conftest import empty_tables, make_app
from tests.test_browser_dashboard import all_drawn, panels

pytestmark = pytest.mark.browser
PASSWORD = "analyst-password"


@pytest.fixture(scope="module")
def links_database(postgresql_database: str) -> str:
    """A few hours of demo data and a viewer called ann, shared by this module's tests."""
    empty_tables(postgresql_database)
    app = make_app(postgresql_database)
    with app.app_context():
        seed_demo(days=0.3)
        with database.transaction() as session:
            users.create_user(session, "ann", hash_password(PASSWORD), "viewer")
    app.extensions["dashapp.db"].engine.dispose()
    return postgresql_database


@pytest.fixture
def links_app(chromium: str, links_database: str) -> Flask:
    return make_app(links_database)


def notice(dash_duo: DashComposite) -> str:
    return dash_duo.driver.find_element(By.ID, "time-error").text


def errors_in_panels(state: dict[str, dict[str, Any]]) -> list[str]:
    return [p["status"] for p in state.values() if p["status"]]


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("?from=garbage&to=now", "from=garbage is not a time"),
        ("?from=now-1h&to=now-3h", "the range ends before it starts"),
        ("?from=now-1h&to=now&var-host=web-9", "host has no value web-9"),
    ],
)
def test_a_bad_link_says_so_once_and_shows_the_defaults(
    dash_duo: DashComposite, links_app: Flask, query: str, said: str
) -> None:
    start(dash_duo, links_app, "/d/service-health" + query)
    state = wait_for(lambda: all_drawn(dash_duo))
    assert state, panels(dash_duo)
    assert said in notice(dash_duo) and notice(dash_duo).count("ignored") == 1
    assert errors_in_panels(state) == []
    assert len(dash_duo.driver.find_elements(By.CSS_SELECTOR, "[role=alert]:not(:empty)")) == 1


def test_logging_in_from_a_page_keeps_the_name_and_comes_back(
    dash_duo: DashComposite, links_app: Flask
) -> None:
    start(dash_duo, links_app, "/d/service-health?from=now-1h&to=now")
    driver = dash_duo.driver
    link = wait_for(lambda: driver.find_element(By.ID, "login-link"))
    wait_for(lambda: "next=" in (link.get_attribute("href") or ""))
    link.click()
    wait_for(lambda: driver.find_elements(By.ID, "username"))
    driver.find_element(By.ID, "username").send_keys("ann")
    driver.find_element(By.ID, "password").send_keys("not it")
    driver.find_element(By.ID, "login-submit").click()
    assert wait_for(lambda: "Wrong username" in driver.page_source)
    assert driver.find_element(By.ID, "username").get_attribute("value") == "ann"
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    assert wait_for(lambda: driver.current_url.endswith("/d/service-health?from=now-1h&to=now"))
    assert wait_for(lambda: driver.find_element(By.ID, "current-user").text == "ann · viewer")


def test_esc_and_the_backdrop_close_dialogs(dash_duo: DashComposite, links_app: Flask) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    start(dash_duo, links_app, "/d/service-health")
    assert wait_for(lambda: all_drawn(dash_duo))
    modal = dash_duo.driver.find_element(By.ID, "inspect-modal")
    inspect = '[id=\'{"panel":"cpu","type":"panel-inspect"}\']'
    dash_duo.driver.find_element(By.CSS_SELECTOR, inspect).click()
    assert wait_for(lambda: "hidden" not in modal.get_attribute("class"))
    # Inspect shows the data as a table (a column per host) and the panel's JSON.
    header = wait_for(lambda: dash_duo.driver.find_element(By.CSS_SELECTOR, ".inspect-data thead"))
    assert header.text.split() == ["time", "api-1", "web-1", "web-2", "web-3"]
    assert dash_duo.driver.find_elements(By.CSS_SELECTOR, ".inspect-data tbody tr")
    assert '"id": "cpu"' in dash_duo.driver.find_element(By.ID, "inspect-json").text
    assert dash_duo.driver.find_element(By.ID, "inspect-csv-wide").is_displayed()
    ActionChains(dash_duo.driver).send_keys(Keys.ESCAPE).perform()
    assert wait_for(lambda: "hidden" in modal.get_attribute("class"))
    dash_duo.driver.find_element(By.CSS_SELECTOR, inspect).click()
    assert wait_for(lambda: "hidden" not in modal.get_attribute("class"))
    ActionChains(dash_duo.driver).move_to_element_with_offset(modal, 5, 5).click().perform()
    assert wait_for(lambda: "hidden" in modal.get_attribute("class"))


def test_view_panel_opens_a_titled_live_full_screen_panel(
    dash_duo: DashComposite, links_app: Flask
) -> None:
    start(dash_duo, links_app, "/d/service-health?from=now-1h&to=now&viewPanel=cpu")
    modal = dash_duo.driver.find_element(By.ID, "fullscreen-modal")
    assert "hidden" not in modal.get_attribute("class")
    assert dash_duo.driver.find_element(By.ID, "fullscreen-title").text == "CPU usage by host"
    drawn = wait_for(lambda: dash_duo.driver.execute_script(
        "var p = document.querySelector('#fullscreen-modal .js-plotly-plot');"
        "return p && p.data && p.data.length;"))  # fmt: skip
    assert drawn == 4
    dash_duo.driver.find_element(By.ID, "fullscreen-close").click()
    assert wait_for(lambda: "hidden" in modal.get_attribute("class"))
    fullscreen = '[id=\'{"panel":"memory","type":"panel-fullscreen"}\']'
    dash_duo.driver.find_element(By.CSS_SELECTOR, fullscreen).click()
    title = wait_for(lambda: dash_duo.driver.find_element(By.ID, "fullscreen-title").text)
    assert title.startswith("Memory used")
    link = dash_duo.driver.find_element(By.CSS_SELECTOR, "#fullscreen-title a")
    assert link.get_attribute("href").endswith("viewPanel=memory")
