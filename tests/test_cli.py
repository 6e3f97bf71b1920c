"""The ``dashapp`` command: migrations and the demo seed."""

from __future__ import annotations

from flask import Flask

from dashapp.core.demo import DEMO_SLUG, HOSTS, METRICS, RATES
from dashapp.core.spec import parse_spec
from dashapp.extensions import database
from db import dashboards
from db.tsdb import metrics


def test_db_upgrade_and_check(app: Flask) -> None:
    runner = app.test_cli_runner()
    upgraded = runner.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    checked = runner.invoke(args=["db", "check"])
    assert checked.exit_code == 0 and "no drift" in checked.output


def test_seed_demo_builds_the_dashboard_and_tops_up(app: Flask) -> None:
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo", "--if-empty", "--days", "0.05"])
    assert first.exit_code == 0, first.output
    with app.app_context(), database.transaction() as session:
        dashboard = dashboards.get_dashboard(session, DEMO_SLUG)
        series = metrics.list_series(session)
        count = metrics.count_points(session)
    spec = parse_spec(dashboard.spec)
    assert spec.title == "Service health" and len(spec.panels) >= 6
    assert len(series) == len(HOSTS) * (len(METRICS) + len(RATES))
    assert count >= 0.05 * 8640 * len(series) - len(series)  # ~10 s resolution

    again = runner.invoke(args=["seed-demo", "--if-empty", "--days", "0.05"])
    assert again.exit_code == 0, again.output
    with app.app_context(), database.transaction() as session:
        assert metrics.count_points(session) - count <= 3 * len(series)
        assert len(dashboards.list_dashboards(session)) == 1


def test_seed_demo_if_empty_leaves_other_dashboards_alone(app: Flask) -> None:
    with app.app_context(), database.transaction() as session:
        dashboards.create_dashboard(session, "mine", parse_spec({"title": "Mine"}), "me")
    result = app.test_cli_runner().invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0 and "not seeding" in result.output
    with app.app_context(), database.transaction() as session:
        assert [d.slug for d in dashboards.list_dashboards(session)] == ["mine"]


def test_compact_and_retention_commands(app: Flask) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed-demo", "--if-empty", "--days", "2"]).exit_code == 0
    with app.app_context(), database.transaction() as session:
        count = metrics.count_points(session)
    compacted = runner.invoke(args=["compact"])
    assert compacted.exit_code == 0 and "compaction done" in compacted.output, compacted.output
    with app.app_context(), database.transaction() as session:
        assert metrics.count_points(session) == count  # moved, not lost
    expired = runner.invoke(args=["retention"])
    assert expired.exit_code == 0 and "retention {'raw': '30d'" in expired.output
