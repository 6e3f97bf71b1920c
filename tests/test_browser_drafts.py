"""Unsaved edits in headless Chromium on PostgreSQL: restored with a notice after a
reload or after leaving Edit and coming back; saving nothing is refused."""

from __future__ import annotations

import pytest
from dash.testing.composite import DashComposite
from flask import Flask
from selenium.webdriver.common.by import By

from dashapp.core.spec import parse_spec
from tests.browser import log_in, screenshots, wait_for
from tests.test_browser_editor import PASSWORD, banner, clickable, editor_app, element, stored

pytestmark = pytest.mark.browser
__all__ = ["editor_app"]  # the fixture, shared with the editor's tests

ABOUT = "panel-about"


def remove_about_panel(dash_duo: DashComposite) -> None:
    """Remove the demo's text panel in the editor (an unsaved change)."""
    key = {"panel": "about", "type": "panel-remove"}
    wait_for(lambda: clickable(dash_duo, key)).click()
    assert wait_for(lambda: not dash_duo.driver.find_elements(By.ID, ABOUT))
    assert wait_for(lambda: "Unsaved" in banner(dash_duo))


def open_editor(dash_duo: DashComposite, app: Flask) -> None:
    dash_duo.start_server(app.extensions["dashapp.dash"])
    dash_duo.driver.set_window_size(1600, 1000)
    log_in(dash_duo, "ed", PASSWORD, "/d/service-health/edit")
    wait_for(lambda: dash_duo.driver.find_elements(By.ID, ABOUT))


def test_leaving_edit_and_coming_back_restores_the_draft(
    dash_duo: DashComposite, editor_app: Flask
) -> None:
    open_editor(dash_duo, editor_app)
    remove_about_panel(dash_duo)
    driver = dash_duo.driver
    driver.execute_script("window.onbeforeunload = null;")  # the test leaves, not a user
    driver.find_element(By.ID, "edit-done").click()
    edit = wait_for(lambda: driver.find_element(By.ID, "edit-link"))
    assert wait_for(lambda: "unsaved changes" in driver.find_element(By.ID, "draft-notice").text)
    edit.click()
    assert wait_for(lambda: "Restored your unsaved changes" in banner(dash_duo)), banner(dash_duo)
    assert not driver.find_elements(By.ID, ABOUT)
    driver.execute_script("window.onbeforeunload = null;")
    driver.refresh()
    assert wait_for(lambda: "Restored your unsaved changes" in banner(dash_duo)), banner(dash_duo)
    assert not driver.find_elements(By.ID, ABOUT)
    assert stored(editor_app, "service-health").version == 1


def test_saving_without_a_change_is_refused(dash_duo: DashComposite, editor_app: Flask) -> None:
    open_editor(dash_duo, editor_app)
    wait_for(lambda: clickable(dash_duo, "save")).click()
    assert wait_for(lambda: "Nothing to save" in banner(dash_duo)), banner(dash_duo)
    assert stored(editor_app, "service-health").version == 1


TOP_JS = "return document.getElementById(arguments[0]).getBoundingClientRect().top + scrollY;"


def test_removing_leaves_no_gap_and_new_panels_appear_on_top(
    dash_duo: DashComposite, editor_app: Flask
) -> None:
    open_editor(dash_duo, editor_app)
    driver = dash_duo.driver
    top = lambda panel: driver.execute_script(TOP_JS, panel)  # noqa: E731
    wait_for(lambda: driver.find_elements(By.ID, "panel-memory"))
    memory_before = top("panel-memory")
    for panel in ("cpu", "requests"):  # the left column's charts
        wait_for(lambda p=panel: element(dash_duo, {"panel": p, "type": "panel-remove"})).click()
        assert wait_for(lambda p=panel: not driver.find_elements(By.ID, f"panel-{p}"))
    # What was below them moved up into the gap.
    assert wait_for(lambda: top("panel-rps-by-host") < memory_before + 400)
    wait_for(lambda: clickable(dash_duo, "add-panel")).click()
    wait_for(lambda: clickable(dash_duo, "pe-cancel")).click()
    new = wait_for(lambda: driver.find_elements(By.ID, "panel-timeseries"))
    assert new
    others = [p.get_attribute("id") for p in driver.find_elements(By.CSS_SELECTOR, ".panel")]
    assert all(top("panel-timeseries") <= top(p) for p in others)  # in the top row
    element(dash_duo, "save").click()
    assert wait_for(lambda: "Saved version 2" in banner(dash_duo)), banner(dash_duo)
    saved = {p.id: p.grid for p in parse_spec(stored(editor_app, "service-health").spec).panels}
    assert saved["timeseries"].y == 0
    bottoms = {(g.x, g.y + g.h) for g in saved.values()}
    assert all(g.y == 0 or any(b[1] == g.y for b in bottoms) for g in saved.values())


def test_the_panel_editor_speaks_plainly_and_only_after_the_user_acts(
    dash_duo: DashComposite, editor_app: Flask
) -> None:
    dash_duo.start_server(editor_app.extensions["dashapp.dash"])
    dash_duo.driver.set_window_size(1600, 1000)
    log_in(dash_duo, "ed", PASSWORD, "/d/ops/edit")
    driver = dash_duo.driver
    wait_for(lambda: clickable(dash_duo, "add-panel")).click()
    preview = wait_for(lambda: element(dash_duo, "pe-preview"))
    assert wait_for(lambda: "Pick a metric to see a preview" in preview.text), preview.text

    def errors() -> list[str]:
        fields = driver.find_elements(By.CSS_SELECTOR, "#pe-modal .field-error")
        return [e.text for e in fields if e.text]

    assert errors() == []  # nothing red before the user does anything
    card = driver.find_element(By.CSS_SELECTOR, ".modal-card.panel-editor")
    assert card.size["width"] >= 1500  # a full page, not a cramped pop-up
    element(dash_duo, "pe-apply").click()
    assert wait_for(lambda: "Pick a metric." in errors()), errors()
    assert not any("should" in e for e in errors())
    screenshots(dash_duo, "panel-editor", lambda: True)
