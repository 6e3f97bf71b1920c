"""An admin runs the team from the browser (headless Chromium, PostgreSQL): people and
service tokens, with the same commands the CLI uses."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from dash.testing.composite import DashComposite
from flask import Flask
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from dashapp.auth import hash_password
from dashapp.extensions import database
from db import tokens, users
from tests.browser import log_in, screenshots, wait_for
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


def dialog_open(dash_duo: DashComposite) -> bool:
    return "hidden" not in by_id(dash_duo, "admin-confirm").get_attribute("class")


def confirm(dash_duo: DashComposite, asked: str, answer: str = "admin-confirm-yes") -> None:
    """The dialog asks ``asked``; answer it (Confirm, or Cancel with admin-confirm-no)."""
    assert wait_for(lambda: dialog_open(dash_duo) and asked in text_of(dash_duo, "admin-confirm"))
    by_id(dash_duo, answer).click()
    assert wait_for(lambda: not dialog_open(dash_duo))


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
    by_id(dash_duo, {"type": "admin-user-disable", "user": "bob"}).click()
    confirm(dash_duo, "Disable bob?")
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
    confirm(dash_duo, "Revoke token telegraf")
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


def test_an_admin_resets_deletes_confirms_and_reads_the_audit_log(
    dash_duo: DashComposite, admin_app: Flask
) -> None:
    """Issue 28, item 12: no reset or delete in the UI, the add form kept the password,
    revoke and disable asked nothing, no view of the audit log."""
    from db import audit

    with admin_app.app_context(), database.transaction() as session:
        users.create_user(session, "bob", hash_password(PASSWORD), "editor")
        for n in range(60):  # more than a page
            audit.record(session, "ada", "cli", "dashboard.save", f"board-{n}")
    dash_duo.start_server(admin_app.extensions["dashapp.dash"])
    dash_duo.driver.set_window_size(1600, 1000)
    log_in(dash_duo, "ada", PASSWORD, "/admin")

    wait_for(lambda: by_id(dash_duo, "admin-new-user")).send_keys("cy")
    by_id(dash_duo, "admin-new-password").send_keys("cy-password")
    by_id(dash_duo, "admin-add-user").click()
    assert wait_for(lambda: "Added cy" in text_of(dash_duo, "admin-message"))
    assert by_id(dash_duo, "admin-new-password").get_attribute("value") == ""
    assert by_id(dash_duo, "admin-new-user").get_attribute("value") == ""

    by_id(dash_duo, {"type": "admin-user-disable", "user": "bob"}).click()
    confirm(dash_duo, "Disable bob?", answer="admin-confirm-no")  # changed my mind
    assert user_row(admin_app, "bob").active

    by_id(dash_duo, {"type": "admin-user-reset", "user": "bob"}).click()
    confirm(dash_duo, "new password")
    password = wait_for(lambda: text_of(dash_duo, "admin-password-secret"))
    with admin_app.app_context():
        from dashapp.auth import authenticate

        assert authenticate("bob", password) is not None
        assert authenticate("bob", PASSWORD) is None

    by_id(dash_duo, {"type": "admin-user-delete", "user": "bob"}).click()
    confirm(dash_duo, "Delete bob?")
    assert wait_for(lambda: "Deleted bob" in text_of(dash_duo, "admin-message"))
    assert "bob" not in text_of(dash_duo, "admin-users")
    assert user_row(admin_app, "bob") is None

    # The audit log: newest first, with this session's writes, a page at a time.
    assert wait_for(lambda: "user.delete" in text_of(dash_duo, "audit-table"))
    first = text_of(dash_duo, "audit-table").splitlines()
    assert "user.delete" in first[1] and "bob" in first[1]
    assert text_of(dash_duo, "audit-info").startswith("1 to 50 of ")
    by_id(dash_duo, "audit-older").click()
    assert wait_for(lambda: text_of(dash_duo, "audit-info").startswith("51 to "))
    assert by_id(dash_duo, "audit-older").get_attribute("disabled")
    dash_duo.select_dcc_dropdown(by_id(dash_duo, "audit-action"), value="user.password")
    assert wait_for(lambda: text_of(dash_duo, "audit-info") == "1 to 1 of 1")
    assert "bob" in text_of(dash_duo, "audit-table")
    dash_duo.select_dcc_dropdown(by_id(dash_duo, "audit-actor"), value="ada")
    assert wait_for(lambda: text_of(dash_duo, "audit-info") == "1 to 1 of 1")
    wide = screenshots(dash_duo, "admin-audit", lambda: text_of(dash_duo, "audit-table"))
    assert wide["scroll"] <= wide["client"], wide

    # Dates (UTC): a day long ago holds nothing; today holds the reset.
    pick_dates(dash_duo, "2000-01-01", "2000-01-02")
    assert wait_for(lambda: "No entries match" in text_of(dash_duo, "audit-table"))
    today = datetime.now(UTC).date().isoformat()
    pick_dates(dash_duo, today, today)
    assert wait_for(lambda: text_of(dash_duo, "audit-info") == "1 to 1 of 1")


def pick_dates(dash_duo: DashComposite, start: str, end: str) -> None:
    """Type both dates of the audit log's range, as a person can instead of clicking."""
    for selector, text in ((".dash-datepicker-start-date", start),
                           (".dash-datepicker-end-date", end)):  # fmt: skip
        box = dash_duo.driver.find_element(By.CSS_SELECTOR, f"#audit-dates-wrapper {selector}")
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(text, Keys.ENTER)
    dash_duo.driver.find_element(By.TAG_NAME, "h1").click()
