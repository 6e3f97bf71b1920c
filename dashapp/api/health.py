"""Liveness, readiness, the OpenAPI document and the docs page."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, url_for
from sqlalchemy.exc import SQLAlchemyError

from dashapp.api import blueprint
from dashapp.api.errors import ApiError
from dashapp.api.openapi import build_spec, documented
from dashapp.api.schemas import Health
from dashapp.extensions import database
from db.health import ping

docs_blueprint = Blueprint(
    "api_docs", __name__, static_folder="static", static_url_path="/api/docs/static"
)
SPEC_KEY = "dashapp.openapi"

DOCS_PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>dashapp REST API</title>
  <link rel="stylesheet" href="{css}">
</head>
<body>
  <div id="swagger-ui" data-spec-url="{spec}"></div>
  <script src="{bundle}"></script>
  <script src="{init}"></script>
</body>
</html>
"""


@blueprint.get("/health")
@documented("Liveness", tag="health", responses={200: Health})
def health() -> Response:
    """The process is up and serving (checks nothing else)."""
    return jsonify(status="ok")


@blueprint.get("/ready")
@documented("Readiness", tag="health", responses={200: Health})
def ready() -> Response:
    """The database answers; 503 otherwise (take the instance out of the load balancer)."""
    try:
        with database.transaction() as session:
            ping(session)
    except SQLAlchemyError:
        raise ApiError(503, "Service Unavailable", "the database is unreachable",
                       headers={"Retry-After": "5"}) from None  # fmt: skip
    return jsonify(status="ok", database="ok")


@blueprint.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 document of this API, generated from its routes and models."""
    spec = current_app.extensions.get(SPEC_KEY)
    if spec is None:
        spec = current_app.extensions[SPEC_KEY] = build_spec(current_app)
    return jsonify(spec)


@docs_blueprint.get("/api/docs")
def docs_page() -> Response:
    """Swagger UI over the OpenAPI document, served from vendored files (no CDN)."""
    page = DOCS_PAGE.format(
        css=url_for("api_docs.static", filename="swagger-ui/swagger-ui.css"),
        bundle=url_for("api_docs.static", filename="swagger-ui/swagger-ui-bundle.js"),
        init=url_for("api_docs.static", filename="docs.js"),
        spec=url_for("api.openapi_document"),
    )
    return Response(page, mimetype="text/html")
