"""Layout and figure builders are pure: checked by comparing trees, without a browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dash import dcc, html

from dashapp.core.demo import dashboard_spec
from dashapp.core.export import panel_csv
from dashapp.core.panel_data import PanelData
from dashapp.core.records import Dashboard, DashboardSummary
from dashapp.core.reductions import from_buckets
from dashapp.core.results import Histogram, QueryResult, Series
from dashapp.core.spec import parse_spec
from dashapp.core.view_state import ViewState
from layouts import ids
from layouts.charts import bar_figure, heatmap_figure, threshold_shapes, timeseries_figure
from layouts.dashboard import dashboard_page
from layouts.figures import render_figure
from layouts.home import dashboard_cards, dashboard_list
from layouts.inspect import inspect_body
from layouts.panels import grid_layout, panel_frame
from layouts.stats import gauge_figure, stat_figure
from layouts.tables import header_classes, next_sort, sort_rows, table_body, table_rows
from layouts.units import NO_VALUE, format_value

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SPEC = parse_spec(dashboard_spec())
PANELS = {panel.id: panel for panel in SPEC.panels}


def result(*series: Series, step: timedelta = timedelta(minutes=1)) -> QueryResult:
    return QueryResult(list(series), T0, T0 + timedelta(hours=1), step, "buckets", len(series), 1.0)


def line(name: str, values: list[float | None]) -> Series:
    return Series(name, {}, [T0 + timedelta(minutes=i) for i in range(len(values))], values)


def find(component, predicate):  # type: ignore[no-untyped-def]
    """Depth-first search of a component tree."""
    if predicate(component):
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str):
            found = find(child, predicate)
            if found is not None:
                return found
    return None


def find_all(component, predicate):  # type: ignore[no-untyped-def]
    """Every component of a tree that matches, depth first."""
    found = [component] if predicate(component) else []
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str):
            found += find_all(child, predicate)
    return found


def test_demo_covers_every_panel_type_in_twelve_panels() -> None:
    assert len(SPEC.panels) == 12
    assert {p.type for p in SPEC.panels} == {
        "timeseries", "stat", "gauge", "bar", "table", "heatmap", "text",
    }  # fmt: skip
    assert [v.name for v in SPEC.variables] == ["host"]


def test_grid_layout_mirrors_the_spec() -> None:
    layout = grid_layout(SPEC)
    assert layout[0] == {"i": "panel-rps", "x": 0, "y": 0, "w": 6, "h": 5}
    assert len(layout) == len(SPEC.panels)


def test_chart_panel_frame_holds_graph_status_spec_and_actions() -> None:
    panel = PANELS["cpu"]
    frame = panel_frame(panel)
    assert frame.id == ids.grid_item("cpu")
    assert find(frame, lambda c: isinstance(c, dcc.Graph)).id == ids.panel_graph("cpu")
    store = find(frame, lambda c: getattr(c, "id", None) == ids.panel_spec("cpu"))
    assert store.data["draft"]["queries"][0]["metric"] == "cpu.usage"  # an editor's draft
    saved = panel_frame(panel, stored=("ops", 3))
    store = find(saved, lambda c: getattr(c, "id", None) == ids.panel_spec("cpu"))
    assert store.data == {"id": "cpu", "dashboard": "ops", "version": 3}  # no queries
    assert find(frame, lambda c: getattr(c, "id", None) == ids.panel_status("cpu")) is not None
    for action in (ids.PANEL_INSPECT, ids.PANEL_FULLSCREEN):
        assert find(frame, lambda c, a=action: getattr(c, "id", None) == ids.panel_part(a, "cpu"))


def test_table_panel_frame_uses_table_keyed_ids() -> None:
    frame = panel_frame(PANELS["latency-table"])
    body = find(frame, lambda c: isinstance(c, html.Tbody))
    assert body.id == {"type": ids.PANEL_TABLE, "table": "latency-table"}
    buttons = [b.id for b in find_all(frame, lambda c: isinstance(c, html.Button))]
    sort_buttons = [b for b in buttons if isinstance(b, dict) and b["type"] == ids.PANEL_SORT]
    assert [b["column"] for b in sort_buttons] == ["series", "last", "min", "max", "avg"]
    assert all(b["table"] == "latency-table" for b in sort_buttons)
    assert find(frame, lambda c: isinstance(c, dcc.Graph)) is None
    spec_store = find(
        frame, lambda c: getattr(c, "id", None) == ids.panel_spec("latency-table", "table")
    )
    assert spec_store is not None


def test_text_panels_render_markdown_without_html() -> None:
    content = "**hi** <script>x</script>"
    spec = parse_spec(
        {"title": "T", "panels": [{"id": "t", "type": "text", "options": {"content": content}}]}
    )
    markdown = find(panel_frame(spec.panels[0]), lambda c: isinstance(c, dcc.Markdown))
    assert markdown.dangerously_allow_html is False
    assert markdown.children == content


def test_dashboard_page_carries_the_view() -> None:
    dashboard = Dashboard(1, "service-health", "Service health", {}, 3, T0, T0, None)
    view = ViewState("now-24h", "now", "10s", {"host": ["web-1"]})
    page = dashboard_page(dashboard, SPEC, view, {"host": ["web-1", "web-2"]})
    by_id = lambda wanted: find(page, lambda c: getattr(c, "id", None) == wanted)  # noqa: E731
    assert by_id(ids.TIME_RANGE).data == {"from": "now-24h", "to": "now", "tz": "UTC"}
    assert by_id(ids.TIME_PRESET).value == "now-24h"
    assert by_id(ids.REFRESH_PICKER).value == "10s"
    assert by_id(ids.AUTO_REFRESH).interval == 10_000 and by_id(ids.AUTO_REFRESH).disabled is False
    host = by_id(ids.variable("host"))
    assert host.value == ["web-1"]
    assert [o["value"] for o in host.options] == ["*", "web-1", "web-2"]
    assert find(page, lambda c: isinstance(c, html.H1)).children == "Service health"


def test_home_lists_dashboards_with_links_and_tags() -> None:
    summary = DashboardSummary("ops", "Ops", ["web"], 3, 1, T0, None)
    page = dashboard_list([summary])
    link = find(page, lambda c: isinstance(c, dcc.Link))
    assert (link.children, link.href) == ("Ops", "/d/ops")
    assert find(page, lambda c: getattr(c, "className", "") == "tag").children == "web"
    empty = dashboard_list([])
    assert find(empty, lambda c: isinstance(c, html.H2)).children == "No dashboards yet"
    assert find(empty, lambda c: getattr(c, "id", None) == "new-dashboard") is None
    editor_home = dashboard_list([summary], can_edit=True)
    assert find(editor_home, lambda c: getattr(c, "id", None) == "new-dashboard").href == "/new"
    assert dashboard_cards([], "  ").children == "No dashboards yet."
    assert dashboard_cards([], "billing").children == "No dashboard matches “billing”."


def test_timeseries_figure_styles_units_and_thresholds() -> None:
    figure = timeseries_figure(
        PANELS["cpu"], [result(line("web-1", [1, 2]), line("web-2", [3, 4]))]
    )
    assert [t["name"] for t in figure["data"]] == ["web-1", "web-2"]
    assert figure["data"][0]["type"] == "scatter" and figure["data"][0]["mode"] == "lines"
    yaxis = figure["layout"]["yaxis"]  # cpu: percent, a threshold at 90
    assert yaxis["tickmode"] == "array" and yaxis["ticktext"][-1] == "100%"
    assert figure["data"][0]["customdata"] == ["1%", "2%"]
    assert figure["layout"]["shapes"][0]["y0"] == 90
    assert figure["layout"]["xaxis"]["range"] == ["2026-01-01 00:00:00", "2026-01-01 01:00:00"]
    stacked = timeseries_figure(PANELS["requests"], [result(line("a", [1]), line("b", [2]))])
    assert all(t.get("stackgroup") == "stack" for t in stacked["data"])
    bars = timeseries_figure(PANELS["errors-by-host"], [result(line("a", [1]))])
    assert bars["data"][0]["type"] == "bar"


def test_timeseries_options_log_scale_and_bounds() -> None:
    panel = PANELS["cpu"].model_copy(
        update={"options": PANELS["cpu"].options.model_copy(update={"log_scale": True, "y_min": 0})}
    )
    yaxis = timeseries_figure(panel, [result(line("a", [1]))])["layout"]["yaxis"]
    assert yaxis["type"] == "log" and yaxis["range"] == [0, None] and yaxis["autorange"] == "max"


def test_many_points_switch_to_webgl() -> None:
    big = line("x", [float(i) for i in range(50_000)])
    assert timeseries_figure(PANELS["cpu"], [result(big)])["data"][0]["type"] == "scattergl"


def test_threshold_bands_stop_at_the_data() -> None:
    thresholds = [{"value": 50, "color": "orange"}, {"value": 80, "color": "red"}]
    options = {"threshold_style": "band", "thresholds": thresholds}
    panel = parse_spec(
        {"title": "T", "panels": [{"id": "p", "type": "timeseries", "options": options}]}
    ).panels[0]
    shapes = threshold_shapes(panel.options.thresholds, "band", ceiling=95)
    assert [(s["y0"], s["y1"], s["fillcolor"]) for s in shapes] == [
        (50, 80, "#d97706"), (80, 95, "#ef4444"),
    ]  # fmt: skip


def test_stat_figure_shows_value_change_and_threshold_colour() -> None:
    options = {"unit": "percent", "thresholds": [{"value": 70, "color": "orange"}]}
    cpu = parse_spec(
        {"title": "T", "panels": [{"id": "s", "type": "stat", "options": options}]}
    ).panels[0]
    figure = stat_figure(cpu, result(line("cpu", [50, 75])), 75.0, 60.0)
    big, change = figure["layout"]["annotations"]
    assert big["text"] == "<b>75%</b>" and big["font"]["color"] == "#d97706"
    assert change["text"] == "▲ 25.0% vs previous period"
    assert figure["data"][0]["y"] == [50, 75]


def test_stat_says_stale_when_data_stopped() -> None:
    panel = PANELS["latency-now"]
    current = result(line("lat", [80.0, 90.0]))  # last bucket at T0 + 1 min
    fresh = stat_figure(panel, current, 90.0, None, now=T0 + timedelta(minutes=3))
    stale = stat_figure(panel, current, 90.0, None, now=T0 + timedelta(minutes=30))
    assert "stale" not in str(fresh["layout"]["annotations"])
    assert stale["layout"]["annotations"][1]["text"] == "stale: no recent data"


def test_stat_without_data_prints_a_dash() -> None:
    figure = stat_figure(PANELS["latency-now"], result(), None, None)
    assert figure["layout"]["annotations"][0]["text"] == f"<b>{NO_VALUE}</b>"


def test_gauge_figure_bounds_value_and_threshold_steps() -> None:
    figure = gauge_figure(PANELS["cpu-gauge"], 95.0)
    indicator = figure["data"][0]
    assert indicator["type"] == "indicator" and indicator["value"] == 95.0
    assert indicator["gauge"]["axis"]["range"] == [0, 100]
    assert indicator["gauge"]["bar"]["color"] == "#ef4444"
    assert [s["range"] for s in indicator["gauge"]["steps"]] == [[0, 70], [70, 90], [90, 100]]


def test_gauge_says_stale_when_data_stopped_as_a_stat_does() -> None:
    panel = PANELS["cpu-gauge"]
    current = result(line("cpu", [80.0, 95.0]))  # last bucket at T0 + 1 min
    fresh = gauge_figure(panel, 95.0, current=current, now=T0 + timedelta(minutes=3))
    stale = gauge_figure(panel, 95.0, current=current, now=T0 + timedelta(minutes=30))
    notes = [a["text"] for a in fresh["layout"]["annotations"]]
    assert notes == ["<b>95%</b>"]  # the number, printed by the unit formatter
    assert fresh["data"][0]["gauge"]["bar"]["color"] == "#ef4444"
    number, note = stale["layout"]["annotations"]
    assert note["text"] == "stale: no recent data"
    muted = stale["data"][0]["gauge"]["bar"]["color"]
    assert muted != "#ef4444" and number["font"]["color"] == muted


def test_bar_figure_reduces_each_series() -> None:
    reductions = from_buckets(result(line("web-1", [1, 3]), line("web-2", [5])))
    figure = bar_figure(PANELS["rps-by-host"], reductions)
    bars = figure["data"][0]
    assert bars["x"] == ["web-1", "web-2"] and bars["y"] == [2.0, 5.0]
    assert bars["text"] == ["2 req/s", "5 req/s"]


def test_table_rows_print_each_statistic_in_the_panel_unit() -> None:
    panel = PANELS["latency-table"]
    rows = table_rows(panel, from_buckets(result(line("web-1", [10, 30, None, 20]))))
    assert rows == [{"series": "web-1", "last": 20, "min": 10, "max": 30, "avg": 20.0}]
    cells = [cell.children for cell in table_body(panel, rows)[0].children]
    assert cells == ["web-1", "20 ms", "10 ms", "30 ms", "20 ms"]


def test_table_sorting_toggles_and_keeps_missing_values_last() -> None:
    rows = [
        {"series": "b", "last": 2.0, "min": 1, "max": 9, "avg": 5},
        {"series": "a", "last": None, "min": 1, "max": 3, "avg": 2},
        {"series": "c", "last": 7.0, "min": 0, "max": 4, "avg": 1},
    ]
    by_last = next_sort(None, "last")
    assert by_last == {"column": "last", "descending": True}  # numbers: largest first
    assert [r["series"] for r in sort_rows(rows, by_last)] == ["c", "b", "a"]
    again = next_sort(by_last, "last")
    assert [r["series"] for r in sort_rows(rows, again)] == ["b", "c", "a"]
    by_name = next_sort(again, "series")
    assert [r["series"] for r in sort_rows(rows, by_name)] == ["a", "b", "c"]
    assert [r["series"] for r in sort_rows(rows, None)] == ["b", "a", "c"]
    assert header_classes(by_name)[0].endswith("sorted-asc")
    assert header_classes(by_last)[1].endswith("sorted-desc")


def test_heatmap_figure_puts_counts_on_value_bins() -> None:
    histogram = Histogram([T0, T0 + timedelta(minutes=1)], [0.0, 10.0, 20.0], [[1, 0], [2, 5]],
                          T0, T0 + timedelta(minutes=2), timedelta(minutes=1), 2, 1.0)  # fmt: skip
    trace = heatmap_figure(PANELS["latency-heatmap"], histogram)["data"][0]
    assert trace["type"] == "heatmap" and trace["y"] == ["5 ms", "15 ms"]
    assert trace["z"] == [[1, 0], [2, 5]]
    assert panel_csv(PanelData([], histogram=histogram)).splitlines()[1:3] == [
        f"{T0.isoformat()},0.0,10.0,1", f"{T0.isoformat()},10.0,20.0,2",
    ]  # fmt: skip


def test_render_figure_dispatches_on_panel_type() -> None:
    buckets = result(line("a", [1.0, 3.0]))
    data = PanelData([buckets], reductions=from_buckets(buckets))
    stat = render_figure(PANELS["rps"], data)  # reduce avg
    assert stat["layout"]["annotations"][0]["text"] == "<b>2 req/s</b>"
    assert render_figure(PANELS["cpu"], data)["data"][0]["name"] == "a"
    gauge = render_figure(PANELS["cpu-gauge"], data)["data"][0]  # reduce last
    assert (gauge["type"], gauge["value"]) == ("indicator", 3.0)
    assert render_figure(PANELS["rps-by-host"], data)["data"][0]["type"] == "bar"


def test_inspect_body_and_csv_describe_the_query() -> None:
    data = PanelData([result(line("web-1", [1.5, None]))])
    body = inspect_body(PANELS["cpu"], data)
    table = find(body[0], lambda c: isinstance(c, html.Table))
    facts = {row.children[0].children: row.children[1].children for row in table.children}
    assert facts["points"] == "2" and facts["source"] == "points" and facts["bucket"] == "1m"
    assert facts["series shown"] == "1 of 1" and facts["served from cache"] == "no"
    csv_lines = panel_csv(data).splitlines()
    assert csv_lines == ["time,series,value", f"{T0.isoformat()},web-1,1.5",
                         f"{(T0 + timedelta(minutes=1)).isoformat()},web-1,"]  # fmt: skip


def test_inspect_lists_the_blocks_cached_and_computed() -> None:
    from dataclasses import replace

    from dashapp.core.results import Block

    hour = timedelta(hours=1)
    blocks = (
        Block(T0, T0 + hour, "block", True, "rollups (60 s)"),
        Block(T0 + hour, T0 + 2 * hour, "block", False, "points", 3.5),
        Block(T0 + 2 * hour, T0 + 2 * hour + timedelta(minutes=5), "tail", False, "points", 1.0),
    )
    data = PanelData([replace(result(line("web-1", [1.5])), blocks=blocks)])
    body = inspect_body(PANELS["cpu"], data)
    facts_table = find(body[0], lambda c: isinstance(c, html.Table))
    facts = {row.children[0].children: row.children[1].children for row in facts_table.children}
    assert facts["served from cache"] == "1 of 3 blocks (the rest computed)"
    listed = find(body[0], lambda c: getattr(c, "className", None) == "facts blocks")
    cells = [[cell.children for cell in row.children] for row in listed.children[1:]]
    assert [row[1:4] for row in cells] == [
        ["block", "cached", "rollups (60 s)"],
        ["block", "computed", "points"],
        ["tail", "computed", "points"],
    ]
    assert cells[1][4] == "3.5 ms" and cells[0][4] == "-"


def test_units_print_readably() -> None:
    assert format_value(1536, "bytes") == "1.5 KiB"
    assert format_value(93.21, "percent") == "93.2%"
    assert format_value(0.25, "seconds") == "250 ms"
    assert format_value(99.989, "ms") == "100 ms"
    assert format_value(1234, "reqps") == "1.23k req/s"
    assert format_value(None, "percent") == NO_VALUE


def test_compact_keeps_the_digits_a_series_needs() -> None:
    from layouts.theme import compact

    assert compact([1.23456789, 2.0, None]) == [1.234568, 2.0, None]  # 6 digits of the spread
    counter = [1_000_000_001.0, 1_000_000_002.0, 1_000_000_003.0]
    assert compact(counter) == counter  # a counter near 1e9 moving by 1 keeps its steps
    assert compact([123456.789, 123456.789]) == [123456.789, 123456.789]  # flat: kept whole


def test_csv_cells_cannot_become_formulas() -> None:
    data = PanelData([result(line("=HYPERLINK(1)", [1.0]))])
    assert "'=HYPERLINK(1)" in panel_csv(data)


def test_the_viewport_the_browser_reports_is_clamped() -> None:
    from dashapp.core.panel_data import max_points

    assert max_points(PANELS["cpu"], 10**7) == max_points(PANELS["cpu"], 8000)
    assert max_points(PANELS["cpu"], 50) == max_points(PANELS["cpu"], None)


LINK_NAME = '<a href="https://evil.example/">Session expired</a> %{y}'


def test_names_from_data_are_text_in_charts() -> None:
    # Issue 10 item 4: plotly drew this name as a clickable link in legends and hovers.
    figure = timeseries_figure(PANELS["requests"], [result(line(LINK_NAME, [1]), line("b", [2]))])
    trace = figure["data"][0]
    assert trace["name"] == ('&lt;a href="https://evil.example/"&gt;Session expired&lt;/a&gt; %{y}')
    assert "evil" not in trace["hovertemplate"] and "<a" not in str(figure)
    bars = bar_figure(PANELS["rps-by-host"], from_buckets(result(line(LINK_NAME, [1]))))
    assert "<a" not in str(bars) and bars["data"][0]["x"][0].startswith("&lt;a href")
