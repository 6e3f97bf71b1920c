"""Explore: catalog search, the chart (panel engine, API limits) kept in the URL, and
"Add to dashboard" for editors. Thin: parse, read or command, build with layouts."""

from __future__ import annotations

from typing import Any

from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate
from pydantic import TypeAdapter
from sqlalchemy.exc import SQLAlchemyError

from callbacks.panels import PanelProblem, guard_query
from callbacks.trusted import check_cost, hit_adhoc_limit
from dashapp.auth import allowed, ui_actor
from dashapp.commands import dashboards as commands
from dashapp.commands.errors import CommandError
from dashapp.core.explore import ExploreState, explore_panel, explore_search, parse_explore
from dashapp.core.spec import Panel
from dashapp.core.timerange import resolve_range
from dashapp.extensions import database
from db import dashboards, tsdb
from db.cached import catalog
from db.panels import load_panel
from layouts import ids
from layouts.explore import PICK, catalog_results, explore_page
from layouts.figures import render_figure
from layouts.theme import empty_figure
from layouts.timepicker import preset_range

RESULTS = 50
PANEL_ADAPTER: TypeAdapter[Any] = TypeAdapter(Panel)


def register(app: Dash) -> None:
    """Wire the search, the pick buttons, the chart and Add to dashboard."""
    app.callback(
        Output(ids.EXPLORE_RESULTS, "children"),
        Input(ids.EXPLORE_SEARCH, "value"),
        prevent_initial_call=True,
    )(search)
    app.callback(
        Output(ids.EXPLORE_METRICS, "value"),
        Input({"type": PICK, "metric": ALL}, "n_clicks"),
        State(ids.EXPLORE_METRICS, "value"),
        prevent_initial_call=True,
    )(pick)
    app.callback(
        Output(ids.EXPLORE_GRAPH, "figure"),
        Output(ids.EXPLORE_STATUS, "children"),
        Output(ids.EXPLORE_URL, "search"),
        Input(ids.EXPLORE_METRICS, "value"),
        Input(ids.EXPLORE_SOURCE, "value"),
        Input(ids.EXPLORE_AGG, "value"),
        Input(ids.EXPLORE_GROUP, "value"),
        Input(ids.EXPLORE_RANGE, "value"),
        State(ids.EXPLORE_URL, "search"),
    )(chart)
    app.callback(
        Output(ids.EXPLORE_ADDED, "children"),
        Input(ids.EXPLORE_ADD, "n_clicks"),
        State(ids.EXPLORE_DASHBOARD, "value"),
        State(ids.EXPLORE_URL, "search"),
        prevent_initial_call=True,
    )(add_to_dashboard)


def page(search: str | None) -> html.Div:
    """The Explore page for the state in ``search``."""
    choices = catalog()
    listed = None
    if allowed("editor"):
        with database.transaction() as session:
            listed = dashboards.list_dashboards(session)
    keys = sorted({k for per_metric in choices["labels"].values() for k in per_metric} - {"source"})
    return explore_page(parse_explore(search), choices["metrics"], keys, listed)


def search_terms(text: str) -> dict[str, Any]:
    """``cpu source:web-1 region=eu`` as catalog filters (name part, source, labels)."""
    words, source, labels = [], None, {}
    for word in text.split():
        if word.startswith("source:"):
            source = word.removeprefix("source:") or None
        elif "=" in word:
            key, _, value = word.partition("=")
            labels[key] = value
        else:
            words.append(word)
    return {"contains": " ".join(words) or None, "source": source, "labels": labels}


def search(text: str | None) -> Any:
    """Catalog rows matching the search box, each with its newest point."""
    query = (text or "").strip()
    if not query:
        return None
    try:
        with database.transaction() as session:
            found = tsdb.catalog(session, limit=RESULTS + 1, **search_terms(query))
    except SQLAlchemyError:
        return html.P("The database is unreachable right now; try again in a moment.")
    return catalog_results(found[:RESULTS], query, len(found) > RESULTS)


def pick(_clicks: list[int | None], chosen: list[str] | None) -> list[str]:
    """A result's "+ Chart": its metric joins the chart."""
    if not ctx.triggered or not ctx.triggered[0]["value"]:
        raise PreventUpdate
    metric = ctx.triggered_id["metric"]
    return list(dict.fromkeys([*(chosen or []), metric]))[:10]


def chart(
    chosen: list[str] | None,
    source: str | None,
    agg: str | None,
    group_by: str | None,
    preset: str | None,
    search: str | None,
) -> tuple[Any, Any, Any]:
    """Chart the chosen metrics with the panel engine; the URL follows the chart."""
    before = parse_explore(search)
    window = preset_range(preset) if preset else {"from": before.time_from, "to": before.time_to}
    state = ExploreState(
        list(chosen or []),
        (source or "").strip(),
        agg or "avg",
        group_by or "source",
        window["from"],
        window["to"],
    )
    url = explore_search(state)
    url = no_update if url == search else url
    if not state.metrics:
        return empty_figure(), "Pick a metric: search above, or choose from the list.", url
    try:
        panel = PANEL_ADAPTER.validate_python(explore_panel(state))
        time_range = resolve_range(state.time_from, state.time_to)
        # Any viewer may explore, within the limits of ad-hoc queries (issue 10).
        check_cost(panel, None)
        hit_adhoc_limit()
        data = guard_query(lambda: load_panel(panel, time_range))
    except PanelProblem as problem:
        return empty_figure(), str(problem), url
    except ValueError as error:
        return empty_figure(), f"Cannot chart this: {error}", url
    if data.empty:
        return empty_figure(), "No data in this time range.", url
    return render_figure(panel, data), None, url


def add_to_dashboard(clicks: int | None, slug: str | None, search: str | None) -> Any:
    """Editors: the chart becomes a new panel at the bottom of ``slug``."""
    if not clicks:
        raise PreventUpdate
    state = parse_explore(search)
    if not slug or not state.metrics:
        return html.Span("Pick a dashboard and at least one metric first.", className="muted")
    try:
        saved = commands.add_panel(ui_actor(), slug, explore_panel(state), "Added from Explore")
    except CommandError as error:
        return html.Span(f"Not added: {error}.", className="field-error")
    return html.Span(
        [
            "Added as a new panel (version ",
            str(saved.version),
            "). ",
            dcc.Link("Open it", href=f"/d/{saved.slug}"),
        ]
    )
