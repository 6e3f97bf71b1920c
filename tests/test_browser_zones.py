"""Time zones in headless Chromium running in New York (its ``TZ``), on PostgreSQL:
one zone per view, shown by the picker, used by the boxes, the axes and typed times."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dash.testing.composite import DashComposite
from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser import start, wait_for
from tests.test_browser_dashboard import all_drawn, panels
from tests.test_browser_links import links_app, links_database

pytestmark = pytest.mark.browser
__all__ = ["links_app", "links_database"]  # fixtures shared with the links tests
NEW_YORK = ZoneInfo("America/New_York")
AXIS_JS = "return document.querySelector('#panel-cpu .js-plotly-plot')._fullLayout.xaxis.range;"


@pytest.fixture
def in_new_york() -> Iterator[None]:
    """Chromium started while this is active runs on New York's clock (listed before
    dash_duo, so the browser starts inside it)."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def last_full_hour() -> tuple[datetime, datetime]:
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return end - timedelta(hours=1), end


def wall(moment: datetime, zone: ZoneInfo | None = NEW_YORK) -> str:
    return moment.astimezone(zone or UTC).strftime("%Y-%m-%d %H:%M")


def zone_shown(dash_duo: DashComposite) -> str:
    return dash_duo.driver.find_element(By.CSS_SELECTOR, "#time-zone").text


def shown_from(dash_duo: DashComposite) -> str:
    return dash_duo.driver.find_element(By.ID, "time-from").get_attribute("value")


def test_a_browser_time_dashboard_shows_new_york_everywhere(
    in_new_york: None, dash_duo: DashComposite, links_app: Flask
) -> None:
    start_at, end_at = last_full_hour()
    start(dash_duo, links_app, f"/d/service-health?from={ms(start_at)}&to={ms(end_at)}")
    assert dash_duo.driver.execute_script("return new Date().getTimezoneOffset();") in (240, 300)
    assert wait_for(lambda: all_drawn(dash_duo)), panels(dash_duo)
    assert "America/New_York (UTC-0" in zone_shown(dash_duo)
    assert shown_from(dash_duo).startswith(wall(start_at))  # the box, on New York's clock
    axis = dash_duo.driver.execute_script(AXIS_JS)
    assert str(axis[0]).startswith(wall(start_at)), axis  # the axis, too
    assert str(axis[1]).startswith(wall(end_at)), axis

    # Typing 10:00-11:00 means 10:00-11:00 in New York, and the axis shows just that.
    day = (datetime.now(NEW_YORK) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    typed_from, typed_to = day - timedelta(hours=1), day
    for box, moment in (("time-from", typed_from), ("time-to", typed_to)):
        field = dash_duo.driver.find_element(By.ID, box)
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(moment.strftime("%Y-%m-%d %H:%M"))
    field.send_keys(Keys.ENTER)
    assert wait_for(lambda: f"from={ms(typed_from)}" in dash_duo.driver.current_url), (
        dash_duo.driver.current_url,
        shown_from(dash_duo),
        typed_from,
    )
    assert f"to={ms(typed_to)}" in dash_duo.driver.current_url
    assert wait_for(
        lambda: str(dash_duo.driver.execute_script(AXIS_JS)[0]).startswith(wall(typed_from))
    ), dash_duo.driver.execute_script(AXIS_JS)


def test_the_url_picks_the_zone_and_today_starts_at_local_midnight(
    in_new_york: None, dash_duo: DashComposite, links_app: Flask
) -> None:
    start_at, end_at = last_full_hour()
    start(dash_duo, links_app, f"/d/service-health?from={ms(start_at)}&to={ms(end_at)}&tz=UTC")
    assert wait_for(lambda: all_drawn(dash_duo)), panels(dash_duo)
    assert zone_shown(dash_duo).startswith("UTC")
    assert shown_from(dash_duo).startswith(wall(start_at, None))
    assert str(dash_duo.driver.execute_script(AXIS_JS)[0]).startswith(wall(start_at, None))

    dash_duo.driver.get(f"{dash_duo.server_url}/d/service-health?from=now/d&to=now")
    assert wait_for(lambda: all_drawn(dash_duo)), panels(dash_duo)
    assert "Today" in dash_duo.find_element("#time-preset").text
    midnight = datetime.now(NEW_YORK).replace(hour=0, minute=0, second=0, microsecond=0)
    assert str(dash_duo.driver.execute_script(AXIS_JS)[0]).startswith(wall(midnight))
