"""The dashboard spec: what it accepts, what it refuses, and how it says why."""

from __future__ import annotations

import json

import pytest

from dashapp.core.demo import dashboard_spec
from dashapp.core.spec import DashboardSpec, SpecError, dump_spec, parse_spec


def minimal(**panel: object) -> dict:
    return {
        "title": "T",
        "panels": [{"id": "p1", "type": "timeseries", "queries": [{"metric": "cpu"}], **panel}],
    }


def test_demo_spec_is_valid_and_round_trips() -> None:
    spec = parse_spec(dashboard_spec())
    assert len(spec.panels) >= 6
    assert parse_spec(dump_spec(spec)) == spec
    assert dump_spec(spec)["time"] == {
        "from": "now-6h",
        "to": "now",
        "refresh": "30s",
        "timezone": "browser",
    }


def test_defaults_fill_a_minimal_spec() -> None:
    spec = parse_spec(minimal())
    assert spec.schema_version == 2
    panel = spec.panels[0]
    assert (panel.grid.w, panel.grid.h) == (12, 8)
    assert panel.queries[0].agg == "avg"


@pytest.mark.parametrize(
    ("document", "field", "words"),
    [
        (minimal(grid={"x": 20, "y": 0, "w": 8, "h": 4}), "panels.0.timeseries.grid", "x + w"),
        (minimal(grid={"x": 0, "y": 0, "w": 25, "h": 4}), "panels.0.timeseries.grid.w", "24"),
        (minimal(options={"unit": "parsecs"}), "panels.0.timeseries.options.unit", "percent"),
        (minimal(colour="red"), "panels.0.timeseries.colour", "Extra inputs"),
        (minimal(queries=[{"metric": "cpu", "agg": "median"}]), "queries.0.agg", "avg"),
        (
            minimal(queries=[{"metric": "cpu", "interval": "soon"}]),
            "queries.0.interval",
            "duration",
        ),
        ({"title": "T", "time": {"from": "yesterday"}}, "time.from", "not a time"),
        ({"title": ""}, "title", "at least 1"),
        ({"title": "T", "time": {"refresh": "7s"}}, "time.refresh", "one of off, 5s"),
    ],
)
def test_invalid_specs_name_the_field(document: dict, field: str, words: str) -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(document)
    messages = {e["field"]: e["message"] for e in caught.value.errors}
    matching = [f for f in messages if field in f]
    assert matching, messages
    assert words in messages[matching[0]]


def test_unknown_panel_type_is_refused() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec(minimal(type="pie"))
    assert "timeseries" in str(caught.value)


def test_duplicate_panel_ids_are_refused() -> None:
    document = minimal()
    document["panels"].append(dict(document["panels"][0]))
    with pytest.raises(SpecError, match="repeated: p1"):
        parse_spec(document)


def test_text_panel_needs_no_query_and_keeps_markdown() -> None:
    spec = parse_spec(
        {"title": "T", "panels": [{"id": "t", "type": "text", "options": {"content": "# Hi"}}]}
    )
    assert spec.panels[0].options.content == "# Hi"


def test_json_schema_is_exported_and_describes_panels() -> None:
    schema = DashboardSpec.model_json_schema(by_alias=True)
    json.dumps(schema)
    assert schema["properties"]["schema_version"]["const"] == 2
    panel_types = {
        definition["properties"]["type"]["const"]
        for name, definition in schema["$defs"].items()
        if name.endswith("Panel")
    }
    assert panel_types == {"timeseries", "stat", "gauge", "bar", "table", "heatmap", "text"}
    unit = schema["$defs"]["GaugeOptions"]["properties"]["unit"]
    known, custom = unit["anyOf"]
    assert {"bytes", "decbytes", "s", "ms", "percentunit", "reqps", "Bps", "short"} <= set(
        known["enum"]
    )
    assert "seconds" in known["enum"]  # the old names still validate
    assert custom["pattern"].startswith("^(suffix|prefix|si|count|currency):")


def test_version_1_documents_are_upgraded() -> None:
    old = {"schema_version": 1, "title": "Old", "refresh": "1m", "time": {"from": "now-1h"}}
    spec = parse_spec(old)
    assert spec.schema_version == 2
    assert (spec.time.from_, spec.time.refresh) == ("now-1h", "1m")
    assert dump_spec(spec)["time"]["refresh"] == "1m" and "refresh" not in dump_spec(spec)
    assert parse_spec({"schema_version": 1, "title": "No refresh"}).time.refresh == "off"


def test_unknown_future_versions_are_refused() -> None:
    with pytest.raises(SpecError) as caught:
        parse_spec({"schema_version": 9, "title": "From the future"})
    assert caught.value.errors[0]["field"] == "schema_version"


def _timeseries(**options: object) -> dict:
    return {"title": "T", "panels": [{"id": "p", "type": "timeseries", "options": options}]}


@pytest.mark.parametrize(
    ("options", "field", "words"),
    [
        ({"y_min": 100, "y_max": 10}, "options.y_max", "above Y min (100)"),
        ({"y_min": 5, "y_max": 5}, "options.y_max", "above Y min"),
        ({"colors": {"web-1": "notacolor"}}, "options.colors.web-1", "'notacolor' is not a colour"),
        ({"colors": {"web-1": "#12345"}}, "options.colors.web-1", "not a colour"),
        ({"thresholds": [{"value": 9, "color": "blurple"}]}, "thresholds.0.color", "not a colour"),
    ],
)
def test_nonsense_options_are_refused_with_their_field(
    options: dict, field: str, words: str
) -> None:
    """Issue 28, item 8: these saved silently (a chart upside down, web-1 black)."""
    with pytest.raises(SpecError) as caught:
        parse_spec(_timeseries(**options))
    messages = {e["field"]: e["message"] for e in caught.value.errors}
    assert [f for f in messages if f.endswith(field)], messages
    assert any(words in m for m in messages.values()), messages


def test_a_gauge_max_must_be_above_its_min() -> None:
    gauge = {
        "title": "T",
        "panels": [{"id": "g", "type": "gauge", "options": {"min": 50, "max": 5}}],
    }
    with pytest.raises(SpecError, match="Max must be above Min"):
        parse_spec(gauge)


def test_real_colours_pass() -> None:
    colours = {"a": "red", "b": "teal", "c": "slategray", "d": "#abc", "e": "#abcd", "f": "#0ea5e9",
               "g": "#0ea5e980"}  # fmt: skip
    assert parse_spec(_timeseries(colors=colours)).panels[0].options.colors == colours


def test_documents_saved_before_the_rules_still_open() -> None:
    """A dashboard stored with yesterday's nonsense stays readable (and fixable)."""
    old = _timeseries(y_min=100, y_max=10, colors={"web-1": "notacolor"})
    options = parse_spec(old, stored=True).panels[0].options
    assert (options.y_min, options.y_max, options.colors) == (100, 10, {"web-1": "notacolor"})
    with pytest.raises(SpecError):
        parse_spec(old)
