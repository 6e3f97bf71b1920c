"""Annotations in headless Chromium on PostgreSQL: events from the API show on the
time-series panels, filtered by tag; an editor marks one by clicking a chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dash.testing.composite import DashComposite
from flask import Flask
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from dashapp.extensions import database
from db import annotations
from tests.browser import log_in, wait_for
from tests.conftest import bearer
from tests.test_browser_editor import PASSWORD, editor_app

pytestmark = pytest.mark.browser
__all__ = ["editor_app"]  # the editor tests' fixture: demo metrics and an editor, ed

MARKS_JS = """
var plot = document.querySelector('#panel-cpu .js-plotly-plot');
if (!plot || !plot.layout) { return null; }
return (plot.layout.annotations || []).map(function (a) { return a.hovertext; });
"""


def marks(dash_duo: DashComposite) -> list[str] | None:
    return dash_duo.driver.execute_script(MARKS_JS)


def annotate(app: Flask, minutes_ago: int, text: str, tag: str) -> None:
    moment = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    response = app.test_client().post(
        "/api/v1/annotations", headers=bearer(app, "annotate", name=f"ci-{tag}"),
        json={"time": moment.isoformat(), "text": text, "tags": [tag],
              "dashboard": "service-health"},
    )  # fmt: skip
    assert response.status_code == 201, response.get_json()


def test_annotations_show_filter_and_can_be_added_by_clicking(
    dash_duo: DashComposite, editor_app: Flask
) -> None:
    annotate(editor_app, 30, "deploy v42", "deploy")
    annotate(editor_app, 20, "pager went off", "incident")
    dash_duo.start_server(editor_app.extensions["dashapp.dash"])
    dash_duo.driver.set_window_size(1600, 1000)
    log_in(dash_duo, "ed", PASSWORD, "/d/service-health?from=now-1h&to=now")
    shown = wait_for(lambda: (m := marks(dash_duo)) and len(m) == 2 and m)
    assert shown == ["deploy v42 [deploy]", "pager went off [incident]"], marks(dash_duo)

    dash_duo.select_dcc_dropdown("#annotation-tags", value="incident")
    assert wait_for(lambda: marks(dash_duo) == ["pager went off [incident]"]), marks(dash_duo)

    drag = dash_duo.find_element("#panel-cpu .nsewdrag")
    ActionChains(dash_duo.driver).move_to_element_with_offset(
        drag, drag.size["width"] // 2, drag.size["height"] // 2
    ).click().perform()
    modal = dash_duo.driver.find_element(By.ID, "annotate-modal")
    assert wait_for(lambda: "hidden" not in modal.get_attribute("class"))
    dash_duo.find_element("#annotate-text").send_keys("rolled back")
    dash_duo.find_element("#annotate-tags").send_keys("incident")
    dash_duo.find_element("#annotate-save").click()
    assert wait_for(lambda: "hidden" in modal.get_attribute("class"))
    assert wait_for(lambda: "rolled back [incident]" in (marks(dash_duo) or [])), marks(dash_duo)
    with editor_app.app_context(), database.transaction() as session:
        stored: list[Any] = annotations.list_annotations(
            session, "service-health", datetime.now(UTC) - timedelta(hours=2), datetime.now(UTC)
        )
    added = next(a for a in stored if a.text == "rolled back")
    assert added.created_by == "ed" and added.tags == ["incident"]
    assert datetime.now(UTC) - timedelta(minutes=45) < added.starts_at < datetime.now(UTC)
