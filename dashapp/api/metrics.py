"""Metric routes: ingest points, list the series catalog."""

from __future__ import annotations

from flask import Response, jsonify, request

from dashapp import ingest
from dashapp.api import blueprint
from dashapp.api.errors import problem
from dashapp.extensions import database
from db import metrics


@blueprint.post("/metrics")
def post_metrics() -> Response | tuple[Response, int]:
    """Store one point or a JSON array of points, atomically; 201 with the count."""
    if not request.is_json:
        return problem(415, "Unsupported Media Type", "send Content-Type: application/json")
    document = request.get_json(silent=True)
    if document is None:
        return problem(400, "Bad Request", "the body is not valid JSON")
    try:
        result = ingest.ingest_json(document)
    except ingest.IngestError as error:
        return problem(error.status, "Invalid points", str(error), errors=error.errors)
    return jsonify(accepted=result.accepted, series=result.series), 201


@blueprint.get("/metrics")
def list_metrics() -> Response:
    """The series catalog."""
    with database.transaction() as session:
        items = metrics.list_series(session)
    return jsonify(
        items=[{"id": s.id, "name": s.name, "source": s.source, "labels": s.labels} for s in items]
    )
