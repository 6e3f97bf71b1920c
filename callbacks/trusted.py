"""Which queries a panel callback may run: the server decides, not the browser.

A panel on a dashboard page carries only a reference (dashboard, version, panel id);
the server loads that panel from the stored version, so a viewer can run exactly the
queries of stored dashboards. Variables must hold values the variable offers. Ad-hoc
panels (the editor's unsaved draft, the panel editor's preview) need the editor role
and count against their own rate limit. Every panel request has a cost cap
(series x points); what is refused says why inside the panel.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from flask import current_app, request
from limits import parse_many
from pydantic import TypeAdapter, ValidationError

from dashapp.api.limits import hit_all, limit_scope
from dashapp.auth import allowed, current_username
from dashapp.core.panel_data import max_points
from dashapp.core.spec import DashboardSpec, Panel, parse_spec
from dashapp.core.view_state import ALL_CHOICE, MAX_VARIABLE_VALUES
from dashapp.settings import current_settings
from db import dashboards
from db.cache import cache, process_memo
from db.cached import unknown_values
from db.engine import database

PANEL_ADAPTER: TypeAdapter[Any] = TypeAdapter(Panel)
SPEC_CACHE_SECONDS = 3600


class PanelProblem(Exception):
    """A panel cannot be drawn (refused, invalid, failed); the message is shown inside it."""

    def __init__(self, message: str, kind: str = "error") -> None:
        super().__init__(message)
        self.kind = kind


def resolve(
    source: Mapping[str, Any] | None, variables: Mapping[str, Sequence[str]] | None
) -> tuple[Any, dict[str, list[str]]]:
    """The panel to run and the checked variables, for a panel store's ``source``
    (:func:`layouts.panels.stored_source` or :func:`layouts.panels.draft_source`)."""
    if not isinstance(source, Mapping):
        raise PanelProblem("This panel has no query reference.")
    if "draft" in source:
        saved = _unchanged_draft(source, variables)
        if saved is not None:
            return saved
        panel = check_adhoc(source["draft"])
        return panel, _as_lists(variables)
    slug, version, panel_id = source.get("dashboard"), source.get("version"), source.get("id")
    if not isinstance(slug, str) or type(version) is not int or not isinstance(panel_id, str):
        raise PanelProblem("This panel's reference is malformed: reload the page.")
    spec = _stored_spec(slug, version)
    panel = next((p for p in spec.panels if p.id == panel_id), None)
    if panel is None:
        raise PanelProblem("This panel is not part of the dashboard: reload the page.")
    return panel, check_variables(spec, variables)


def _unchanged_draft(
    source: Mapping[str, Any], variables: Mapping[str, Sequence[str]] | None
) -> tuple[Any, dict[str, list[str]]] | None:
    """A draft panel identical to the saved one it came from runs as that saved panel
    (opening a big dashboard in the editor is not a burst of ad-hoc queries)."""
    slug, version, draft = source.get("dashboard"), source.get("version"), source["draft"]
    if not isinstance(slug, str) or type(version) is not int or not isinstance(draft, dict):
        return None
    try:
        spec = _stored_spec(slug, version)
    except PanelProblem:
        return None
    saved = next((p for p in spec.panels if p.id == draft.get("id")), None)
    try:
        same = (
            saved is not None
            and PANEL_ADAPTER.validate_python(draft, context={"stored": True}) == saved
        )
    except ValidationError:
        return None
    if not same:
        return None
    try:
        return saved, check_variables(spec, variables)
    except PanelProblem:
        return None  # the draft's variables differ from the saved ones: ad hoc


def require_adhoc() -> None:
    """Ad-hoc queries: editors only, within ADHOC_RATE_LIMIT."""
    if not allowed("editor"):
        raise PanelProblem("Only editors can run unsaved panels: log in as an editor.")
    hit_adhoc_limit()


def check_adhoc(panel_document: Any) -> Any:
    """An ad-hoc panel spec, validated, for an editor within the ad-hoc rate limit."""
    require_adhoc()
    try:
        # Drawn only (Apply and Save validate in full): a panel saved before a rule was
        # added still draws.
        return PANEL_ADAPTER.validate_python(panel_document, context={"stored": True})
    except ValidationError as error:
        raise PanelProblem(f"Invalid panel: {error.error_count()} problem(s)") from None


def _stored_spec(slug: str, version: int) -> DashboardSpec:
    """A saved version's spec; versions never change, so the cache keeps them (an hour),
    and so does the process, parsed (a panel request then makes no round trip for it)."""
    memo = process_memo("dashapp.specs")
    kept = memo.get((slug, version))
    if kept is not None and kept[0] > time.monotonic():
        return kept[1]
    spec = _load_spec(slug, version)
    memo[(slug, version)] = (time.monotonic() + SPEC_CACHE_SECONDS, spec)
    return spec


def _load_spec(slug: str, version: int) -> DashboardSpec:
    key = f"dashboard-version:{slug}:{version}"
    document = cache.get(key)
    if document is None:
        try:
            with database.transaction() as session:
                document = dashboards.get_version(session, slug, version).spec
        except dashboards.DashboardNotFound:
            raise PanelProblem(
                "This dashboard or version no longer exists: reload the page."
            ) from None
        cache.set(key, document, timeout=SPEC_CACHE_SECONDS)
    return parse_spec(document, stored=True)


def check_variables(
    spec: DashboardSpec, variables: Mapping[str, Sequence[str]] | None
) -> dict[str, list[str]]:
    """Variables of ``spec`` with values among those each offers or defaults to ("All"
    is empty); names that are not the dashboard's are dropped."""
    checked: dict[str, list[str]] = {}
    defined = {variable.name: variable for variable in spec.variables}
    for name, values in (variables or {}).items():
        variable = defined.get(name)
        if variable is None:
            continue  # not this dashboard's: it cannot reach a query
        if not isinstance(values, list | tuple) or len(values) > MAX_VARIABLE_VALUES:
            raise PanelProblem(f"Variable {name}: too many values.")
        picked = [value for value in values if value != ALL_CHOICE]
        others = [value for value in picked if value not in variable.default]
        unknown = unknown_values(variable.key, variable.metric, others) if others else []
        if unknown:
            raise PanelProblem(f"Variable {name}: {unknown[0]!r} is not one of its values.")
        checked[name] = [str(value) for value in picked]
    return checked


def check_cost(panel: Any, viewport_px: int | None) -> None:
    """Refuse a panel asking for more than CALLBACK_COST_LIMIT series x points at once."""
    limit = current_settings().callback_cost_limit
    points = max_points(panel, viewport_px)
    series = len(panel.queries) * getattr(panel.options, "series_limit", 1)
    cost = series * points
    if cost > limit:
        raise PanelProblem(
            f"This panel asks for too much at once ({series} series x {points} points "
            f"> {limit}): show fewer series or queries.",
            "info",
        )


def hit_adhoc_limit() -> None:
    """Count one ad-hoc query (editor preview, Explore) against ADHOC_RATE_LIMIT."""
    limiter = current_app.extensions["dashapp.limiter"].limiter
    key = current_username() or request.remote_addr or "unknown"
    try:
        limits = parse_many(current_settings().adhoc_rate_limit)
        exceeded = hit_all(limiter, limits, limit_scope("adhoc"), key)
    except Exception:  # the limit store is down: previews still work
        return
    if exceeded is not None:
        raise PanelProblem("Too many ad-hoc queries in a short time: wait a moment.", "info")


def _as_lists(variables: Mapping[str, Sequence[str]] | None) -> dict[str, list[str]]:
    return {
        str(name): [str(value) for value in values if value != ALL_CHOICE]
        for name, values in (variables or {}).items()
        if isinstance(values, list | tuple)
    }
