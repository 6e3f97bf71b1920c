"""An admin runs the team from the browser (headless Chromium, PostgreSQL): people and
service tokens, with the same commands the CLI uses."""

from __future__ import annotations

import json

import pytest
from dash.testing.composite import DashComposite
from flask import Flask
from selenium.webdriver.common.by import By

from dashapp.auth import hash_password
from dashapp.extensions import database
from db import tokens, users
from tests.browser import log_in, wait_for
from tests.conftest import empty_tables, make_app

pytestmark = pytest.mark.browser
PASSWORD = "admin-password"


@pytest.fixture
def admin_app(chromium: str, postgresql_database: str) -> Flask:
    empty_tables(postgresql_database)
    app = make_app(postgresql_database)
    with app.app_context(), database.transaction() as session:
        users.create_user(session, "ada", hash_password(PASSWORD), "admin")
    return app


def by_id(dash_duo: DashComposite, component: str | dict) -> object:
    if isinstance(component, dict):
        key = json.dumps(component, sort_keys=True, separators=(",", ":"))
        return dash_duo.driver.find_element(By.CSS_SELECTOR, f"[id='{key}']")
    return dash_duo.driver.find_element(By.ID, component)


def text_of(dash_duo: DashComposite, component: str) -> str:
    return dash_duo.driver.find_element(By.ID, component).text


def user_row(app: Flask, name: str):  # type: ignore[no-untyped-def]
    with app.app_context(), database.transaction() as session:
        found = users.credentials(session, name)
    return found.user if found else None


def test_an_admin_manages_people_and_tokens_in_the_browser(
    dash_duo: DashComposite, admin_app: Flask
) -> None:
    dash_duo.start_server(admin_app.extensions["dashapp.dash"])
    dash_duo.driver.set_window_size(1600, 1000)
    log_in(dash_duo, "ada", PASSWORD, "/")
    wait_for(lambda: dash_duo.driver.find_element(By.LINK_TEXT, "Admin")).click()
    wait_for(lambda: by_id(dash_duo, "admin-new-user")).send_keys("bob")
    by_id(dash_duo, "admin-new-password").send_keys("bob-password")
    by_id(dash_duo, "admin-add-user").click()
    assert wait_for(lambda: "Added bob" in text_of(dash_duo, "admin-message"))
    assert user_row(admin_app, "bob").role == "viewer"

    role = by_id(dash_duo, {"type": "admin-user-role", "user": "bob"})
    dash_duo.select_dcc_dropdown(role, value="editor")
    assert wait_for(lambda: "bob is now editor" in text_of(dash_duo, "admin-message"))
    assert user_row(admin_app, "bob").role == "editor"
    by_id(dash_duo, {"type": "admin-user-active", "user": "bob"}).click()
    assert wait_for(lambda: "bob is disabled" in text_of(dash_duo, "admin-message"))
    assert not user_row(admin_app, "bob").active

    by_id(dash_duo, "admin-token-name").send_keys("telegraf")
    by_id(dash_duo, "admin-add-token").click()
    secret = wait_for(lambda: text_of(dash_duo, "admin-token-secret"))
    assert secret.startswith("dsh_")
    point = {"name": "cpu", "source": "laptop", "value": 1}
    client = admin_app.test_client()
    pushed = client.post("/api/v1/metrics", json=point,
                         headers={"Authorization": f"Bearer {secret}"})  # fmt: skip
    assert pushed.status_code == 201
    dash_duo.driver.refresh()
    table = wait_for(lambda: text_of(dash_duo, "admin-tokens"))
    assert "telegraf" in table and "never" not in table.split("telegraf")[1].split("\n")[0]
    with admin_app.app_context(), database.transaction() as session:
        prefix = tokens.list_tokens(session)[0].prefix
    wait_for(lambda: by_id(dash_duo, {"type": "admin-token-revoke", "prefix": prefix})).click()
    assert wait_for(lambda: "Revoked" in text_of(dash_duo, "admin-message"))
    assert "revoked" in text_of(dash_duo, "admin-tokens")
    refused = client.post("/api/v1/metrics", json=point,
                          headers={"Authorization": f"Bearer {secret}"})  # fmt: skip
    assert refused.status_code == 401


def test_the_admin_page_is_for_admins_only(dash_duo: DashComposite, admin_app: Flask) -> None:
    with admin_app.app_context(), database.transaction() as session:
        users.create_user(session, "ed", hash_password(PASSWORD), "editor")
    dash_duo.start_server(admin_app.extensions["dashapp.dash"])
    log_in(dash_duo, "ed", PASSWORD, "/admin")
    assert wait_for(lambda: "needs the admin role" in text_of(dash_duo, "page"))
    assert not dash_duo.driver.find_elements(By.LINK_TEXT, "Admin")
