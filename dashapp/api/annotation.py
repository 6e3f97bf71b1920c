"""``POST /api/v1/annotations``: mark an event (a deploy, an incident) on the charts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import orjson
from flask import Response, jsonify
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from dashapp.api import blueprint
from dashapp.api.auth import api_actor, requires
from dashapp.api.body import media_type, read_body
from dashapp.api.errors import ApiError
from dashapp.api.openapi import documented
from dashapp.commands import annotations as commands
from dashapp.core.spec import field_errors
from dashapp.core.timerange import parse_time

Moment = Annotated[str, StringConstraints(min_length=1, max_length=64)] | float


class AnnotationIn(BaseModel):
    """An event: ``time`` (and ``time_end`` for a range) as RFC 3339, epoch milliseconds
    or ``now-5m``; text; tags; the dashboard it belongs to (none: every dashboard)."""

    model_config = ConfigDict(extra="forbid")

    time: Moment
    time_end: Moment | None = None
    text: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    tags: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=20
    )
    dashboard: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    panel: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")] | None = None


class AnnotationOut(BaseModel):
    """A stored annotation."""

    id: int
    time: datetime
    time_end: datetime | None
    text: str
    tags: list[str]
    dashboard: str | None
    panel: str | None
    created_by: str | None


def _moment(value: str | float, field: str, now: datetime) -> datetime:
    try:
        return parse_time(value, now)
    except ValueError as error:
        raise ApiError(
            422, "Invalid annotation", str(error), errors=[{"field": field, "message": str(error)}]
        ) from None


@blueprint.post("/annotations")
@documented(
    "Add an annotation",
    tag="annotations",
    body={"application/json": AnnotationIn},
    responses={201: AnnotationOut, 400: None, 404: None, 415: None, 422: None},
)
@requires("annotate")
def create_annotation() -> Response:
    """Store an annotation; it shows on the time-series panels of its dashboard."""
    if media_type() != "application/json":
        raise ApiError(415, "Unsupported Media Type", "send Content-Type: application/json")
    try:
        body = AnnotationIn.model_validate(orjson.loads(read_body()))
    except orjson.JSONDecodeError as error:
        raise ApiError(400, "Bad Request", f"the body is not valid JSON: {error}") from None
    except ValidationError as error:
        raise ApiError(
            422, "Invalid annotation", "the body does not validate", errors=field_errors(error)
        ) from None
    now = datetime.now(UTC)
    created = commands.create(
        api_actor(),
        starts_at=_moment(body.time, "time", now),
        ends_at=_moment(body.time_end, "time_end", now) if body.time_end is not None else None,
        text=body.text,
        tags=body.tags,
        dashboard=body.dashboard,
        panel_id=body.panel,
    )
    out = AnnotationOut(
        id=created.id,
        time=created.starts_at,
        time_end=created.ends_at,
        text=created.text,
        tags=created.tags,
        dashboard=created.dashboard,
        panel=created.panel_id,
        created_by=created.created_by,
    )
    response = jsonify(out.model_dump(mode="json"))
    response.status_code = 201
    return response
