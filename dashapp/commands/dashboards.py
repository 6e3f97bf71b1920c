"""Dashboard writes: create, save, copy, restore, delete, undelete, import.

Every one needs the editor role (undelete: admin), runs in one transaction with its
audit entry, and raises a :class:`~dashapp.commands.errors.CommandError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dashapp.commands.base import unit_of_work
from dashapp.commands.errors import Conflict, Invalid, NotFound, authorize
from dashapp.core import editing
from dashapp.core.permissions import Actor
from dashapp.core.records import Dashboard
from dashapp.core.spec import DashboardSpec, SpecError, parse_spec
from db import dashboards


@contextmanager
def _translated() -> Iterator[None]:
    """The repository's errors as command errors."""
    try:
        yield
    except dashboards.DashboardNotFound as error:
        raise NotFound(f"no dashboard {error}") from None
    except dashboards.VersionConflict as error:
        raise Conflict(str(error), current_version=error.current, expected=error.expected) from None
    except dashboards.SlugTaken as error:
        raise Conflict(f"the slug {str(error)!r} is taken", slug=str(error)) from None


def _checked_slug(slug: str) -> str:
    try:
        return dashboards.check_slug(slug)
    except ValueError as error:
        raise Invalid(str(error), errors=[{"field": "slug", "message": str(error)}]) from None


def create(
    actor: Actor,
    spec: DashboardSpec,
    slug: str | None = None,
    message: str = "Created",
    *,
    free_slug: bool = False,
) -> Dashboard:
    """Create a dashboard at version 1 (slug: the given one, else from the title).

    With ``free_slug``, a taken slug becomes ``slug-2``, ``slug-3``...; without it, a
    taken slug is a Conflict.
    """
    authorize(actor, "editor")
    wanted = _checked_slug(slug or dashboards.slugify(spec.title))
    with _translated(), unit_of_work(actor, "dashboard.create") as (session, entry):
        if free_slug:
            wanted = dashboards.unique_slug(session, wanted)
        created = dashboards.create_dashboard(session, wanted, spec, actor.name, message)
        entry.update(target=created.slug, detail={"version": 1, "message": message})
    return created


def import_document(actor: Actor, document: Any) -> Dashboard:
    """Validate an exported document (older schema versions are upgraded) and create it
    under a free slug; Invalid lists every field problem."""
    authorize(actor, "editor")
    try:
        spec = parse_spec(document)
    except SpecError as error:
        raise Invalid("the dashboard does not validate", errors=error.errors) from None
    return create(actor, spec, message="Imported", free_slug=True)


def save(
    actor: Actor,
    slug: str,
    spec: DashboardSpec,
    expected_version: int,
    message: str = "",
    new_slug: str | None = None,
) -> Dashboard:
    """Save a new version; Conflict if ``expected_version`` is not the current one."""
    authorize(actor, "editor")
    renamed = _checked_slug(new_slug) if new_slug and new_slug != slug else None
    with _translated(), unit_of_work(actor, "dashboard.save") as (session, entry):
        saved = dashboards.update_dashboard(
            session, slug, spec, expected_version, actor.name, message, new_slug=renamed
        )
        entry.update(target=saved.slug, detail={"version": saved.version, "message": message})
    return saved


def add_panel(actor: Actor, slug: str, panel: dict[str, Any], message: str) -> Dashboard:
    """Append ``panel`` (a new id, below the others) to ``slug`` as a new version."""
    authorize(actor, "editor")
    with _translated(), unit_of_work(actor, "dashboard.save") as (session, entry):
        current = dashboards.get_dashboard(session, slug)
        document, panel_id = editing.add_panel(current.spec, panel["type"])
        document = editing.replace_panel(document, {**panel, "id": panel_id})
        try:
            spec = parse_spec(document)
        except SpecError as error:
            raise Invalid("the panel does not validate", errors=error.errors) from None
        saved = dashboards.update_dashboard(
            session, slug, spec, current.version, actor.name, message
        )
        entry.update(target=slug, detail={"version": saved.version, "message": message})
    return saved


def save_copy(actor: Actor, slug: str, spec: DashboardSpec, message: str = "Copy") -> Dashboard:
    """Store ``spec`` as a new dashboard "<title> (copy)" beside ``slug``."""
    authorize(actor, "editor")
    with _translated(), unit_of_work(actor, "dashboard.copy") as (session, entry):
        copy = dashboards.copy_dashboard(session, slug, spec, actor.name, message)
        entry.update(target=copy.slug, detail={"from": slug})
    return copy


def duplicate(actor: Actor, slug: str) -> Dashboard:
    """Copy the saved dashboard ``slug`` under a new slug."""
    authorize(actor, "editor")
    with _translated(), unit_of_work(actor, "dashboard.copy") as (session, entry):
        source = dashboards.get_dashboard(session, slug)
        copy = dashboards.copy_dashboard(
            session, slug, parse_spec(source.spec, stored=True), actor.name, f"Copy of {slug}"
        )
        entry.update(target=copy.slug, detail={"from": slug})
    return copy


def restore(actor: Actor, slug: str, version: int) -> Dashboard:
    """Make an old version current again, as a new version (nothing is rewritten)."""
    authorize(actor, "editor")
    with _translated(), unit_of_work(actor, "dashboard.restore") as (session, entry):
        current = dashboards.get_dashboard(session, slug)
        old = dashboards.get_version(session, slug, version)
        saved = dashboards.update_dashboard(
            session, slug, parse_spec(old.spec, stored=True), current.version, actor.name,
            f"Restored version {version}",
        )  # fmt: skip
        entry.update(target=slug, detail={"version": saved.version, "restored": version})
    return saved


def delete(actor: Actor, slug: str, expected_version: int | None = None) -> None:
    """Soft-delete: it leaves the lists; admins can bring it back with its history."""
    authorize(actor, "editor")
    with _translated(), unit_of_work(actor, "dashboard.delete") as (session, entry):
        dashboards.delete_dashboard(session, slug, expected_version)
        entry.update(target=slug)


def undelete(actor: Actor, dashboard_id: int) -> Dashboard:
    """Bring a deleted dashboard back (admins only), under its old slug if still free."""
    authorize(actor, "admin")
    with _translated(), unit_of_work(actor, "dashboard.undelete") as (session, entry):
        restored = dashboards.undelete(session, dashboard_id, actor.name)
        entry.update(target=restored.slug, detail={"version": restored.version})
    return restored
