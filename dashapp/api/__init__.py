"""The REST API blueprint, mounted at ``/api/v1``."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

from dashapp.api import errors, metrics  # noqa: E402,F401  (routes register on import)
