"""Readability of charts (item 10 of issue 14): layouts and the view callback."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from dashapp.core.results import Histogram
from dashapp.core.spec import parse_spec
from layouts import ids
from layouts.charts import heatmap_figure, timeseries_figure
from layouts.panels import GRAPH_CONFIG
from layouts.stats import stat_figure
from tests.test_callbacks import navigate_with
from tests.test_layouts import PANELS, T0, line, result


def test_several_area_series_draw_as_lines_one_keeps_its_fill() -> None:
    spec = parse_spec({"title": "t", "panels": [
        {"id": "a", "type": "timeseries", "options": {"style": "area"}}]})  # fmt: skip
    several = timeseries_figure(spec.panels[0], [result(line("a", [1]), line("b", [2]))])
    single = timeseries_figure(spec.panels[0], [result(line("a", [1]))])
    assert all("fill" not in t for t in several["data"])
    assert single["data"][0]["fill"] == "tozeroy"


def test_the_sparkline_stays_under_the_number() -> None:
    figure = stat_figure(PANELS["rps"], result(line("a", [1, 2, 3])), 3.0, 2.0)
    assert figure["layout"]["yaxis"]["domain"][1] < figure["layout"]["annotations"][1]["y"]


def test_the_heatmap_colour_bar_has_a_title_and_the_date_room() -> None:
    histogram = Histogram([T0], [0.0, 1.0], [[1]], T0, T0, timedelta(minutes=1), 1, 1.0)
    figure = heatmap_figure(PANELS["latency-heatmap"], histogram)
    assert figure["data"][0]["colorbar"]["title"]["text"] == "samples"
    assert figure["layout"]["margin"]["b"] >= 40


def test_plotly_tips_are_off_and_a_double_click_zooms_out(app: Flask) -> None:
    assert GRAPH_CONFIG["showTips"] is False
    with app.test_request_context():
        out = navigate_with({"type": ids.PANEL_GRAPH, "panel": "cpu"}, "relayoutData",
                            {"xaxis.autorange": True})  # fmt: skip
    assert out["time_range"]["from"] == "now-12h"


def test_inspect_shows_a_data_table_the_json_and_offers_wide_csv() -> None:
    from dashapp.core.export import panel_csv_wide
    from dashapp.core.panel_data import PanelData
    from layouts.inspect import inspect_body
    from tests.test_layouts import find

    data = PanelData([result(line("web-1", [1.0, 2.0]), line("web-2", [3.0, None]))])
    wide = panel_csv_wide(data).splitlines()
    assert wide[0] == "time,web-1,web-2"
    assert wide[1].endswith(",1.0,3.0") and wide[2].endswith(",2.0,")
    body = inspect_body(PANELS["cpu"], data)
    titles = [find(s, lambda c: getattr(c, "children", None) in ("Data", "Panel JSON"))
              for s in body]  # fmt: skip
    assert [t.children for t in titles if t is not None] == ["Data", "Panel JSON"]
