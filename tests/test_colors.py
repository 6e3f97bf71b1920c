"""Series colours follow the series, not its position (layouts, no browser)."""

from __future__ import annotations

from dashapp.core import forms
from dashapp.core.reductions import from_buckets
from dashapp.core.spec import parse_spec
from layouts.charts import bar_figure, timeseries_figure
from layouts.theme import PALETTE, series_colors
from tests.test_layouts import PANELS, line, result

HOSTS = ["api-1", "web-1", "web-2", "web-3"]


def colors_of(figure: dict) -> dict[str, str]:
    return {trace["name"]: trace["line"]["color"] for trace in figure["data"]}


def test_a_series_keeps_its_colour_when_others_come_and_go() -> None:
    everything = series_colors([*HOSTS, "db-1"])
    assert series_colors(HOSTS[::-1]) == {h: everything[h] for h in HOSTS}
    assert series_colors(["web-2"])["web-2"] == series_colors(HOSTS)["web-2"]
    assert len(set(series_colors(HOSTS).values())) == len(HOSTS)  # distinct in one panel
    assert set(everything.values()) <= set(PALETTE)


def test_the_same_host_has_the_same_colour_in_every_panel() -> None:
    cpu = timeseries_figure(PANELS["cpu"], [result(*(line(h, [1, 2]) for h in HOSTS))])
    fewer = timeseries_figure(PANELS["memory"], [result(*(line(h, [3]) for h in HOSTS[1:]))])
    assert {h: colors_of(cpu)[h] for h in HOSTS[1:]} == colors_of(fewer)
    reductions = from_buckets(result(*(line(h, [1.0]) for h in HOSTS)))
    bars = bar_figure(PANELS["rps-by-host"], reductions)["data"][0]
    assert dict(zip(bars["x"], bars["marker"]["color"], strict=True)) == colors_of(cpu)


def test_a_panel_can_override_a_series_colour() -> None:
    spec = parse_spec({"title": "t", "panels": [{"id": "p", "type": "timeseries",
                       "options": {"colors": {"web-1": "red", "web-2": "#123456"}}}]})  # fmt: skip
    figure = timeseries_figure(spec.panels[0], [result(*(line(h, [1]) for h in HOSTS))])
    assert colors_of(figure)["web-1"] == "#ef4444" and colors_of(figure)["web-2"] == "#123456"
    assert "#ef4444" not in [colors_of(figure)[h] for h in ("api-1", "web-3")]


def test_the_panel_editor_edits_colour_overrides_as_text() -> None:
    panel = {"id": "p", "type": "timeseries", "options": {"colors": {"web-1": "red"}}}
    assert forms.option_values(panel)["colors"] == "web-1=red"
    document = forms.panel_from_form(panel, {"type": "timeseries"}, {"colors": "web-2=#123"}, [])
    assert document["options"]["colors"] == {"web-2": "#123"}
    assert forms.validate_panel(document)[1] == {}


def test_numbered_series_get_distinct_neighbouring_colours() -> None:
    hosts = [f"web-{n}" for n in range(1, 21)]
    assert len(set(series_colors(hosts).values())) == 20
    assert series_colors(hosts[:3]) == {h: series_colors(hosts)[h] for h in hosts[:3]}
