"""Layout and figure builders are pure: checked by comparing trees, without a browser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from dash import dcc, html

from dashapp.demo import dashboard_spec
from dashapp.panel_data import PanelData
from dashapp.spec import parse_spec
from db.dashboards import Dashboard, DashboardSummary
from db.query import QueryResult, Series
from layouts import ids
from layouts.dashboard import dashboard_page
from layouts.figures import render_figure, stat_figure, threshold_shapes, timeseries_figure
from layouts.home import dashboard_list
from layouts.panels import grid_layout, panel_frame
from layouts.units import NO_VALUE, format_value

T0 = datetime(2026, 1, 1, tzinfo=UTC)
SPEC = parse_spec(dashboard_spec())


def result(*series: Series) -> QueryResult:
    return QueryResult(list(series), T0, T0 + timedelta(hours=1), timedelta(minutes=1),
                       "buckets", len(series), 1.0)  # fmt: skip


def line(name: str, values: list[float]) -> Series:
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


def test_grid_layout_mirrors_the_spec() -> None:
    layout = grid_layout(SPEC)
    assert layout[0] == {"i": "panel-rps", "x": 0, "y": 0, "w": 6, "h": 5}
    assert len(layout) == len(SPEC.panels)


def test_panel_frame_holds_a_graph_a_status_and_the_spec() -> None:
    panel = SPEC.panels[4]
    frame = panel_frame(panel)
    assert frame.id == ids.grid_item(panel.id)
    graph = find(frame, lambda c: isinstance(c, dcc.Graph))
    assert graph.id == ids.panel_graph(panel.id)
    assert find(frame, lambda c: isinstance(c, dcc.Loading)) is not None
    store = find(frame, lambda c: isinstance(c, dcc.Store))
    assert store.data["queries"][0]["metric"] == "cpu.usage"
    assert find(frame, lambda c: getattr(c, "id", None) == ids.panel_status(panel.id)) is not None


def test_text_panels_render_markdown_without_html() -> None:
    content = "**hi** <script>x</script>"
    text_panel = {"id": "t", "type": "text", "options": {"content": content}}
    spec = parse_spec({"title": "T", "panels": [text_panel]})
    markdown = find(panel_frame(spec.panels[0]), lambda c: isinstance(c, dcc.Markdown))
    assert markdown.dangerously_allow_html is False
    assert markdown.children == "**hi** <script>x</script>"


def test_dashboard_page_carries_time_range_and_panels() -> None:
    dashboard = Dashboard(1, "service-health", "Service health", {}, 3, T0, T0, None)
    page = dashboard_page(dashboard, SPEC, "now-24h", "now")
    time_range = find(page, lambda c: getattr(c, "id", None) == ids.TIME_RANGE)
    assert time_range.data == {"from": "now-24h", "to": "now"}
    picker = find(page, lambda c: getattr(c, "id", None) == ids.TIME_PRESET)
    assert picker.value == "now-24h"
    assert [o["value"] for o in picker.options][:6] == [
        "now-15m", "now-1h", "now-6h", "now-24h", "now-7d", "now-30d",
    ]  # fmt: skip
    assert find(page, lambda c: isinstance(c, html.H1)).children == "Service health"


def test_home_lists_dashboards_with_links_and_tags() -> None:
    summary = DashboardSummary("ops", "Ops", ["web"], 3, 1, T0, None)
    page = dashboard_list([summary])
    link = find(page, lambda c: isinstance(c, dcc.Link))
    assert (link.children, link.href) == ("Ops", "/d/ops")
    assert find(page, lambda c: getattr(c, "className", "") == "tag").children == "web"
    empty = dashboard_list([])
    assert find(empty, lambda c: isinstance(c, html.H1)).children == "No dashboards yet"


def test_timeseries_figure_styles_units_and_thresholds() -> None:
    panel = SPEC.panels[4]  # CPU by host, percent, threshold at 90
    figure = timeseries_figure(panel, [result(line("web-1", [1, 2]), line("web-2", [3, 4]))])
    assert [t["name"] for t in figure["data"]] == ["web-1", "web-2"]
    assert figure["data"][0]["type"] == "scatter" and figure["data"][0]["mode"] == "lines"
    assert figure["layout"]["yaxis"]["ticksuffix"] == "%"
    assert figure["layout"]["shapes"][0]["y0"] == 90
    assert figure["layout"]["xaxis"]["range"] == [T0, T0 + timedelta(hours=1)]

    stacked = timeseries_figure(SPEC.panels[6], [result(line("a", [1]), line("b", [2]))])
    assert all(t.get("stackgroup") == "stack" for t in stacked["data"])
    bars = timeseries_figure(SPEC.panels[8], [result(line("a", [1]))])
    assert bars["data"][0]["type"] == "bar"


def test_many_points_switch_to_webgl() -> None:
    big = line("x", [float(i) for i in range(3000)])
    assert timeseries_figure(SPEC.panels[4], [result(big)])["data"][0]["type"] == "scattergl"


def test_threshold_bands_stop_at_the_data() -> None:
    thresholds = [{"value": 50, "color": "orange"}, {"value": 80, "color": "red"}]
    options = {"threshold_style": "band", "thresholds": thresholds}
    panel = parse_spec(
        {"title": "T", "panels": [{"id": "p", "type": "timeseries", "options": options}]}
    ).panels[0]
    shapes = threshold_shapes(panel.options.thresholds, "band", ceiling=95)
    assert [(s["y0"], s["y1"], s["fillcolor"]) for s in shapes] == [
        (50, 80, "orange"), (80, 95, "red"),
    ]  # fmt: skip


def test_stat_figure_shows_value_change_and_threshold_colour() -> None:
    panel = SPEC.panels[3]  # CPU (avg): last value, orange >= 70, red >= 90
    figure = stat_figure(panel, result(line("cpu", [50, 75])), result(line("cpu", [60])))
    big, change = figure["layout"]["annotations"]
    assert big["text"] == "<b>75%</b>" and big["font"]["color"] == "orange"
    assert change["text"] == "▲ 25.0% vs previous period"
    assert figure["data"][0]["y"] == [50, 75]


def test_render_figure_dispatches_on_panel_type() -> None:
    data = PanelData([result(line("a", [1.0]))], [result(line("a", [1.0]))])
    assert render_figure(SPEC.panels[0], data)["layout"]["annotations"]
    assert render_figure(SPEC.panels[4], data)["data"][0]["name"] == "a"


def test_units_print_readably() -> None:
    assert format_value(1536, "bytes") == "1.5 KiB"
    assert format_value(93.21, "percent") == "93.2%"
    assert format_value(0.25, "seconds") == "250 ms"
    assert format_value(1234, "reqps") == "1.23k req/s"
    assert format_value(None, "percent") == NO_VALUE
