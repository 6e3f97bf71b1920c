"""Callbacks called directly: routing, panel data, view changes, live refresh (no browser)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from dash import Patch, dcc, html
from flask import Flask, g
from sqlalchemy import event

from callbacks.inspect import fullscreen, inspect
from callbacks.panels import update_chart, update_table
from callbacks.router import filter_dashboards, render_page
from callbacks.view import navigate
from dashapp.commands.seed import seed_demo
from dashapp.core.demo import DEMO_SLUG, dashboard_spec
from dashapp.extensions import database
from db.blockcache import mark_written
from db.blocks import touched
from db.tsdb import metrics
from layouts import ids
from layouts.panels import stored_source
from tests.dash_context import triggered_by
from tests.test_layouts import find

PANELS = {p["id"]: p for p in dashboard_spec()["panels"]}
# What the page's panel stores hold: references to the saved demo (version 1).
SOURCES = {panel_id: stored_source(DEMO_SLUG, 1, panel_id) for panel_id in PANELS}
LAST_HOUR = {"from": "now-1h", "to": "now"}


@pytest.fixture
def seeded(app: Flask) -> Flask:
    with app.app_context():
        seed_demo(days=0.1)
    return app


def chart(panel: str, time_range: dict[str, str] = LAST_HOUR, variables: Any = None,
          trigger: str = ids.TIME_RANGE, meta: Any = None) -> tuple[Any, ...]:  # fmt: skip
    with triggered_by(trigger, "data"):
        return update_chart(
            time_range, variables, None, None, "light", 1600, None, SOURCES[panel], meta
        )


def test_router_renders_home_dashboard_and_404(seeded: Flask) -> None:
    with seeded.test_request_context():
        home = render_page("/", "")
        page = render_page("/d/service-health", "?from=now-1h&to=now&var-host=web-1")
        missing = render_page("/d/nope", "")
        odd = render_page("/admin/../etc", "")
    assert find(home, lambda c: isinstance(c, dcc.Link)).href == "/d/service-health"
    by_id = lambda wanted: find(page, lambda c: getattr(c, "id", None) == wanted)  # noqa: E731
    assert by_id(ids.TIME_RANGE).data == {"from": "now-1h", "to": "now", "tz": "UTC"}
    assert by_id(ids.VARIABLES).data == {"host": ["web-1"]}
    host_options = [o["value"] for o in by_id(ids.variable("host")).options]
    assert host_options == ["*", "api-1", "web-1", "web-2", "web-3"]
    assert find(missing, lambda c: isinstance(c, html.H1)).children == "Not found"
    assert find(odd, lambda c: isinstance(c, html.H1)).children == "Not found"


def test_stat_panels_judge_freshness_at_the_end_of_the_range(seeded: Flask) -> None:
    end = datetime.now(UTC) - timedelta(hours=1)
    past = {"from": str(int((end - timedelta(hours=1)).timestamp() * 1000)),
            "to": str(int(end.timestamp() * 1000))}  # fmt: skip
    with seeded.test_request_context():
        for panel in ("rps", "errors", "latency-now"):
            assert "stale" not in str(chart(panel)[0]), panel
            assert "stale" not in str(chart(panel, past)[0]), panel  # the data is complete
            zoomed = {"from": "now-2h", "to": "now-1h"}
            assert "stale" not in str(chart(panel, zoomed)[0]), panel


def test_home_search_filters_the_cards(seeded: Flask) -> None:
    with seeded.test_request_context():
        home = render_page("/", "")
        matching = filter_dashboards("  service HEALTH ")
        nothing = filter_dashboards("billing")
    assert find(home, lambda c: getattr(c, "id", None) == ids.HOME_SEARCH) is not None
    assert find(matching, lambda c: isinstance(c, dcc.Link)).href == "/d/service-health"
    assert nothing.children == "No dashboard matches \u201cbilling\u201d."


def test_every_demo_chart_panel_gets_data(seeded: Flask) -> None:
    with seeded.test_request_context():
        for panel in PANELS.values():
            if panel["type"] in ("text", "table"):
                continue
            figure, status, _note, _meta = chart(panel["id"])
            assert status is None, (panel["id"], status)
            traces = figure["data"]
            values = [v for t in traces for v in (t.get("y") or t.get("z") or [t.get("value")])]
            assert any(v not in (None, []) for v in values), panel["id"]
        with triggered_by(ids.TIME_RANGE, "data"):
            rows, status, _, sort, classes = update_table(
                [None] * 5, LAST_HOUR, None, None, None, "light", 1600,
                SOURCES["latency-table"], None,
            )  # fmt: skip
    cells = [[cell.children for cell in row.children] for row in rows]
    assert status is None and [c[0] for c in cells] == ["api-1", "web-1", "web-2", "web-3"]
    assert all(c.endswith(" ms") for row in cells for c in row[1:])
    assert sort is None and "sorted" not in " ".join(classes)


def test_fullscreen_shows_the_clicked_chart_or_table(seeded: Flask) -> None:
    with seeded.test_request_context(), triggered_by(ids.TIME_RANGE, "data"):
        rows, *_ = update_table(
            [None] * 5, LAST_HOUR, None, None, None, "light", 1600,
            SOURCES["latency-table"], None,
        )  # fmt: skip
    chart = {"data": [{"x": [1], "y": [2]}], "layout": {}}
    states = [
        [{"id": {"type": ids.PANEL_GRAPH, "panel": "cpu"}, "property": "figure"}],
        [{"id": {"type": ids.PANEL_TABLE, "table": "latency-table"}, "property": "children"}],
    ]
    args = ([chart], [rows], [SOURCES["cpu"]], [SOURCES["latency-table"]], "/d/service-health",
            "?from=now-1h&to=now")  # fmt: skip
    with (
        seeded.test_request_context(),
        triggered_by(
            {"type": ids.PANEL_FULLSCREEN, "panel": "cpu"}, "n_clicks", 1, states_list=states
        ),
    ):
        opened, graph, title = fullscreen([1], None, *args)
    with (
        seeded.test_request_context(),
        triggered_by(
            {"type": ids.PANEL_FULLSCREEN, "panel": "latency-table"},
            "n_clicks",
            1,
            states_list=states,
        ),
    ):
        _, table, _ = fullscreen([1], None, *args)
    with triggered_by(ids.FULLSCREEN_CLOSE, "n_clicks"):
        closed, _, _ = fullscreen([1], 1, *args)
    assert opened == "modal" and graph.figure == chart and closed == "modal hidden"
    assert title[0] == PANELS["cpu"]["title"]
    assert title[2].href == "/d/service-health?from=now-1h&to=now&viewPanel=cpu"
    headers = [th.children for th in find(table, lambda c: isinstance(c, html.Tr)).children]
    assert headers == ["Series", "Last", "Min", "Max", "Avg"]
    assert find(table, lambda c: isinstance(c, html.Tbody)).children == rows


def test_clicking_a_table_header_sorts_its_rows(seeded: Flask) -> None:
    button = {"type": ids.PANEL_SORT, "table": "latency-table", "column": "max"}
    args = (LAST_HOUR, None, None, None, "light", 1600, SOURCES["latency-table"])
    with seeded.test_request_context():
        with triggered_by(button, "n_clicks"):
            rows, _, _, sort, classes = update_table([None] * 5, *args, None)
        with triggered_by(button, "n_clicks", 2):
            reversed_rows, _, _, again, _ = update_table([None] * 5, *args, sort)
    assert sort == {"column": "max", "descending": True} and "sorted-desc" in classes[3]
    assert again == {"column": "max", "descending": False}
    maxima = [float(row.children[3].children.removesuffix(" ms")) for row in rows]
    assert len(maxima) == 4 and maxima == sorted(maxima, reverse=True)
    names = [row.children[0].children for row in rows]
    assert names == [row.children[0].children for row in reversed_rows][::-1]


def test_a_variable_filters_the_panels(seeded: Flask) -> None:
    with seeded.test_request_context():
        figure, *_ = chart("cpu", variables={"host": ["web-2", "web-3"]})
    assert [t["name"] for t in figure["data"]] == ["web-2", "web-3"]


def test_empty_range_says_no_data(seeded: Flask) -> None:
    with seeded.test_request_context():
        _, status, _, meta = chart("cpu", {"from": "now-30d", "to": "now-20d"})
    assert status.children == "No data in this time range" and meta is None


def test_bad_time_range_is_explained_in_the_panel(seeded: Flask) -> None:
    with seeded.test_request_context():
        _, status, _, _ = chart("cpu", {"from": "now", "to": "now-1h"})
    assert "after its start" in status.children


def test_a_query_past_the_statement_timeout_fails_inside_its_panel(seeded: Flask) -> None:
    """Only the slow panel shows an error; it comes from the database's own timeout."""
    # 1 s: long enough for the healthy panel on a busy CI machine (it takes ~30 ms)
    seeded.extensions["dashapp.db"].statement_timeout_ms = 1000

    def slow_down(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        finding_series = statement.lstrip().startswith("SELECT") and "FROM series" in statement
        if finding_series and "memory.used" in str(parameters):
            sleep = (
                "SELECT pg_sleep(2)"
                if conn.dialect.name == "postgresql"
                else (
                    "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) "
                    "SELECT count(*) FROM r"
                )
            )
            cursor.execute(sleep)

    with seeded.app_context():
        engine = database.engine
    event.listen(engine, "before_cursor_execute", slow_down)
    try:
        with seeded.test_request_context():
            _, memory_status, _, _ = chart("memory")
            _, cpu_status, _, _ = chart("cpu")
    finally:
        event.remove(engine, "before_cursor_execute", slow_down)
    assert "timed out" in memory_status.children.lower()
    assert cpu_status is None


def test_auto_refresh_sends_only_new_points(seeded: Flask) -> None:
    with seeded.test_request_context():
        figure, _, _, meta = chart("cpu")
        counts = [len(t["x"]) for t in figure["data"]]
        with seeded.app_context(), database.transaction() as session:
            ids_by_source = {s.source: s.id for s in metrics.find_series(session, "cpu.usage")}
            drawn = meta["queries"][0]
            in_last_bucket = datetime.fromisoformat(drawn["end"]) - timedelta(
                seconds=drawn["step"] / 2
            )
            metrics.write_points(session, [(ids_by_source["web-1"], in_last_bucket, 99.0)])
        web1 = ids_by_source["web-1"]
        mark_written(["cpu.usage"], written=touched(["cpu.usage"], [web1], [in_last_bucket]))
        patch, status, _, new_meta = chart("cpu", trigger=ids.AUTO_REFRESH, meta=meta)
    assert isinstance(patch, Patch) and status is not None  # no_update for the status
    operations = patch.to_plotly_json()["operations"]
    extended = [op for op in operations if op["operation"] == "Extend"]
    assert extended and all(op["location"][0] == "data" for op in extended)
    assert all(op["location"][-1] == -1 for op in operations if op["operation"] == "Delete")
    deleted = sum(op["operation"] == "Delete" for op in operations)
    assert deleted == 2 * sum(t["tail"] for t in meta["queries"][0]["traces"])  # x and y
    assert any(99.0 in op["params"]["value"] for op in extended)
    assert new_meta["appended"] >= 0 and len(counts) == len(new_meta["queries"][0]["traces"])


def write_into_last_bucket(app: Flask, meta: dict[str, Any], value: float) -> datetime:
    """Write ``value`` for web-1 into the drawn chart's last bucket, as an agent would (the
    cached blocks holding it invalidated); returns its time."""
    drawn = meta["queries"][0]
    at = datetime.fromisoformat(drawn["end"]) - timedelta(seconds=drawn["step"] / 2)
    with app.app_context():
        with database.transaction() as session:
            web1 = next(
                s.id for s in metrics.find_series(session, "cpu.usage") if s.source == "web-1"
            )
            metrics.write_points(session, [(web1, at, value)])
        mark_written(["cpu.usage"], written=touched(["cpu.usage"], [web1], [at]))
    return at


def test_auto_refresh_patches_a_chart_drawn_in_another_zone(seeded: Flask) -> None:
    tokyo = {**LAST_HOUR, "tz": "Asia/Tokyo"}  # UTC+9, no daylight saving
    with seeded.test_request_context():
        figure, _, _, meta = chart("cpu", time_range=tokyo)
        at = write_into_last_bucket(seeded, meta, 77.0)
        patch, _, _, _ = chart("cpu", time_range=tokyo, trigger=ids.AUTO_REFRESH, meta=meta)
    assert isinstance(patch, Patch)  # patched, not redrawn
    operations = patch.to_plotly_json()["operations"]
    shown = {datetime.fromisoformat(x) for op in operations
             if op["operation"] == "Extend" and op["location"][-1] == "x"
             for x in op["params"]["value"]}  # fmt: skip
    assert (at + timedelta(hours=9)).replace(tzinfo=None) in shown  # Tokyo's clock
    last_drawn = datetime.fromisoformat(figure["data"][0]["x"][-1])
    assert all(abs(x - last_drawn) < timedelta(minutes=5) for x in shown)


def test_auto_refresh_patches_in_a_series_that_appeared(seeded: Flask) -> None:
    with seeded.test_request_context():
        figure, _, _, meta = chart("cpu")
        drawn = meta["queries"][0]
        end = datetime.fromisoformat(drawn["end"])
        with seeded.app_context(), database.transaction() as session:
            key = metrics.series_key("cpu.usage", "web-9", {"region": "eu"})
            sid = metrics.resolve_series(session, [key])[key]
            at = end - timedelta(seconds=drawn["step"] / 2)
            metrics.write_points(session, [(sid, at, 42.0)])
        mark_written(["cpu.usage"], written=touched(["cpu.usage"], [sid], [at]))
        patch, _, _, new_meta = chart("cpu", trigger=ids.AUTO_REFRESH, meta=meta)
    assert isinstance(patch, Patch)
    operations = patch.to_plotly_json()["operations"]
    added = [op for op in operations if op["operation"] == "Append" and op["location"] == ["data"]]
    assert len(added) == 1
    trace = added[0]["params"]["value"]
    assert trace["name"] == "web-9" and trace["y"] == [42.0]
    assert trace["type"] == figure["data"][0]["type"]
    traces = new_meta["queries"][0]["traces"]
    # The tail counts points in the newest bucket of the tick's window: when "now" crossed
    # a bucket edge between the draw and the tick, the point's bucket is no longer the
    # newest (the race that made this test fail now and then).
    step = timedelta(seconds=new_meta["queries"][0]["step"])
    newest = datetime.fromisoformat(new_meta["queries"][0]["end"]) - step
    tail = 1 if at >= newest else 0
    assert traces[-1] == {"name": "web-9", "tail": tail, "index": len(figure["data"])}
    assert new_meta["traces"] == len(figure["data"]) + 1


def test_auto_refresh_ticks_share_the_newest_minute_for_the_live_grace(database_url: str) -> None:
    """Viewers' ticks within one LIVE_TAIL_GRACE share the newest blocks (a point written
    meanwhile waits for a later tick); a load or the refresh button reads it at once."""
    from tests.conftest import make_app

    app = make_app(database_url, LIVE_TAIL_GRACE=10**9)  # one grace period for this test
    with app.app_context():
        seed_demo(days=0.1)
    with app.test_request_context():
        _, _, _, meta = chart("cpu")
        chart("cpu", trigger=ids.AUTO_REFRESH, meta=meta)  # a viewer's tick shares its tail
        write_into_last_bucket(app, meta, 1234.0)

        def shown(figure: Any) -> list[Any]:
            if isinstance(figure, Patch):
                operations = figure.to_plotly_json()["operations"]
                return [v for op in operations for v in op["params"].get("value", [])]
            return [y for trace in figure["data"] for y in trace["y"]]

        ticked, *_ = chart("cpu", trigger=ids.AUTO_REFRESH, meta=meta)
        assert 1234.0 not in shown(ticked)  # another viewer's tick: the shared tail
        with triggered_by(ids.REFRESH_BUTTON, "n_clicks"):
            clicked, *_ = update_chart(
                LAST_HOUR, None, None, 1, "light", 1600, None, SOURCES["cpu"], meta
            )
        assert 1234.0 in shown(clicked)
        loaded, *_ = chart("cpu")
        assert 1234.0 in shown(loaded)


def test_refresh_redraws_when_the_bucket_width_changes(seeded: Flask) -> None:
    with seeded.test_request_context():
        _, _, _, meta = chart("cpu")
        figure, *_ = chart("cpu", {"from": "now-2h", "to": "now"}, trigger=ids.AUTO_REFRESH,
                           meta=meta)  # fmt: skip
    assert isinstance(figure, dict) and figure["data"]


def navigate_with(trigger: Any, prop: str, value: Any, **state: Any) -> dict[str, Any]:
    args = {
        "url": "?from=now-6h&to=now", "preset": "now-6h", "apply": None,
        "submit_from": None, "submit_to": None, "zoom_out": None, "back": None,
        "refresh": "off", "chosen": [["*"]], "relayouts": [],
        "typed_from": "now-6h", "typed_to": "now",
        "time_range": {"from": "now-6h", "to": "now", "tz": "UTC"}, "history": [],
        "variables": {"host": []},
        "defaults": {"time_from": "now-6h", "time_to": "now", "refresh": "off",
                     "variables": {"host": []}},
        "choices": {"host": ["web-1", "web-2"]},
        "zone": "UTC", "calendar": None, "calendar_start": None, "zone_setting": "browser",
        "pathname": "/d/service-health",
    }  # fmt: skip
    args.update(state)
    grouping = {"chosen": [{"id": {"type": "variable", "name": "host"}, "value": ["*"]}]}
    with triggered_by(trigger, prop, value, args_grouping=grouping):
        return navigate(**args)


def test_navigate_preset_pushes_history_and_url(app: Flask) -> None:
    with app.test_request_context(base_url="http://dash.example"):
        out = navigate_with(ids.TIME_PRESET, "value", "now-24h", preset="now-24h")
    search = out["search"]
    assert out["time_range"] == {"from": "now-24h", "to": "now", "tz": "UTC"}
    assert out["history"] == [{"from": "now-6h", "to": "now"}]
    assert search == "?from=now-24h&to=now&refresh=off&var-host=%2A"
    assert out["preset"] == "now-24h"
    assert out["shown_from"] == "now-24h"
    shared = "?from=now-24h&to=now&refresh=off&tz=UTC&var-host=%2A"  # names the zone
    assert out["share"] == "http://dash.example/d/service-health" + shared


def test_navigate_zoom_box_sets_an_absolute_range(app: Flask) -> None:
    relayout = {"xaxis.range[0]": "2026-01-01 10:00:00", "xaxis.range[1]": "2026-01-01 11:00:00"}
    with app.test_request_context():
        out = navigate_with({"type": ids.PANEL_GRAPH, "panel": "cpu"}, "relayoutData", relayout)
    assert out["time_range"] == {"from": "1767261600000", "to": "1767265200000", "tz": "UTC"}
    assert out["preset"] == "custom" and out["shown_from"] == "2026-01-01 10:00:00"


def test_navigate_ignores_relayouts_that_are_not_zooms(app: Flask) -> None:
    from dash.exceptions import PreventUpdate

    with app.test_request_context(), pytest.raises(PreventUpdate):
        navigate_with({"type": ids.PANEL_GRAPH, "panel": "cpu"}, "relayoutData", {"autosize": True})


def test_navigate_back_and_browser_history(app: Flask) -> None:
    earlier = {"from": "now-1h", "to": "now"}
    with app.test_request_context():
        back = navigate_with(ids.BACK, "n_clicks", 1, history=[earlier])
        url = navigate_with(ids.VIEW_URL, "search", "?from=now-7d&to=now&var-host=web-1",
                            url="?from=now-7d&to=now&var-host=web-1")  # fmt: skip
    assert back["time_range"] == {**earlier, "tz": "UTC"} and back["history"] == []
    assert url["time_range"] == {"from": "now-7d", "to": "now", "tz": "UTC"}
    assert url["variables"] == {"host": ["web-1"]}
    assert url["selections"] == [["web-1"]]
    from dash import no_update

    assert url["search"] is no_update  # the URL already says it: no new history entry


def test_navigate_rejects_a_bad_typed_range(app: Flask) -> None:
    with app.test_request_context():
        out = navigate_with(ids.TIME_APPLY, "n_clicks", 1, typed_from="soon", typed_to="now")
    assert "not a time" in out["error"]
    from dash import no_update

    assert out["time_range"] is no_update


def test_inspect_reports_the_query(seeded: Flask) -> None:
    documents = [SOURCES["cpu"]]
    with (
        seeded.test_request_context(),
        triggered_by({"type": ids.PANEL_INSPECT, "panel": "cpu"}, "n_clicks", 1),
    ):
        class_name, body, document = inspect([1], None, documents, [], LAST_HOUR, None, 1600)
    assert class_name == "modal" and document["id"] == "cpu"
    table = find(body[0], lambda c: isinstance(c, html.Table))
    facts = {row.children[0].children: row.children[1].children for row in table.children}
    assert int(facts["points"]) > 0 and facts["series shown"] == "4 of 4"
    assert facts["served from cache"] == "no"
    with (
        seeded.test_request_context(),
        triggered_by({"type": ids.PANEL_INSPECT, "panel": "cpu"}, "n_clicks", 2),
    ):
        _, again, _ = inspect([2], None, documents, [], LAST_HOUR, None, 1600)
    table = find(again[0], lambda c: isinstance(c, html.Table))
    facts = {row.children[0].children: row.children[1].children for row in table.children}
    assert facts["served from cache"] != "no"
    listed = find(again[0], lambda c: getattr(c, "className", None) == "facts blocks")
    rows = [[cell.children for cell in row.children] for row in listed.children[1:]]
    # Old blocks come from the cache; the tail too unless "now" crossed a bucket meanwhile.
    assert rows and all(row[2] == "cached" for row in rows if row[1] == "block")


def test_seed_reaches_now(seeded: Flask) -> None:
    with seeded.app_context(), database.transaction() as session:
        latest = metrics.last_points(session, [s.id for s in metrics.list_series(session)])
    newest = max(p.ts for p in latest.values())
    assert datetime.now(UTC) - newest < timedelta(seconds=30)


def test_export_gives_the_saved_spec_as_json(seeded: Flask) -> None:
    import json

    from callbacks.editor_actions import export_saved
    from dashapp.core.spec import parse_spec

    with seeded.test_request_context():
        download = export_saved(1, "service-health")
    assert download["filename"] == "service-health.json"
    exported = parse_spec(json.loads(download["content"]))
    assert exported == parse_spec(dashboard_spec())


def test_navigate_calendar_days_and_zone_picker(app: Flask) -> None:
    paris = {"from": "now-6h", "to": "now", "tz": "Europe/Paris"}
    with app.test_request_context():
        days = navigate_with(ids.TIME_CALENDAR, "end_date", "2026-01-02", calendar="2026-01-02",
                             calendar_start="2026-01-01", time_range=paris,
                             zone_setting="Europe/Paris")  # fmt: skip
        picked = navigate_with(ids.TIME_ZONE, "value", "Asia/Tokyo", zone="Asia/Tokyo")
        assert "tz_pref=Asia/Tokyo" in g.zone_cookie
    # Whole days on Paris's clock: 1 January 00:00 to 3 January 00:00 (UTC+1).
    assert days["time_range"] == {"from": "1767222000000", "to": "1767394800000",
                                  "tz": "Europe/Paris"}  # fmt: skip
    assert days["shown_from"] == "2026-01-01 00:00:00"
    assert picked["time_range"]["tz"] == "Asia/Tokyo" and "tz=Asia%2FTokyo" in picked["search"]
    assert picked["zone"] == "Asia/Tokyo"
