"""The dashboards repository: versions, conflicts, history, soft delete."""

from __future__ import annotations

import pytest
from flask import Flask

from dashapp.core.spec import parse_spec
from dashapp.extensions import database
from db import dashboards


@pytest.fixture(autouse=True)
def context(app: Flask):  # type: ignore[no-untyped-def]
    with app.app_context():
        yield


def spec(title: str = "Ops", panels: int = 1):  # type: ignore[no-untyped-def]
    return parse_spec(
        {
            "title": title,
            "tags": ["ops"],
            "panels": [
                {"id": f"p{i}", "type": "timeseries", "queries": [{"metric": "cpu"}]}
                for i in range(panels)
            ],
        }
    )


def test_create_list_get() -> None:
    with database.transaction() as session:
        created = dashboards.create_dashboard(session, "ops", spec(), "ann")
    with database.transaction() as session:
        listed = dashboards.list_dashboards(session)
        fetched = dashboards.get_dashboard(session, "ops")
    assert created.version == 1 and fetched.spec == created.spec
    assert [(d.slug, d.title, d.tags, d.panel_count) for d in listed] == [
        ("ops", "Ops", ["ops"], 1)
    ]
    assert fetched.spec["schema_version"] == 2


def test_list_searches_title_slug_and_tags_by_every_word() -> None:
    with database.transaction() as session:
        dashboards.create_dashboard(session, "ops", spec("Ops overview"), "ann")
        dashboards.create_dashboard(session, "checkout-latency", spec("Checkout"), "ann")
        dashboards.create_dashboard(session, "db", spec("Database health"), "ann")
    with database.transaction() as session:

        def found(search: str) -> list[str]:
            return [d.slug for d in dashboards.list_dashboards(session, search)]

        assert found("") == ["checkout-latency", "db", "ops"]  # by title
        assert found("HEALTH") == ["db"]
        assert found("latency") == ["checkout-latency"]  # slug
        assert found("ops") == ["checkout-latency", "db", "ops"]  # every spec() is tagged ops
        assert found("ops overview") == ["ops"]
        assert found("nothing") == []


def test_slug_is_unique_and_validated() -> None:
    with database.transaction() as session:
        dashboards.create_dashboard(session, "ops", spec(), "ann")
    with pytest.raises(dashboards.SlugTaken), database.transaction() as session:
        dashboards.create_dashboard(session, "ops", spec(), "bob")
    with pytest.raises(ValueError, match="slug"), database.transaction() as session:
        dashboards.create_dashboard(session, "Not A Slug", spec(), "bob")
    assert dashboards.slugify("Service health — EU!") == "service-health-eu"


def test_update_bumps_version_and_records_history() -> None:
    with database.transaction() as session:
        dashboards.create_dashboard(session, "ops", spec(), "ann")
    with database.transaction() as session:
        updated = dashboards.update_dashboard(session, "ops", spec("Ops 2", 2), 1, "bob", "more")
    with database.transaction() as session:
        history = dashboards.list_versions(session, "ops")
        first = dashboards.get_version(session, "ops", 1)
    assert updated.version == 2 and updated.title == "Ops 2"
    assert [(v.version, v.author, v.message) for v in history] == [
        (2, "bob", "more"), (1, "ann", "Created"),
    ]  # fmt: skip
    assert first.spec["title"] == "Ops"


def test_stale_version_is_a_conflict_and_changes_nothing() -> None:
    with database.transaction() as session:
        dashboards.create_dashboard(session, "ops", spec(), "ann")
    with database.transaction() as session:
        dashboards.update_dashboard(session, "ops", spec("Ann's"), 1, "ann")
    with pytest.raises(dashboards.VersionConflict) as caught, database.transaction() as session:
        dashboards.update_dashboard(session, "ops", spec("Bob's"), 1, "bob")
    assert (caught.value.expected, caught.value.current) == (1, 2)
    with database.transaction() as session:
        assert dashboards.get_dashboard(session, "ops").title == "Ann's"
        assert len(dashboards.list_versions(session, "ops")) == 2


def test_delete_hides_the_dashboard_and_frees_the_slug() -> None:
    with database.transaction() as session:
        dashboards.create_dashboard(session, "ops", spec(), "ann")
    with database.transaction() as session:
        dashboards.delete_dashboard(session, "ops")
    with database.transaction() as session:
        assert dashboards.list_dashboards(session) == []
        with pytest.raises(dashboards.DashboardNotFound):
            dashboards.get_dashboard(session, "ops")
        dashboards.create_dashboard(session, "ops", spec("New"), "ann")


def test_a_long_slug_survives_delete_and_restore() -> None:
    slug = "a" * 100
    with database.transaction() as session:
        created = dashboards.create_dashboard(session, slug, spec(), "ann")
    with database.transaction() as session:
        dashboards.delete_dashboard(session, slug)
        assert [d.slug for d in dashboards.list_deleted(session)] == [slug]
    with database.transaction() as session:
        restored = dashboards.undelete(session, created.id, "admin")
    assert restored.slug == slug and restored.version == 2


def test_copies_get_a_free_slug_and_a_copy_title() -> None:
    with database.transaction() as session:
        dashboards.create_dashboard(session, "ops", spec(), "ann")
        first = dashboards.copy_dashboard(session, "ops", spec(), "bob", "copy")
        second = dashboards.copy_dashboard(session, "ops", spec(), "bob", "copy")
    assert (first.slug, first.title) == ("ops-copy", "Ops (copy)")
    assert second.slug == "ops-copy-2"
