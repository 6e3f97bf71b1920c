"""The panel editor keeps work and refuses nonsense, in headless Chromium (issue 28,
items 5 and 8): Esc closes the innermost open thing, leaving with changes asks first,
and an inverted axis range or a colour that is no colour is refused next to its field."""

from __future__ import annotations

from typing import Any

import pytest
from dash.testing.composite import DashComposite
from flask import Flask
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dashapp.auth import hash_password
from dashapp.commands.seed import seed_demo
from dashapp.extensions import database
from db import users
from tests.browser import screenshots, wait_for
from tests.test_browser_editor import element, start_logged_in

pytestmark = pytest.mark.browser
PASSWORD = "editor-password"


@pytest.fixture(scope="module")
def editor_database(postgresql_database: str) -> str:
    """Demo metrics and dashboard, and an editor called ed."""
    from tests.conftest import empty_tables, make_app

    empty_tables(postgresql_database)
    app = make_app(postgresql_database)
    with app.app_context():
        seed_demo(days=0.1)
        with database.transaction() as session:
            users.create_user(session, "ed", hash_password(PASSWORD), "editor")
    app.extensions["dashapp.db"].engine.dispose()
    return postgresql_database


@pytest.fixture
def editor_app(chromium: str, editor_database: str) -> Flask:
    from tests.conftest import make_app

    return make_app(editor_database)


def is_open(dash_duo: DashComposite, dialog: str) -> bool:
    return "hidden" not in element(dash_duo, dialog).get_attribute("class")


def open_editor(dash_duo: DashComposite, panel: str) -> None:
    edit = wait_for(lambda: element(dash_duo, {"panel": panel, "type": "panel-edit"}))
    dash_duo.driver.execute_script("arguments[0].click();", edit)  # shown on hover
    assert wait_for(lambda: is_open(dash_duo, "pe-modal"))
    wait_for(lambda: element(dash_duo, {"name": "title", "type": "pe-field"}))


def retype(field: Any, text: str) -> None:
    field.send_keys(Keys.CONTROL, "a")  # clear() skips React's change events
    field.send_keys(text)


def escape(dash_duo: DashComposite) -> None:
    ActionChains(dash_duo.driver).send_keys(Keys.ESCAPE).perform()


def panel_title(dash_duo: DashComposite, panel: str) -> str:
    return dash_duo.driver.find_element(By.CSS_SELECTOR, f"#panel-{panel} .panel-title").text


def test_esc_closes_the_innermost_thing_and_leaving_with_changes_asks(
    dash_duo: DashComposite, editor_app: Flask
) -> None:
    """Issue 28, item 5: rename a panel, open Group by, press Esc to close the list: the
    whole editor closed and the rename was lost, without a word."""
    start_logged_in(dash_duo, editor_app, "/d/service-health/edit")
    open_editor(dash_duo, "cpu")
    title = element(dash_duo, {"name": "title", "type": "pe-field"})
    retype(title, "CPU, renamed")
    element(dash_duo, {"index": 0, "name": "group_by", "type": "pe-query"}).click()
    assert wait_for(
        lambda: dash_duo.driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-content")
    )
    escape(dash_duo)  # the list closes, nothing else
    assert wait_for(
        lambda: not dash_duo.driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-content")
    )
    assert is_open(dash_duo, "pe-modal") and not is_open(dash_duo, "pe-confirm")
    assert element(dash_duo, {"name": "title", "type": "pe-field"}).get_attribute("value") == (
        "CPU, renamed"
    )

    escape(dash_duo)  # now Esc leaves the editor, which holds a change: it asks
    assert wait_for(lambda: is_open(dash_duo, "pe-confirm"))
    assert "Discard your changes" in element(dash_duo, "pe-confirm").text
    screenshots(dash_duo, "panel-editor-confirm", lambda: is_open(dash_duo, "pe-confirm"))
    escape(dash_duo)  # the question is the innermost thing: Esc keeps editing
    assert wait_for(lambda: not is_open(dash_duo, "pe-confirm"))
    assert is_open(dash_duo, "pe-modal")
    assert element(dash_duo, {"name": "title", "type": "pe-field"}).get_attribute("value") == (
        "CPU, renamed"
    )

    element(dash_duo, "pe-cancel").click()
    assert wait_for(lambda: is_open(dash_duo, "pe-confirm"))
    element(dash_duo, "pe-discard").click()
    assert wait_for(lambda: not is_open(dash_duo, "pe-modal"))
    assert panel_title(dash_duo, "cpu") == "CPU usage by host"

    open_editor(dash_duo, "cpu")  # nothing changed: Esc just closes
    escape(dash_duo)
    assert wait_for(lambda: not is_open(dash_duo, "pe-modal"))
    assert not is_open(dash_duo, "pe-confirm")


def option(dash_duo: DashComposite, name: str) -> Any:
    return element(dash_duo, {"name": name, "type": "pe-option"})


def message(dash_duo: DashComposite, key: str) -> str:
    return element(dash_duo, {"name": key, "type": "pe-error"}).text


def test_the_editor_refuses_an_inverted_range_and_a_colour_that_is_no_colour(
    dash_duo: DashComposite, editor_app: Flask
) -> None:
    """Issue 28, item 8: Y min 100 with Y max 10, and web-1=notacolor, both saved silently
    (the chart drawn upside down, web-1 black)."""
    start_logged_in(dash_duo, editor_app, "/d/service-health/edit")
    open_editor(dash_duo, "cpu")
    retype(option(dash_duo, "y_min"), "100")
    retype(option(dash_duo, "y_max"), "10")
    retype(option(dash_duo, "colors"), "web-1=notacolor")
    element(dash_duo, "pe-apply").click()
    assert wait_for(lambda: message(dash_duo, "option:y_max"))
    assert message(dash_duo, "option:y_max") == "Y max must be above Y min (100)"
    assert message(dash_duo, "option:colors").startswith("'notacolor' is not a colour")
    assert is_open(dash_duo, "pe-modal")  # not applied: nothing reached the draft
    assert "Unsaved" not in element(dash_duo, "editor-banner").text
    wide = screenshots(dash_duo, "panel-editor", lambda: message(dash_duo, "option:colors"))
    assert wide["scroll"] <= wide["client"], wide  # no sideways scroll on a phone

    retype(option(dash_duo, "y_max"), "150")
    retype(option(dash_duo, "colors"), "web-1=teal")
    assert wait_for(lambda: not message(dash_duo, "option:colors"))
    element(dash_duo, "pe-apply").click()
    assert wait_for(lambda: not is_open(dash_duo, "pe-modal"))
    assert wait_for(lambda: "Unsaved" in element(dash_duo, "editor-banner").text)
