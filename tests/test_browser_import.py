"""Re-importing an exported dashboard asks "replace or copy" instead of doubling it
(headless Chromium, PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from dash.testing.composite import DashComposite
from flask import Flask
from selenium.webdriver.common.by import By

from dashapp.core.spec import parse_spec
from dashapp.extensions import database
from db import dashboards
from tests.browser import log_in, wait_for
from tests.test_browser_editor import PASSWORD, editor_app, stored

pytestmark = pytest.mark.browser
__all__ = ["editor_app"]

EXPORTED = {"schema_version": 2, "title": "Ops", "panels": [
    {"id": "notes", "type": "text", "options": {"content": "imported"}}]}  # fmt: skip


def import_text(dash_duo: DashComposite) -> None:
    dash_duo.driver.get(dash_duo.server_url + "/import")
    box = wait_for(lambda: dash_duo.driver.find_element(By.ID, "import-text"))
    dash_duo.driver.execute_script("arguments[0].focus();", box)
    box.send_keys(json.dumps(EXPORTED))
    dash_duo.driver.find_element(By.ID, "import-submit").click()


def choice(dash_duo: DashComposite, label: str) -> object:
    return wait_for(lambda: next(
        b for b in dash_duo.driver.find_elements(By.CSS_SELECTOR, ".import-choice button")
        if b.text == label))  # fmt: skip


def test_reimporting_asks_replace_or_copy(dash_duo: DashComposite, editor_app: Flask) -> None:
    dash_duo.start_server(editor_app.extensions["dashapp.dash"])
    dash_duo.driver.set_window_size(1600, 1000)
    log_in(dash_duo, "ed", PASSWORD, "/")
    import_text(dash_duo)
    choice(dash_duo, "Import a copy").click()
    assert wait_for(lambda: dash_duo.driver.current_url.endswith("/d/ops-2"))
    assert parse_spec(stored(editor_app, "ops-2").spec).panels[0].id == "notes"

    import_text(dash_duo)
    choice(dash_duo, "Replace it").click()
    assert wait_for(lambda: dash_duo.driver.current_url.endswith("/d/ops"))
    replaced = stored(editor_app, "ops")
    assert replaced.version == 2 and parse_spec(replaced.spec).panels[0].id == "notes"
    with editor_app.app_context(), database.transaction() as session:
        slugs = sorted(d.slug for d in dashboards.list_dashboards(session))
    assert slugs == ["ops", "ops-2", "service-health"]
