"""Issue 10 items 2 and 4 in headless Chromium: every page runs under the Content-Security-
Policy without a single violation, and a stored-XSS corpus (titles, text panels, series
sources, labels, variables, URL parameters) executes nothing and renders no link."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from dash.testing.composite import DashComposite
from flask import Flask
from selenium.webdriver.common.by import By

from dashapp.auth import hash_password
from dashapp.commands.ingest import ingest
from dashapp.commands.seed import seed_demo
from dashapp.core.permissions import Actor
from dashapp.core.points import parse_points
from dashapp.core.spec import parse_spec
from dashapp.extensions import database
from db import dashboards, users
from tests.conftest import empty_tables, make_app

pytestmark = pytest.mark.browser
PASSWORD = "editor-password"
EVIL = "evil.example"
CORPUS = [
    f'<a href="https://{EVIL}/">Session expired</a>',
    '<img src=x onerror="window.__xss=1">',
    "<script>window.__xss=1</script>",
    '"><svg onload="window.__xss=1">',
    "javascript:window.__xss=1",
    "%{y}<b>bold</b>&amp;",
]
TEXT_PANEL = "\n\n".join(
    [
        *CORPUS,
        "[a markdown link](javascript:window.__xss=1)",
        f'<iframe src="https://{EVIL}/"></iframe>',
    ]
)


def xss_spec() -> dict:
    query = {"metric": "xss.metric", "source": "$src", "group_by": ["source"]}
    by_label = {"metric": "xss.metric", "group_by": ["tag"]}
    return {
        "title": CORPUS[0],
        "description": CORPUS[1],
        "tags": ["xss"],
        "variables": [
            {"name": "src", "label": CORPUS[2], "metric": "xss.metric", "key": "source"},
        ],
        "panels": [
            {"id": "lines", "title": CORPUS[0], "type": "timeseries", "queries": [query],
             "grid": {"x": 0, "y": 0, "w": 12, "h": 8}, "description": CORPUS[1]},
            {"id": "bars", "title": CORPUS[1], "type": "bar", "queries": [by_label],
             "grid": {"x": 12, "y": 0, "w": 12, "h": 8}},
            {"id": "table", "title": CORPUS[2], "type": "table", "queries": [by_label],
             "grid": {"x": 0, "y": 8, "w": 12, "h": 8}},
            {"id": "text", "title": CORPUS[3], "type": "text",
             "grid": {"x": 12, "y": 8, "w": 12, "h": 8},
             "options": {"content": TEXT_PANEL}},
        ],
    }  # fmt: skip


@pytest.fixture(scope="module")
def security_database(postgresql_database: str) -> Iterator[str]:
    """Demo data, an "xss" dashboard and series whose sources and labels are the corpus."""
    empty_tables(postgresql_database)
    app = make_app(postgresql_database)
    now = datetime.now(UTC)
    points = [
        {"name": "xss.metric", "source": payload, "value": float(i + j),
         "labels": {"tag": payload}, "timestamp": (now - timedelta(minutes=j)).isoformat()}
        for i, payload in enumerate(CORPUS) for j in range(30)
    ]  # fmt: skip
    with app.app_context():
        seed_demo(days=0.05)
        ingest(Actor.system(), parse_points(points))
        with database.transaction() as session:
            users.create_user(session, "ed", hash_password(PASSWORD), "editor")
            dashboards.create_dashboard(session, "xss", parse_spec(xss_spec()), "ed")
    app.extensions["dashapp.db"].engine.dispose()
    yield postgresql_database
    empty_tables(postgresql_database)


@pytest.fixture
def security_app(chromium: str, security_database: str) -> Flask:
    return make_app(security_database)  # closed after the browser stops, see conftest


PAGE_STATE_JS = """
var links = Array.from(document.querySelectorAll('a, [*|href]')).map(function (a) {
  return a.getAttribute('href') || a.getAttribute('xlink:href') || '';
});
var plots = Array.from(document.querySelectorAll('.js-plotly-plot'));
return {
  xss: window.__xss === 1,
  evilLinks: links.filter(function (h) { return h.indexOf('evil') >= 0 ||
                                               h.indexOf('javascript:window') >= 0; }),
  svgLinks: plots.reduce(function (n, p) { return n + p.querySelectorAll('svg a').length; }, 0),
  plotsDrawn: plots.filter(function (p) { return p.data && p.data.length; }).length,
  frames: document.querySelectorAll('iframe').length,
  text: document.body ? document.body.innerText : ''
};
"""


def settle(dash_duo: DashComposite, seconds: float = 2.5) -> dict:
    """Let callbacks finish (no loading marker for a moment), then read the page."""
    deadline = time.monotonic() + 30
    quiet_since = None
    while time.monotonic() < deadline:
        busy = dash_duo.driver.execute_script(
            "return document.querySelectorAll('[data-dash-is-loading]').length"
        )
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > seconds:
            break
        time.sleep(0.2)
    return dash_duo.driver.execute_script(PAGE_STATE_JS)


def csp_violations(dash_duo: DashComposite) -> list[str]:
    """Console errors about the policy (Chromium logs each refused script, style, eval)."""
    messages = [entry["message"] for entry in dash_duo.driver.get_log("browser")]
    return [m for m in messages if "Content Security Policy" in m or "Refused to" in m]


def log_in(dash_duo: DashComposite) -> None:
    driver = dash_duo.driver
    driver.get(dash_duo.server_url + "/login")
    driver.find_element(By.ID, "username").send_keys("ed")
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "login-submit").click()
    deadline = time.monotonic() + 20
    while "/login" in driver.current_url and time.monotonic() < deadline:
        time.sleep(0.2)


PAGES = [
    "/",
    "/d/service-health",
    "/d/xss",
    "/d/xss?var-src=" + quote(CORPUS[0]) + "&from=" + quote(CORPUS[1]) + "&to=now",
    "/d/xss?var-src=" + quote(CORPUS[1]) + "&refresh=" + quote(CORPUS[2]),
    "/d/xss/edit",
    "/d/xss/history",
    "/new",
    "/import",
    "/no-such-page",
    "/api/docs",
]


def test_every_page_runs_under_the_csp_and_the_corpus_stays_text(
    dash_duo: DashComposite, security_app: Flask
) -> None:
    dash_duo.start_server(security_app.extensions["dashapp.dash"])
    dash_duo.driver.set_window_size(1400, 1000)
    dash_duo.driver.get(dash_duo.server_url + "/login")
    time.sleep(1)
    assert csp_violations(dash_duo) == [], "/login"
    log_in(dash_duo)
    problems = {}
    for path in PAGES:
        dash_duo.driver.get(dash_duo.server_url + path)
        state = settle(dash_duo)
        violations = csp_violations(dash_duo)
        found = {
            "violations": violations,
            "xss": state["xss"],
            "evil links": state["evilLinks"],
            "links in charts": state["svgLinks"],
            "frames": state["frames"],
        }
        if any(found.values()):
            problems[path] = found
    assert problems == {}


def test_the_corpus_reads_as_written(dash_duo: DashComposite, security_app: Flask) -> None:
    dash_duo.start_server(security_app.extensions["dashapp.dash"])
    dash_duo.driver.set_window_size(1400, 1000)
    dash_duo.driver.get(dash_duo.server_url + "/d/xss")
    deadline = time.monotonic() + 45
    state = settle(dash_duo)
    while state["plotsDrawn"] < 2 and time.monotonic() < deadline:
        state = settle(dash_duo, 0.5)
    assert state["plotsDrawn"] >= 2, state
    names = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.js-plotly-plot .legendtext'))"
        ".map(function (t) { return t.textContent; });"
    )
    assert CORPUS[0] in names  # the markup shows as characters, not as a link
    assert CORPUS[0] in state["text"]  # the title
    assert not state["xss"] and not state["evilLinks"]
    assert csp_violations(dash_duo) == []


def test_webgl_charts_run_under_the_csp(dash_duo: DashComposite, security_app: Flask) -> None:
    # Charts with many points switch to WebGL (scattergl), which compiles its shaders
    # at run time: draw one on a dashboard page, under the page's policy.
    dash_duo.start_server(security_app.extensions["dashapp.dash"])
    dash_duo.driver.get(dash_duo.server_url + "/d/service-health")
    settle(dash_duo)
    drawn = dash_duo.driver.execute_async_script(
        """
        var done = arguments[arguments.length - 1];
        var div = document.createElement('div');
        div.style.width = '400px'; div.style.height = '300px';
        document.body.appendChild(div);
        window.Plotly.newPlot(div, [{type: 'scattergl', mode: 'lines',
                                     x: [1, 2, 3], y: [3, 1, 2]}])
          .then(function () { done(div.querySelectorAll('canvas').length); },
                function (error) { done('error: ' + error); });
        """
    )
    time.sleep(1)
    assert drawn and not isinstance(drawn, str), drawn
    assert csp_violations(dash_duo) == []
