"""Draft edits, the panel form and version diffs: pure functions, no browser."""

from __future__ import annotations

import pytest

from dashapp.core import editing, forms
from dashapp.core.demo import dashboard_spec
from dashapp.core.diff import diff_specs, summarize
from dashapp.core.spec import dump_spec, parse_spec

DEMO = dashboard_spec()


def test_add_duplicate_remove_panels_keep_ids_unique() -> None:
    doc, first = editing.add_panel({"title": "T", "panels": []}, "timeseries")
    doc, second = editing.add_panel(doc, "timeseries")
    assert (first, second) == ("timeseries", "timeseries-2")
    assert doc["panels"][1]["grid"]["y"] == 8  # stacked below the first
    doc, copy_id = editing.duplicate_panel(doc, "timeseries")
    assert copy_id == "timeseries-3" and doc["panels"][2]["title"].endswith("(copy)")
    doc = editing.remove_panel(doc, "timeseries-2")
    assert [p["id"] for p in doc["panels"]] == ["timeseries", "timeseries-3"]
    assert parse_spec(doc).panels[0].type == "timeseries"
    with pytest.raises(ValueError, match="unknown panel type"):
        editing.add_panel(doc, "pie")


def test_edits_never_mutate_their_input() -> None:
    before = dump_spec(parse_spec(DEMO))
    snapshot = repr(before)
    editing.add_panel(before, "text")
    editing.remove_panel(before, "cpu")
    editing.apply_layout(before, [{"i": "panel-cpu", "x": 1, "y": 2, "w": 3, "h": 4}])
    editing.set_settings(before, title="Other")
    assert repr(before) == snapshot


def test_apply_layout_moves_and_clamps() -> None:
    layout = [{"i": "panel-cpu", "x": 30, "y": -1, "w": 40, "h": 1}, {"i": "other", "x": 0}]
    moved = editing.apply_layout(DEMO, layout)
    assert editing.positions(moved)["cpu"] == (23, 0, 24, 2)
    assert editing.positions(moved)["memory"] == editing.positions(DEMO)["memory"]


def test_settings_and_variables() -> None:
    doc = editing.set_settings(DEMO, title="Ops", tags="a, b ,", time_from="now-1h", refresh="1m")
    spec = parse_spec(doc)
    assert (spec.title, spec.tags, spec.time.from_, spec.time.refresh) == (
        "Ops", ["a", "b"], "now-1h", "1m",
    )  # fmt: skip
    doc = editing.set_variables(doc, [{"name": "region", "key": "region"}])
    assert parse_spec(doc).variables[0].key == "region"


def test_option_fields_come_from_the_spec_models() -> None:
    fields = {f.name: f for f in forms.option_fields("timeseries")}
    assert fields["unit"].kind == "unit" and {"bytes", "decbytes"} <= set(fields["unit"].choices)
    assert fields["log_scale"].kind == "checkbox"
    assert fields["y_min"].kind == "number"
    assert fields["thresholds"].kind == "thresholds"
    assert forms.option_fields("text")[0].kind == "markdown"


def test_form_round_trip_of_a_panel() -> None:
    panel = next(p for p in dump_spec(parse_spec(DEMO))["panels"] if p["id"] == "cpu")
    options = forms.option_values(panel)
    assert options["thresholds"] == "90:red" and options["legend"] == ["legend"]
    queries = [forms.query_values(q) for q in panel["queries"]]
    rebuilt = forms.panel_from_form(
        panel, {"title": panel["title"], "description": "", "type": "timeseries"}, options, queries
    )
    validated, errors = forms.validate_panel(rebuilt)
    assert errors == {} and validated.model_dump(mode="json", by_alias=True) == panel


def test_form_errors_point_at_their_fields() -> None:
    panel = {"id": "p", "type": "timeseries", "grid": {"x": 0, "y": 0, "w": 12, "h": 8}}
    document = forms.panel_from_form(
        panel,
        {"title": "x" * 300, "type": "timeseries"},
        {"thresholds": "ninety:red", "y_min": "", "unit": "parsecs"},
        [{"metric": "", "labels": "region"}],
    )
    validated, errors = forms.validate_panel(document)
    assert validated is None
    assert set(errors) >= {"title", "option:thresholds", "option:unit", "query:0:metric",
                           "query:0:labels"}  # fmt: skip


def test_thresholds_and_labels_text() -> None:
    assert forms.parse_thresholds("70:orange, 90") == [
        {"value": 70.0, "color": "orange"}, {"value": 90.0, "color": "red"},
    ]  # fmt: skip
    assert forms.parse_labels("region=eu, env = prod") == {"region": "eu", "env": "prod"}
    assert forms.labels_text({"a": "1"}) == "a=1"


def test_diff_names_what_changed() -> None:
    new = editing.remove_panel(DEMO, "about")
    new, _ = editing.add_panel(new, "gauge")
    new = editing.set_settings(new, title="Renamed")
    cpu = next(p for p in new["panels"] if p["id"] == "cpu")
    new = editing.replace_panel(new, {**cpu, "options": {**cpu["options"], "unit": "short"}})
    changes = diff_specs(DEMO, new)
    described = {(c.kind, c.where, c.field) for c in changes}
    assert ("removed", "panel 'About' (about)", "") in described
    assert ("added", "panel 'New gauge panel' (gauge)", "") in described
    assert ("changed", "dashboard", "title") in described
    assert ("changed", "panel 'CPU usage by host' (cpu)", "options.unit") in described
    unit = next(c for c in changes if c.field == "options.unit")
    assert (unit.before, unit.after) == ("percent", "short")
    assert summarize(changes) == "1 added, 1 removed, 2 fields changed"
    assert diff_specs(DEMO, DEMO) == [] and summarize([]) == "no differences"


def test_variable_rows_keep_what_the_rows_do_not_show() -> None:
    existing = [{"name": "host", "key": "source", "default": ["web-1"], "metric": "cpu"}]
    rows = {0: {"name": "host", "label": "Host", "metric": "cpu", "key": "source",
                "flags": ["multi"]}}  # fmt: skip
    (variable,) = forms.variables_from_rows(rows, existing)
    assert variable["default"] == ["web-1"] and variable["label"] == "Host"
    assert (variable["multi"], variable["include_all"]) == (True, False)
    assert forms.variables_from_rows(rows, existing, remove=0) == []
    added = forms.variables_from_rows(rows, existing, add=True)
    assert added[1] == {"name": "var2", "key": "source"}


def test_compaction_closes_gaps_and_new_panels_go_on_top() -> None:
    doc = {"title": "T", "panels": [
        {"id": "a", "type": "text", "grid": {"x": 0, "y": 0, "w": 12, "h": 4}},
        {"id": "b", "type": "text", "grid": {"x": 12, "y": 10, "w": 12, "h": 4}},
        {"id": "c", "type": "text", "grid": {"x": 0, "y": 20, "w": 24, "h": 4}},
    ]}  # fmt: skip
    packed = editing.positions(editing.compact(doc))
    assert packed == {"a": (0, 0, 12, 4), "b": (12, 0, 12, 4), "c": (0, 4, 24, 4)}
    on_top, new = editing.add_panel(editing.compact(doc), "stat", at_top=True)
    placed = editing.positions(on_top)
    assert placed[new][1] == 0 and placed["a"][1] == placed[new][3]  # the rest moved down


def test_form_errors_are_in_plain_words() -> None:
    base = {"id": "p", "type": "timeseries"}
    document = forms.panel_from_form(
        base, {"type": "timeseries", "title": "x" * 300},
        {"thresholds": "ninety", "series_limit": 0},
        [{"metric": "", "labels": "oops"}],
    )  # fmt: skip
    _, errors = forms.validate_panel(document)
    assert errors["query:0:metric"] == "Pick a metric."
    assert errors["query:0:labels"].startswith("Write labels as key=value")
    assert errors["option:thresholds"].startswith("Write thresholds as value:colour")
    assert errors["option:series_limit"] == "At least 1."
    assert errors["title"] == "Too long: at most 200 characters."
    assert not any("should" in message for message in errors.values())


def test_the_form_names_the_bad_colour_and_the_inverted_range() -> None:
    """Issue 28, item 8: the editor says what is wrong next to the field."""
    panel = {"id": "p", "type": "timeseries", "grid": {"x": 0, "y": 0, "w": 12, "h": 8}}
    document = forms.panel_from_form(
        panel, {"type": "timeseries"},
        {"y_min": 100, "y_max": 10, "colors": "web-1=notacolor", "thresholds": "90:blurple"},
        [{"metric": "cpu"}],
    )  # fmt: skip
    validated, errors = forms.validate_panel(document)
    assert validated is None
    assert errors["option:y_max"] == "Y max must be above Y min (100)"
    assert errors["option:colors"].startswith("'notacolor' is not a colour")
    assert errors["option:thresholds"].startswith("'blurple' is not a colour")


def test_a_panel_saved_with_old_nonsense_still_opens_in_the_form() -> None:
    panel = {"id": "p", "type": "timeseries", "options": {"y_min": 100, "y_max": 10}}
    assert forms.option_values(panel)["y_max"] == 10


def test_the_form_knows_when_it_holds_changes() -> None:
    """Issue 28, item 5: leaving asks only when there is something to lose."""
    saved = next(p for p in dump_spec(parse_spec(DEMO))["panels"] if p["id"] == "cpu")
    fresh, _ = editing.add_panel({"title": "t", "panels": []}, "timeseries")
    for panel in (saved, fresh["panels"][0]):
        untouched = forms.untouched_form(panel)
        general = {k: untouched[k] for k in ("title", "description", "type")}
        queries = [forms.query_values(q) for q in panel.get("queries", [])] or [
            forms.query_values({"metric": None})
        ]
        options = forms.option_values(panel)
        assert not forms.form_changed(panel, general, options, queries)
        assert forms.form_changed(panel, {**general, "title": "Renamed"}, options, queries)
        assert forms.form_changed(panel, general, {**options, "unit": "bytes"}, queries)
