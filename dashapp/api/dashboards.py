"""Dashboard routes: list, create, read, update (optimistic versioning), delete, history."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from flask import Response, jsonify, request, url_for
from pydantic import BaseModel, ValidationError

from dashapp.api import blueprint
from dashapp.api.args import parse_args
from dashapp.api.auth import api_actor, requires
from dashapp.api.body import media_type, read_body
from dashapp.api.errors import ApiError
from dashapp.api.openapi import documented
from dashapp.api.schemas import (
    DashboardCreate,
    DashboardList,
    DashboardListArgs,
    DashboardOut,
    DashboardUpdate,
    VersionList,
    VersionOut,
)
from dashapp.commands import dashboards as commands
from dashapp.core.records import Dashboard
from dashapp.core.spec import field_errors, upgrade
from dashapp.extensions import database
from db import dashboards
from db.dashboards import SLUG_PATTERN

M = TypeVar("M", bound=BaseModel)
ETAG = {"ETag": "the dashboard's version, quoted"}
WRITE_ERRORS = {400: None, 404: None, 409: None, 413: None, 415: None, 422: None}


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _json_body(model: type[M]) -> M:
    if media_type() != "application/json":
        raise ApiError(415, "Unsupported Media Type", "send Content-Type: application/json")
    try:
        document = orjson.loads(read_body())
    except orjson.JSONDecodeError as error:
        raise ApiError(400, "Bad Request", f"the body is not valid JSON: {error}") from None
    if isinstance(document, dict) and isinstance(document.get("spec"), dict):
        document["spec"] = upgrade(document["spec"])  # older exports import as they are
    if _has_nul(document):
        raise ApiError(
            422,
            "Invalid dashboard",
            "NUL characters are not allowed",
            errors=[{"field": "(body)", "message": "NUL characters are not allowed"}],
        )
    try:
        return model.model_validate(document)
    except ValidationError as error:
        raise ApiError(
            422, "Invalid dashboard", "the body does not validate", errors=field_errors(error)
        ) from None


def _slug(slug: str) -> str:
    if not SLUG_PATTERN.match(slug):
        raise ApiError(404, "Not Found", f"no dashboard {slug!r}")
    return slug


def _dashboard_response(dashboard: Dashboard, status: int = 200) -> Response:
    body = DashboardOut(
        slug=dashboard.slug,
        title=dashboard.title,
        version=dashboard.version,
        spec=dashboard.spec,
        created_at=dashboard.created_at,
        updated_at=dashboard.updated_at,
        updated_by=dashboard.updated_by,
    )
    response = jsonify(body.model_dump(mode="json"))
    response.status_code = status
    response.headers["ETag"] = f'"{dashboard.version}"'
    return response


def _if_match() -> int | None:
    header = request.headers.get("If-Match")
    if header is None:
        return None
    value = header.strip()
    if value.startswith("W/"):
        # If-Match compares strongly (RFC 9110 13.1.1): a weak tag never matches.
        raise ApiError(412, "Precondition Failed", 'If-Match needs a strong ETag such as "3"')
    value = value.strip('"')
    if not value.isdigit() or len(value) > 9:
        raise ApiError(400, "Bad Request", 'If-Match must be a version such as "3"')
    return int(value)


def _not_found(error: dashboards.DashboardNotFound) -> ApiError:
    return ApiError(404, "Not Found", f"no dashboard {error}")


@blueprint.get("/dashboards")
@documented(
    "List dashboards", tag="dashboards", query=DashboardListArgs, responses={200: DashboardList}
)
@requires("read")
def list_dashboards() -> Response:
    """Every live dashboard, by title; ``q`` keeps those matching every word."""
    args = parse_args(DashboardListArgs)
    with database.transaction() as session:
        items = dashboards.list_dashboards(session, args.q or "")
    return jsonify(DashboardList(items=[vars(item) for item in items]).model_dump(mode="json"))


@blueprint.post("/dashboards")
@documented(
    "Create a dashboard",
    tag="dashboards",
    body={"application/json": DashboardCreate},
    responses={201: DashboardOut, **WRITE_ERRORS},
    headers={201: {**ETAG, "Location": "URL of the new dashboard"}},
)
@requires("edit")
def create_dashboard() -> Response:
    """Create a dashboard at version 1 from a spec (the slug defaults to the title's)."""
    body = _json_body(DashboardCreate)
    created = commands.create(api_actor(), body.spec, body.slug, body.message)
    response = _dashboard_response(created, 201)
    response.headers["Location"] = url_for("api.get_dashboard", slug=created.slug)
    return response


@blueprint.get("/dashboards/<slug>")
@documented(
    "Get a dashboard",
    tag="dashboards",
    responses={200: DashboardOut, 404: None},
    headers={200: ETAG},
)
@requires("read")
def get_dashboard(slug: str) -> Response:
    """A dashboard with its spec; ``ETag`` holds its version."""
    try:
        with database.transaction() as session:
            found = dashboards.get_dashboard(session, _slug(slug))
    except dashboards.DashboardNotFound as error:
        raise _not_found(error) from None
    return _dashboard_response(found)


@blueprint.put("/dashboards/<slug>")
@documented(
    "Save a new version of a dashboard",
    tag="dashboards",
    body={"application/json": DashboardUpdate},
    responses={200: DashboardOut, **WRITE_ERRORS, 412: None, 428: None},
    headers={200: ETAG},
    request_headers={"If-Match": 'the version you started from, e.g. "3"'},
    description=(
        "Send the version you started from, as `If-Match` or as `version` in the body. "
        "If someone saved meanwhile the answer is 409 with `current_version`; nothing "
        "is overwritten. Every save adds a version to the history."
    ),
)
@requires("edit")
def update_dashboard(slug: str) -> Response:
    """Save a new version (409 if the given version is not the current one)."""
    slug = _slug(slug)
    header = _if_match()
    body = _json_body(DashboardUpdate)
    if header is not None and body.version is not None and header != body.version:
        raise ApiError(400, "Bad Request", "If-Match and the body's version disagree")
    expected = header if header is not None else body.version
    if expected is None:
        raise ApiError(
            428,
            "Precondition Required",
            "send the version you started from: If-Match or a body version",
        )
    saved = commands.save(api_actor(), slug, body.spec, expected, body.message, body.slug)
    return _dashboard_response(saved)


@blueprint.delete("/dashboards/<slug>")
@documented(
    "Delete a dashboard",
    tag="dashboards",
    responses={204: None, 400: None, 404: None, 409: None, 412: None},
    request_headers={"If-Match": "optional: delete only if still at this version"},
)
@requires("edit")
def delete_dashboard(slug: str) -> tuple[str, int]:
    """Delete a dashboard (it leaves the lists; its history is kept)."""
    slug = _slug(slug)
    expected = _if_match()
    commands.delete(api_actor(), slug, expected)
    return "", 204


@blueprint.get("/dashboards/<slug>/versions")
@documented(
    "List a dashboard's versions",
    tag="dashboards",
    responses={200: VersionList, 404: None},
)
@requires("read")
def list_versions(slug: str) -> Response:
    """Every saved state, newest first (without specs)."""
    try:
        with database.transaction() as session:
            found = dashboards.list_versions(session, _slug(slug))
    except dashboards.DashboardNotFound as error:
        raise _not_found(error) from None
    items = [
        {"version": v.version, "author": v.author, "message": v.message, "created_at": v.created_at}
        for v in found
    ]
    return jsonify(VersionList(items=items).model_dump(mode="json"))


@blueprint.get("/dashboards/<slug>/versions/<int:version>")
@documented(
    "Get one version of a dashboard",
    tag="dashboards",
    responses={200: VersionOut, 404: None},
)
@requires("read")
def get_version(slug: str, version: int) -> Response:
    """One saved state with its spec (to inspect or restore with a PUT)."""
    if version > 2**31 - 1:
        raise ApiError(404, "Not Found", f"no version {version}")
    try:
        with database.transaction() as session:
            found = dashboards.get_version(session, _slug(slug), version)
    except dashboards.DashboardNotFound as error:
        raise _not_found(error) from None
    return jsonify(VersionOut(**vars(found)).model_dump(mode="json"))
