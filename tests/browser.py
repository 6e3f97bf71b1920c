"""Helpers for browser tests: waiting, logging in, screenshots at two widths, and the
no-sideways-scroll check every page must pass on a phone."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dash.testing.composite import DashComposite
from flask import Flask
from selenium.webdriver.common.by import By

SCREENSHOTS = Path(__file__).parent / "screenshots"
DESKTOP = (1600, 1000)
PHONE = (390, 844)

# The page is wider than the window: something makes a phone scroll sideways.
OVERFLOW_JS = """
var root = document.documentElement;
var wide = Array.from(document.querySelectorAll('body *')).filter(function (e) {
  var r = e.getBoundingClientRect();
  return r.width > 0 && r.right > root.clientWidth + 1 && getComputedStyle(e).position !== 'fixed';
}).slice(0, 5).map(function (e) { return (e.id || e.className || e.tagName).toString(); });
return {scroll: root.scrollWidth, client: root.clientWidth, wide: wide};
"""


def wait_for(condition: Callable[[], Any], timeout: float = 45.0) -> Any:
    """The condition's first truthy value, polling (None/falsy after ``timeout``)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except Exception:  # the element is being re-rendered
            value = None
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def log_in(dash_duo: DashComposite, username: str, password: str, path: str = "/") -> None:
    """Log in through the form, then open ``path``."""
    driver = dash_duo.driver
    driver.get(dash_duo.server_url + "/login")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "login-submit").click()
    wait_for(lambda: "/login" not in driver.current_url)
    driver.get(dash_duo.server_url + path)


def start(dash_duo: DashComposite, app: Flask, path: str = "/") -> None:
    """Serve ``app`` and open ``path`` at desktop size."""
    dash_duo.start_server(app.extensions["dashapp.dash"])
    dash_duo.driver.set_window_size(*DESKTOP)
    dash_duo.driver.get(dash_duo.server_url + path)


def set_width(dash_duo: DashComposite, size: tuple[int, int]) -> None:
    """Resize the window so the page's viewport is ``size`` (chrome's frame excluded)."""
    driver = dash_duo.driver
    driver.set_window_size(*size)
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight];")
    driver.set_window_size(size[0] * 2 - inner[0], size[1] * 2 - inner[1])


def overflow(dash_duo: DashComposite) -> dict[str, Any]:
    """How far the page is wider than the window, and a few elements sticking out."""
    return dash_duo.driver.execute_script(OVERFLOW_JS)


def screenshots(dash_duo: DashComposite, name: str, ready: Callable[[], Any]) -> dict[str, Any]:
    """Write ``name-desktop.png`` and ``name-phone.png`` (full page height) once ``ready``
    holds at each width; returns the phone width's overflow check."""
    SCREENSHOTS.mkdir(exist_ok=True)
    result: dict[str, Any] = {}
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        set_width(dash_duo, size)
        wait_for(ready)
        time.sleep(0.5)  # let plotly's resize settle
        if label == "phone":  # what a phone shows first, at its real size
            dash_duo.driver.save_screenshot(str(SCREENSHOTS / f"{name}-phone-top.png"))
        height = dash_duo.driver.execute_script("return document.documentElement.scrollHeight;")
        set_width(dash_duo, (size[0], min(max(size[1], height), 6000)))
        time.sleep(0.3)
        dash_duo.driver.save_screenshot(str(SCREENSHOTS / f"{name}-{label}.png"))
        if label == "phone":
            set_width(dash_duo, size)
            result = overflow(dash_duo)
    set_width(dash_duo, DESKTOP)
    return result
