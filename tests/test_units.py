"""The one unit formatter (issue 28, item 6): values, ticks, gauges, tables, tooltips and
CSV headers all print through dashapp.core.units."""

from __future__ import annotations

import pytest

from dashapp.core import units
from dashapp.core.export import panel_csv, panel_csv_wide
from dashapp.core.panel_data import PanelData
from dashapp.core.reductions import from_buckets
from dashapp.core.spec import SpecError, parse_spec
from layouts.charts import bar_figure, heatmap_figure, timeseries_figure
from layouts.stats import gauge_figure, stat_figure
from layouts.tables import table_body, table_rows
from tests.test_layouts import line, result

MEMORY = 7.217e9  # bytes, as the gauge on memory.used showed "7.217e+9 B"


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (MEMORY, "bytes", "6.72 GiB"),  # Grafana's bytes are IEC
        (MEMORY, "decbytes", "7.22 GB"),
        (1536, "bytes", "1.5 KiB"),
        (1023.99 * 1024, "bytes", "1 MiB"),  # not "1024 KiB"
        (512, "bytes", "512 B"),
        (2048, "bits", "2 Kib"),
        (5e6, "decbits", "5 Mb"),
        (5e6, "Bps", "5 MB/s"),
        (5 * 1024**2, "binBps", "5 MiB/s"),
        (5e6, "bps", "5 Mb/s"),
        (0.25, "s", "250 ms"),
        (0.25, "seconds", "250 ms"),  # this app's older name
        (250, "ms", "250 ms"),
        (99.989, "ms", "100 ms"),
        (1500, "ms", "1.5 s"),
        (125, "us", "125 µs"),
        (125, "µs", "125 µs"),
        (1500, "ns", "1.5 µs"),
        (5400, "s", "1.5 h"),
        (0, "ms", "0 ms"),
        (93.21, "percent", "93.2%"),
        (0.932, "percentunit", "93.2%"),
        (1234, "reqps", "1.23k req/s"),
        (12, "ops", "12 ops/s"),
        (1234567, "short", "1.23M"),
        (12345.678, "none", "12346"),
        (1500, "currencyUSD", "$1.5K"),
        (-2.5e6, "currencyEUR", "-€2.5M"),
        (21.5, "celsius", "21.5 °C"),
        (2.4e9, "hertz", "2.4 GHz"),
        (12, "suffix: rpm", "12 rpm"),
        (3, "prefix:~", "~3"),
        (4.2e3, "si:W", "4.2 kW"),
        (1.2e6, "count:jobs", "1.2M jobs"),
        (12, "currency:CHF", "CHF12"),
        (None, "bytes", units.NO_VALUE),
        (float("nan"), "ms", units.NO_VALUE),
    ],
)
def test_values_print_as_people_read_them(value: float | None, unit: str, text: str) -> None:
    assert units.format_value(value, unit) == text


def test_decimals_are_the_panels_when_it_sets_them() -> None:
    assert units.format_value(MEMORY, "decbytes", decimals=0) == "7 GB"
    assert units.format_value(0.5, "percentunit", decimals=2) == "50.00%"


@pytest.mark.parametrize(
    ("unit", "low", "high", "texts"),
    [
        ("bytes", 0, MEMORY, ["0 GiB", "2 GiB", "4 GiB", "6 GiB", "8 GiB"]),
        ("decbytes", 0, 16e9, ["0 GB", "5 GB", "10 GB", "15 GB", "20 GB"]),
        ("ms", 0, 350, ["0 ms", "100 ms", "200 ms", "300 ms", "400 ms"]),
        ("s", 0, 7200, ["0 h", "0.5 h", "1 h", "1.5 h", "2 h"]),
        ("percentunit", 0, 0.93, ["0%", "20%", "40%", "60%", "80%", "100%"]),
        ("short", -3, 3, ["-4", "-2", "0", "2", "4"]),
    ],
)
def test_axis_ticks_fall_on_round_numbers_of_the_units_scale(
    unit: str, low: float, high: float, texts: list[str]
) -> None:
    values, labels = units.axis_ticks(unit, low, high)
    assert labels == texts
    assert values[0] <= low and values[-1] >= high


def test_log_ticks_are_steps_of_the_units_scale() -> None:
    _, labels = units.axis_ticks("bytes", 2e3, 3e6, log=True)
    assert labels == ["1 KiB", "10 KiB", "100 KiB", "1 MiB", "10 MiB"]


def test_a_dial_without_a_max_ends_at_a_round_number_above_the_value() -> None:
    assert units.nice_ceiling("percent", 42) == 100
    assert units.nice_ceiling("percentunit", 0.4) == 1
    assert units.nice_ceiling("bytes", MEMORY) == 8 * 1024**3
    assert units.nice_ceiling("ms", 233) == 300


def test_grafana_ids_and_old_names_are_units_and_nonsense_is_not() -> None:
    grafana = ["bytes", "decbytes", "bits", "s", "ms", "µs", "us", "ns", "percent",
               "percentunit", "reqps", "ops", "Bps", "bps", "short", "none", "currencyUSD",
               "currencyEUR", "celsius", "hertz"]  # fmt: skip
    old = ["seconds", "percent", "bytes", "bits", "ms", "reqps", "ops", "celsius"]
    assert all(units.is_unit(u) for u in grafana + old)
    assert not units.is_unit("parsecs") and not units.is_unit("suffix:<b>x</b>")
    spec = {"title": "t", "panels": [{"id": "p", "type": "stat", "options": {"unit": "parsecs"}}]}
    with pytest.raises(SpecError, match="'parsecs' is not a unit"):
        parse_spec(spec)


def _panel(kind: str, **options: object):  # type: ignore[no-untyped-def]
    spec = parse_spec({"title": "t", "panels": [{"id": "p", "type": kind, "options": options}]})
    return spec.panels[0]


def test_the_memory_gauge_reads_like_the_time_series() -> None:
    """Issue 28: "7.217e+9 B" on a 0-100 dial, ticks "2B…16B" while lines said "7GB"."""
    gauge = gauge_figure(_panel("gauge", unit="decbytes"), MEMORY)
    dial = gauge["data"][0]["gauge"]["axis"]
    assert gauge["layout"]["annotations"][0]["text"] == "<b>7.22 GB</b>"
    assert dial["range"] == [0, 8e9] and dial["ticktext"][-1] == "8 GB"
    fixed = gauge_figure(_panel("gauge", unit="decbytes", max=16e9), MEMORY)["data"][0]
    assert fixed["gauge"]["axis"]["ticktext"] == ["0 GB", "5 GB", "10 GB", "15 GB"]
    lines = timeseries_figure(_panel("timeseries", unit="decbytes"), [result(line("m", [MEMORY]))])
    assert lines["data"][0]["customdata"] == ["7.22 GB"]
    assert "8 GB" in lines["layout"]["yaxis"]["ticktext"]


def test_every_panel_type_prints_through_the_formatter() -> None:
    data = result(line("web-1", [MEMORY]), line("web-2", [2 * MEMORY]))
    stat = stat_figure(_panel("stat", unit="bytes"), data, MEMORY, None)
    assert stat["layout"]["annotations"][0]["text"] == "<b>6.72 GiB</b>"
    reductions = from_buckets(data)
    bars = bar_figure(_panel("bar", unit="bytes"), reductions)
    assert bars["data"][0]["text"] == ["6.72 GiB", "13.4 GiB"]
    assert bars["layout"]["yaxis"]["ticktext"][-1].endswith("GiB")
    table = _panel("table", unit="bytes")
    cells = [c.children for c in table_body(table, table_rows(table, reductions))[0].children]
    assert cells[1:] == ["6.72 GiB"] * 4
    stacked = timeseries_figure(_panel("timeseries", unit="bytes", style="stacked"), [data])
    top = stacked["layout"]["yaxis"]["tickvals"][-1]
    assert top >= 3 * MEMORY  # the stack's total, not the biggest series, sets the axis


def test_heatmap_bins_are_named_in_the_unit() -> None:
    from datetime import timedelta

    from dashapp.core.results import Histogram
    from tests.test_layouts import T0

    edges = [0.0, 50.0, 100.0, 150.0]
    histogram = Histogram([T0], edges, [[1], [2], [3]], T0, T0, timedelta(minutes=1), 1, 1.0)
    figure = heatmap_figure(_panel("heatmap", unit="ms"), histogram)
    assert figure["data"][0]["y"] == ["25 ms", "75 ms", "125 ms"]


def test_csv_headers_name_the_unit_of_the_raw_values() -> None:
    data = PanelData([result(line("web-1", [MEMORY]))])
    assert panel_csv(data, "bytes").splitlines()[0] == "time,series,value (bytes)"
    assert panel_csv_wide(data, "ms").splitlines()[0] == "time,web-1 (ms)"
    assert panel_csv(data, "short").splitlines()[0] == "time,series,value"
    assert panel_csv(data).splitlines()[1].endswith(",7217000000.0")  # values stay raw
