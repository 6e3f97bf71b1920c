"""Editing in headless Chromium, on PostgreSQL: build, drag, save, reload, conflict,
restore, import, and a draft that survives a reload."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from dash.testing.composite import DashComposite
from flask import Flask
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dashapp.auth import hash_password
from dashapp.commands.seed import seed_demo
from dashapp.core.spec import parse_spec
from dashapp.extensions import database
from db import dashboards, users
from tests.browser import wait_for
from tests.conftest import empty_tables, make_app

pytestmark = pytest.mark.browser
PASSWORD = "editor-password"


@pytest.fixture
def editor_app(chromium: str, postgresql_database: str) -> Flask:
    """Demo metrics (for the pickers), an "ops" dashboard and an editor called ed."""
    empty_tables(postgresql_database)
    app = make_app(postgresql_database)
    with app.app_context():
        seed_demo(days=0.1)
        with database.transaction() as session:
            users.create_user(session, "ed", hash_password(PASSWORD), "editor")
            dashboards.create_dashboard(session, "ops", parse_spec({"title": "Ops"}), "ann")
    return app  # closed after the browser stops, see conftest


def element(dash_duo: DashComposite, component: str | dict[str, Any]) -> Any:
    if isinstance(component, dict):
        key = json.dumps(component, sort_keys=True, separators=(",", ":"))
        return dash_duo.driver.find_element(By.CSS_SELECTOR, f"[id='{key}']")
    return dash_duo.driver.find_element(By.ID, component)


def clickable(dash_duo: DashComposite, component: str | dict[str, Any]) -> Any:
    """The component's element once it can take a click (None while it is hidden or
    disabled: a dialog still opening answers a click with "element not interactable")."""
    found = element(dash_duo, component)
    return found if found.is_displayed() and found.is_enabled() else None


def start_logged_in(dash_duo: DashComposite, app: Flask, path: str) -> None:
    dash_duo.start_server(app.extensions["dashapp.dash"])
    driver = dash_duo.driver
    driver.set_window_size(1600, 1200)
    driver.get(dash_duo.server_url + "/login")
    driver.find_element(By.ID, "username").send_keys("ed")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    wait_for(lambda: "/login" not in driver.current_url)
    driver.get(dash_duo.server_url + path)


def choose(dash_duo: DashComposite, dropdown: Any, text: str) -> None:
    dropdown.click()
    option = wait_for(
        lambda: next(
            o for o in dash_duo.driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option")
            if o.text == text
        )
    )  # fmt: skip
    option.click()


def banner(dash_duo: DashComposite) -> str:
    return element(dash_duo, "editor-banner").text


def stored(app: Flask, slug: str) -> Any:
    with app.app_context(), database.transaction() as session:
        return dashboards.get_dashboard(session, slug)


def test_an_editor_builds_drags_saves_and_finds_it_as_saved(
    dash_duo: DashComposite, editor_app: Flask
) -> None:
    start_logged_in(dash_duo, editor_app, "/new")
    title = wait_for(lambda: element(dash_duo, "create-title"))
    title.send_keys("Checkout")
    element(dash_duo, "create-submit").click()
    wait_for(lambda: dash_duo.driver.current_url.endswith("/d/checkout/edit"))

    wait_for(lambda: clickable(dash_duo, "add-panel")).click()
    metric = wait_for(lambda: element(dash_duo, {"index": 0, "name": "metric", "type": "pe-query"}))
    choose(dash_duo, metric, "cpu.usage")
    panel_title = element(dash_duo, {"name": "title", "type": "pe-field"})
    panel_title.send_keys(Keys.CONTROL, "a")  # clear() skips React's change events
    panel_title.send_keys("CPU")
    assert wait_for(
        lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, "#pe-preview .js-plotly-plot")
    )
    element(dash_duo, "pe-apply").click()
    assert wait_for(lambda: "hidden" in element(dash_duo, "pe-modal").get_attribute("class"))
    header = wait_for(
        lambda: dash_duo.driver.find_element(By.CSS_SELECTOR, "#panel-timeseries .panel-title")
    )
    assert header.text == "CPU"

    grid = dash_duo.driver.find_element(By.CSS_SELECTOR, ".react-grid-layout")
    column = grid.size["width"] / 24
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", header)
    ActionChains(dash_duo.driver).click_and_hold(header).move_by_offset(int(column * 6), 0) \
        .pause(0.3).release().perform()  # fmt: skip
    # The move reaches the draft (and the grid redraws) before the resize starts: on a
    # loaded machine a resize begun during the redraw was lost.
    assert wait_for(lambda: "Unsaved" in banner(dash_duo))
    time.sleep(0.5)
    width = dash_duo.driver.find_element(By.ID, "panel-timeseries").size["width"]
    # react-grid-layout puts the resize handle beside the panel, in the grid item.
    handle = dash_duo.driver.find_element(
        By.CSS_SELECTOR, "#panel-timeseries ~ .react-resizable-handle"
    )
    dash_duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", handle)
    ActionChains(dash_duo.driver).click_and_hold(handle).move_by_offset(int(column * 4), 90) \
        .pause(0.3).release().perform()  # fmt: skip
    assert wait_for(
        lambda: dash_duo.driver.find_element(By.ID, "panel-timeseries").size["width"] > width
    )
    time.sleep(0.5)  # the layout callback carries the new size into the draft

    element(dash_duo, "save-message").send_keys("built in the browser")
    element(dash_duo, "save").click()
    assert wait_for(lambda: "Saved version 2" in banner(dash_duo)), banner(dash_duo)
    saved = stored(editor_app, "checkout")
    panel = parse_spec(saved.spec).panels[0]
    assert (saved.version, panel.title, panel.queries[0].metric) == (2, "CPU", "cpu.usage")
    assert panel.grid.x >= 4 and panel.grid.w > 12 and panel.grid.h > 8  # moved and resized

    dash_duo.driver.refresh()
    box = wait_for(lambda: dash_duo.driver.find_element(By.ID, "panel-timeseries"))
    wait_for(
        lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, "#panel-timeseries .js-plotly-plot")
    )
    grid = dash_duo.driver.find_element(By.CSS_SELECTOR, ".react-grid-layout")
    column = grid.size["width"] / 24
    left = box.location["x"] - grid.location["x"]
    assert abs(left / column - panel.grid.x) < 0.6
    assert abs((box.size["width"] + 10) / column - panel.grid.w) < 0.6
    assert "Restored" not in banner(dash_duo) and "Unsaved" not in banner(dash_duo)
    assert (
        dash_duo.driver.find_element(By.CSS_SELECTOR, "#panel-timeseries .panel-title").text
        == "CPU"
    )


def test_an_unsaved_draft_survives_a_reload(dash_duo: DashComposite, editor_app: Flask) -> None:
    start_logged_in(dash_duo, editor_app, "/d/ops/edit")
    wait_for(lambda: clickable(dash_duo, "add-panel")).click()
    wait_for(lambda: clickable(dash_duo, "pe-cancel")).click()
    assert wait_for(lambda: dash_duo.driver.find_elements(By.ID, "panel-timeseries"))
    dash_duo.driver.execute_script("window.onbeforeunload = null;")  # the test leaves, not a user
    dash_duo.driver.refresh()
    assert wait_for(lambda: "Restored your unsaved changes" in banner(dash_duo))
    assert dash_duo.driver.find_elements(By.ID, "panel-timeseries")
    assert stored(editor_app, "ops").version == 1  # nothing reached the database
    dash_duo.driver.find_element(By.CSS_SELECTOR, "#editor-banner button").click()
    assert wait_for(lambda: not dash_duo.driver.find_elements(By.ID, "panel-timeseries"))


IN_VIEW_JS = """
var r = document.getElementById(arguments[0]).getBoundingClientRect();
return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
"""


def test_an_added_panel_is_scrolled_into_view(dash_duo: DashComposite, editor_app: Flask) -> None:
    """Issue 14, item 8: Add puts the panel on top of the grid and the page scrolls to it,
    even from far down a long dashboard."""
    notes = [
        {"id": f"note{i}", "type": "text", "title": f"Note {i}", "options": {"content": "x"},
         "grid": {"x": 0, "y": 10 * i, "w": 24, "h": 10}}
        for i in range(8)
    ]  # fmt: skip
    with editor_app.app_context(), database.transaction() as session:
        dashboards.create_dashboard(
            session, "tall", parse_spec({"title": "Tall", "panels": notes}), "ann"
        )
    start_logged_in(dash_duo, editor_app, "/d/tall/edit")
    driver = dash_duo.driver
    assert wait_for(lambda: element(dash_duo, "panel-note7"))
    driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    assert wait_for(lambda: driver.execute_script("return window.scrollY") > 1000)
    # A script click: Selenium's own would scroll the button (and the grid's top) into view.
    driver.execute_script("arguments[0].click()", element(dash_duo, "add-panel"))
    assert wait_for(lambda: driver.find_elements(By.ID, "panel-timeseries"))
    wait_for(lambda: clickable(dash_duo, "pe-cancel")).click()
    assert wait_for(lambda: driver.execute_script(IN_VIEW_JS, "panel-timeseries"))
    assert not driver.execute_script(IN_VIEW_JS, "panel-note7")  # it did scroll, far up


def test_a_draft_made_on_an_older_version_meets_the_conflict(
    dash_duo: DashComposite, editor_app: Flask
) -> None:
    start_logged_in(dash_duo, editor_app, "/d/ops/edit")
    wait_for(lambda: clickable(dash_duo, "add-panel")).click()
    wait_for(lambda: clickable(dash_duo, "pe-cancel")).click()
    assert wait_for(lambda: "Unsaved" in banner(dash_duo))
    with editor_app.app_context(), database.transaction() as session:  # someone else saves
        dashboards.update_dashboard(session, "ops", parse_spec({"title": "Ops (theirs)"}), 1, "ann")
    dash_duo.driver.execute_script("window.onbeforeunload = null;")
    dash_duo.driver.refresh()
    assert wait_for(lambda: "version 2 has been saved since" in banner(dash_duo)), banner(dash_duo)
    element(dash_duo, "save").click()
    assert wait_for(lambda: "someone saved version 2" in banner(dash_duo)), banner(dash_duo)
    assert stored(editor_app, "ops").title == "Ops (theirs)"


def test_a_second_editor_gets_a_conflict_and_can_save_a_copy(
    dash_duo: DashComposite, editor_app: Flask
) -> None:
    start_logged_in(dash_duo, editor_app, "/d/ops/edit")
    wait_for(lambda: clickable(dash_duo, "add-panel")).click()
    wait_for(lambda: clickable(dash_duo, "pe-cancel")).click()
    with editor_app.app_context(), database.transaction() as session:  # someone else saves
        dashboards.update_dashboard(session, "ops", parse_spec({"title": "Ops (theirs)"}), 1, "ann")
    element(dash_duo, "save").click()
    assert wait_for(lambda: "someone saved version 2" in banner(dash_duo)), banner(dash_duo)
    assert stored(editor_app, "ops").title == "Ops (theirs)"  # nothing overwritten
    copy = next(
        b for b in dash_duo.driver.find_elements(By.CSS_SELECTOR, "#editor-banner button")
        if b.text == "Save mine as a copy"
    )  # fmt: skip
    copy.click()
    assert wait_for(lambda: dash_duo.driver.current_url.endswith("/d/ops-copy/edit"))
    mine = parse_spec(stored(editor_app, "ops-copy").spec)
    assert mine.title == "Ops (copy)" and [p.type for p in mine.panels] == ["timeseries"]
    assert stored(editor_app, "ops").title == "Ops (theirs)"


def test_restoring_an_older_version(dash_duo: DashComposite, editor_app: Flask) -> None:
    with editor_app.app_context(), database.transaction() as session:
        dashboards.update_dashboard(session, "ops", parse_spec({"title": "Ops v2"}), 1, "ann")
    start_logged_in(dash_duo, editor_app, "/d/ops/history")
    wait_for(lambda: "title" in element(dash_duo, "history-diff").text)
    assert "Ops → Ops v2" in element(dash_duo, "history-diff").text.replace("\n", " ")
    element(dash_duo, {"type": "history-restore", "version": 1}).click()
    assert wait_for(lambda: "restored as version 3" in element(dash_duo, "history-message").text)
    current = stored(editor_app, "ops")
    assert (current.version, current.title) == (3, "Ops")


def test_importing_a_bad_file_shows_its_errors(
    dash_duo: DashComposite, editor_app: Flask, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({
        "schema_version": 1, "title": "Imported",
        "panels": [{"id": "p", "type": "timeseries", "grid": {"x": 0, "y": 0, "w": 40, "h": 4},
                    "options": {"unit": "parsecs"}}],
    }))  # fmt: skip
    start_logged_in(dash_duo, editor_app, "/import")
    upload = wait_for(
        lambda: dash_duo.driver.find_element(By.CSS_SELECTOR, "#import-upload input[type=file]")
    )
    upload.send_keys(str(bad))
    assert wait_for(lambda: "parsecs" in element(dash_duo, "import-text").get_attribute("value"))
    element(dash_duo, "import-submit").click()
    errors = wait_for(lambda: element(dash_duo, "import-errors").text)
    assert "Nothing was imported" in errors
    assert "panels.0.timeseries.grid.w" in errors and "panels.0.timeseries.options.unit" in errors
    with editor_app.app_context(), database.transaction() as session:
        assert sorted(d.slug for d in dashboards.list_dashboards(session)) == [
            "ops",
            "service-health",
        ]
