"""Every page at desktop (1600x1000) and phone (390x844) width in headless Chromium:
screenshots written to tests/screenshots/ to look at, no page scrolls sideways on a
phone, the dashboard is one column there, in the dashboard's order, and on a desktop a
chart's toolbar shows only while the pointer is on its panel."""

from __future__ import annotations

from typing import Any

import pytest
from dash.testing.composite import DashComposite
from flask import Flask
from selenium.webdriver.common.by import By

from dashapp.core.spec import parse_spec
from tests.browser import PHONE, log_in, screenshots, set_width, start, wait_for
from tests.test_browser_dashboard import all_drawn, panels
from tests.test_browser_links import PASSWORD, links_app, links_database

pytestmark = pytest.mark.browser
__all__ = ["links_app", "links_database"]  # fixtures shared with the links tests

BOXES_JS = """
return Array.from(document.querySelectorAll('.react-grid-item')).map(function (item) {
  var r = item.getBoundingClientRect(), panel = item.querySelector('.panel');
  return {id: panel ? panel.id : '', x: r.left, y: r.top + window.scrollY, w: r.width};
});
"""


def element_there(dash_duo: DashComposite, selector: str) -> Any:
    return lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, selector)


def visit(dash_duo: DashComposite, path: str) -> None:
    dash_duo.driver.get(dash_duo.server_url + path)


def test_every_page_fits_a_phone_and_is_photographed(
    dash_duo: DashComposite, links_app: Flask
) -> None:
    from dashapp.auth import hash_password
    from dashapp.extensions import database
    from db import users

    with links_app.app_context(), database.transaction() as session:
        if users.credentials(session, "ada") is None:
            users.create_user(session, "ada", hash_password(PASSWORD), "admin")
    overflowing = {}
    start(dash_duo, links_app, "/login")
    overflowing["login"] = screenshots(dash_duo, "login", element_there(dash_duo, "#username"))
    log_in(dash_duo, "ada", PASSWORD, "/")
    pages = [
        ("home", "/", "a.dashboard-link"),
        ("dashboard", "/d/service-health", None),
        ("edit", "/d/service-health/edit", "#add-panel"),
        ("history", "/d/service-health/history", ".versions"),
        ("new", "/new", "#create-title"),
        ("import", "/import", "#import-upload"),
        ("not-found", "/d/nope", ".empty-state"),
        ("admin", "/admin", "#admin-users"),
        ("explore", "/explore?metric=cpu.usage&group_by=source", "#explore-graph .main-svg"),
    ]
    for name, path, ready in pages:
        visit(dash_duo, path)
        check = (lambda: all_drawn(dash_duo)) if ready is None else element_there(dash_duo, ready)
        assert wait_for(check), (
            name,
            panels(dash_duo),
            dash_duo.driver.find_element(By.ID, "page").text[:300],
            dash_duo.get_logs(),
        )
        overflowing[name] = screenshots(dash_duo, name, check)
    wide = {k: v for k, v in overflowing.items() if v["scroll"] > v["client"]}
    assert wide == {}, wide


def test_a_phone_shows_one_column_in_the_dashboards_order(
    dash_duo: DashComposite, links_app: Flask
) -> None:
    start(dash_duo, links_app, "/d/service-health")
    set_width(dash_duo, PHONE)
    assert wait_for(lambda: all_drawn(dash_duo))
    boxes = dash_duo.driver.execute_script(BOXES_JS)
    width = dash_duo.driver.execute_script("return document.documentElement.clientWidth;")
    assert {round(b["x"]) for b in boxes} == {round(boxes[0]["x"])}, boxes  # one column
    assert all(b["w"] > width * 0.85 for b in boxes), boxes
    with links_app.app_context():
        from dashapp.extensions import database
        from db import dashboards

        with database.transaction() as session:
            spec = parse_spec(dashboards.get_dashboard(session, "service-health").spec)
    reading_order = [
        f"panel-{p.id}" for p in sorted(spec.panels, key=lambda p: (p.grid.y, p.grid.x))
    ]
    shown = [b["id"] for b in sorted(boxes, key=lambda b: b["y"])]
    assert shown == reading_order
    # The time controls fold into a menu that opens on demand.
    assert not dash_duo.driver.find_element(By.ID, "time-preset").is_displayed()
    dash_duo.driver.find_element(By.CSS_SELECTOR, "#controls-toggle label").click()
    assert wait_for(lambda: dash_duo.driver.find_element(By.ID, "time-preset").is_displayed())


TOOLBAR_JS = """
var bar = document.querySelector('#panel-' + arguments[0] + ' .modebar-container');
return bar ? Number(getComputedStyle(bar).opacity) : null;
"""


def test_a_charts_toolbar_shows_only_while_the_pointer_is_on_its_panel(
    dash_duo: DashComposite, links_app: Flask
) -> None:
    """Issue 14, item 10: on a desktop the toolbar no longer covers the chart's top right,
    and hovering the panel brings it back with its zoom and reset buttons."""
    from selenium.webdriver.common.action_chains import ActionChains

    start(dash_duo, links_app, "/d/service-health")
    assert wait_for(lambda: all_drawn(dash_duo))
    driver = dash_duo.driver
    ActionChains(driver).move_to_element(driver.find_element(By.TAG_NAME, "h1")).perform()
    assert wait_for(lambda: driver.execute_script(TOOLBAR_JS, "cpu") == 0)
    panel = driver.find_element(By.ID, "panel-cpu")
    ActionChains(driver).move_to_element(panel).perform()
    assert wait_for(lambda: driver.execute_script(TOOLBAR_JS, "cpu") == 1)
    titles = {
        b.get_attribute("data-title")
        for b in panel.find_elements(By.CSS_SELECTOR, ".modebar-btn")
    }  # fmt: skip
    assert {"Zoom", "Reset axes"} <= titles, titles
