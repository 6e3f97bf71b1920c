"""Annotation writes: mark an event (an instant or a range) on a dashboard's charts, or
on every dashboard. Needs the ``annotate`` scope or the editor role."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from dashapp.commands.base import unit_of_work
from dashapp.commands.errors import Invalid, NotFound, require_annotate
from dashapp.core.permissions import Actor
from dashapp.core.records import Annotation
from db import annotations

MAX_TEXT = 2000
MAX_TAGS = 20


def create(
    actor: Actor,
    *,
    starts_at: datetime,
    text: str,
    ends_at: datetime | None = None,
    tags: Sequence[str] = (),
    dashboard: str | None = None,
    panel_id: str | None = None,
) -> Annotation:
    """Store an annotation; Invalid for empty text, bad tags or an inverted range,
    NotFound for an unknown dashboard."""
    require_annotate(actor)
    text = text.strip()
    clean_tags = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
    problems = []
    if not text or len(text) > MAX_TEXT:
        problems.append({"field": "text", "message": f"write 1 to {MAX_TEXT} characters"})
    if len(clean_tags) > MAX_TAGS or any(len(t) > 40 for t in clean_tags):
        problems.append({"field": "tags", "message": f"at most {MAX_TAGS} tags of 40 characters"})
    if ends_at is not None and ends_at < starts_at:
        problems.append({"field": "time_end", "message": "the end must not be before the start"})
    if problems:
        raise Invalid("the annotation does not validate", errors=problems)
    with unit_of_work(actor, "annotation.create") as (session, entry):
        target = None
        if dashboard:
            found = annotations.dashboard_id(session, dashboard)
            if found is None:
                raise NotFound(f"no dashboard {dashboard!r}")
            target = (found, dashboard)
        created = annotations.create_annotation(
            session,
            dashboard=target,
            panel_id=panel_id,
            starts_at=starts_at,
            ends_at=ends_at,
            text=text,
            tags=clean_tags,
            created_by=actor.name,
        )
        entry.update(target=dashboard or "*", detail={"id": created.id, "text": text[:80]})
    return created
