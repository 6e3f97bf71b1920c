"""No Dash callback answers 5xx, whatever a crafted request holds, and a refused one
stores nothing.

Every callback the app registers (enumerated from its callback map) is posted to
``/_dash-update-component`` with hypothesis-generated inputs and states, as an anonymous
visitor, a viewer and an editor; then the crafted bodies an outside probe found.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, func, select

from dashapp.auth import hash_password
from dashapp.commands.seed import seed_demo
from dashapp.core.demo import DEMO_SLUG
from dashapp.extensions import database
from db import users
from db.models import Base
from tests.conftest import empty_tables, make_app
from tests.dash_requests import body, dash_app, output_parts, parse_id, pattern_name, post
from tests.test_auth import PASSWORD, log_in

ROLES = (None, "viewer", "editor")
WORDS = ["", "x", DEMO_SLUG, "copy:nope", "copy:" + DEMO_SLUG, "now-1h", "now", "999",
         "/d/" + DEMO_SLUG, "/d/nope/history", "?from=now-1h&to=now", "cpu.usage", "*",
         "<b>x</b>", "1e30", "-1", "\x00", "é" * 300]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e30, -1e30, 1e300, 999, 0, -1, 2**63]),
    st.sampled_from(WORDS),
    st.text(max_size=30),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "from",
                    "to",
                    "tz",
                    "ms",
                    "id",
                    "x",
                    "queries",
                    "draft",
                    "dashboard",
                    "version",
                    "panels",
                    "title",
                ]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def world(sqlite_database: str) -> Iterator[Flask]:
    """The demo dashboard and one user per role, rate limits out of the way."""
    empty_tables(sqlite_database)
    app = make_app(sqlite_database, DASH_RATE_LIMIT="100000/second",
                   ADHOC_RATE_LIMIT="100000/second", LOGIN_RATE_LIMIT="1000/second")  # fmt: skip
    with app.app_context():
        seed_demo(days=0.01)
        with database.transaction() as session:
            for role in ("viewer", "editor"):
                users.create_user(session, role, hash_password(PASSWORD), role)
    yield app
    app.extensions["dashapp.db"].engine.dispose()


@pytest.fixture(scope="module")
def clients(world: Flask) -> dict[str | None, tuple[FlaskClient, str]]:
    """A logged-in client (and its CSRF token) per role; None: anonymous."""
    found = {}
    for role in ROLES:
        client = world.test_client()
        if role:
            log_in(client, role)
        page = client.get("/")
        cookie = next(c for c in page.headers.getlist("Set-Cookie") if c.startswith("_csrf_"))
        found[role] = (client, cookie.split(";")[0].split("=", 1)[1])
    return found


def row_counts(app: Flask) -> dict[str, int]:
    """Rows in every table but the login sessions' and the audit log's."""
    engine = create_engine(app.config["DATABASE_URL"])
    with engine.connect() as connection:
        counts = {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in Base.metadata.sorted_tables
            if table.name not in ("user_sessions",)
        }
    engine.dispose()
    return counts


def fields(app: Flask, output: str) -> list[tuple[str, str]]:
    """(id or pattern type, property) of a callback's inputs and states."""
    entry = dash_app(app).callback_map[output]
    return [
        (pattern_name(parse_id(s["id"])), s["property"]) for s in entry["inputs"] + entry["state"]
    ]


@st.composite
def requests(draw: st.DrawFn, app: Flask) -> tuple[str | None, dict[str, Any]]:
    """A role and a callback body: some callback, fuzzed values, one input as trigger."""
    output = draw(st.sampled_from(sorted(dash_app(app).callback_map)))
    names = fields(app, output)
    values = {name: draw(VALUES, label=f"{name}") for name in names}
    inputs = dash_app(app).callback_map[output]["inputs"]
    trigger = draw(st.sampled_from(inputs))
    key = draw(st.sampled_from(["cpu", "x", DEMO_SLUG]))
    component = parse_id(trigger["id"])
    trigger_name = component if isinstance(component, str) else None
    changed = [f"{trigger_name}.{trigger['property']}"] if trigger_name else []
    return draw(st.sampled_from(ROLES)), body(app, output, values, changed, key)


def test_the_callback_map_is_covered(world: Flask) -> None:
    """Every callback's outputs parse (the fuzz below reaches all of them)."""
    for output in dash_app(world).callback_map:
        assert output_parts(output)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)
@given(data=st.data())
def test_fuzzed_callbacks_never_answer_5xx_and_refusals_store_nothing(
    world: Flask, clients: dict, data: st.DataObject
) -> None:
    role, payload = data.draw(requests(world))
    client, csrf = clients[role]
    before = row_counts(world) if role != "editor" else None
    answer = post(client, payload, csrf)
    assert answer.status_code < 500, (role, payload["output"], answer.get_data(as_text=True)[:500])
    if before is not None:  # anonymous visitors and viewers may write nothing
        assert row_counts(world) == before, (role, payload["output"])


def _write(app: Flask, output_part: str, values: dict, trigger: str) -> dict[str, Any]:
    output = next(key for key in dash_app(app).callback_map if output_part in key)
    return body(app, output, values, [trigger])


def crafted(app: Flask) -> list[tuple[str, dict[str, Any]]]:
    """The write-callback bodies the probe answered with 500."""
    deep = '{"title": ' + "[" * 5000 + "]" * 5000 + "}"

    def create(template: Any) -> dict[str, Any]:
        values = {
            ("create-submit", "n_clicks"): 1,
            ("create-title", "value"): "Fuzzed",
            ("create-slug", "value"): "fuzzed",
            ("create-template", "value"): template,
        }
        return _write(app, "create-error.children", values, "create-submit.n_clicks")

    def compare(a: Any, b: Any) -> dict[str, Any]:
        values = {("history-a", "value"): a, ("history-b", "value"): b,
                  ("history-slug", "data"): DEMO_SLUG}  # fmt: skip
        return _write(app, "history-diff.children", values, "history-a.value")

    annotate = {("annotate-save", "n_clicks"): 1, ("annotate-at", "data"): {"ms": 1e30},
                ("annotate-text", "value"): "deploy", ("dashboard-slug", "data"): DEMO_SLUG,
                ("time-range", "data"): {"from": "now-1h", "to": "now"}}  # fmt: skip
    choice = {("import-choice", "n_clicks"): 1, ("import-text", "value"): "{not json"}
    return [
        ("create from copy:nope", create("copy:nope")),
        ("create from None", create(None)),
        ("import of deeply nested JSON", _write(
            app, "import-errors.children..", {("import-submit", "n_clicks"): 1,
                                              ("import-text", "value"): deep},
            "import-submit.n_clicks")),
        ("import choice with bad JSON", _write(
            app, "import-errors.children@", choice, "")),
        ("compare version 999", compare(999, 1)),
        ("compare version x", compare("x", 1)),
        ("export of a missing slug", _write(
            app, "view-export-download.data", {("view-export", "n_clicks"): 1,
                                               ("dashboard-slug", "data"): "nope"},
            "view-export.n_clicks")),
        ("annotate at 1e30 ms", _write(app, "annotate-text", annotate, "annotate-save.n_clicks")),
    ]  # fmt: skip


@pytest.mark.parametrize("role", ["editor", "viewer"])
def test_crafted_write_bodies_are_refused_cleanly(world: Flask, clients: dict, role: str) -> None:
    client, csrf = clients[role]
    for name, payload in crafted(world):
        before = row_counts(world)
        answer = post(client, payload, csrf)
        assert answer.status_code < 500, (name, answer.get_data(as_text=True)[:300])
        assert row_counts(world) == before, name


@pytest.mark.parametrize(
    "payload",
    [
        {},
        [],
        "x",
        {"output": "nope.children", "outputs": {}, "inputs": []},
        {"output": "page.children"},
        {"output": "page.children", "outputs": {}, "inputs": "x"},
    ],
)
def test_malformed_bodies_and_unknown_outputs_are_400(
    world: Flask, clients: dict, payload: Any
) -> None:
    client, csrf = clients[None]
    assert post(client, payload, csrf).status_code == 400
