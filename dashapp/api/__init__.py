"""The REST API blueprint, mounted at ``/api/v1``, and its docs page at ``/api/docs``."""

from __future__ import annotations

from flask import Blueprint, Flask

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

from dashapp.api import annotation, dashboards, errors, health, metrics, query  # noqa: E402,F401


def init_app(app: Flask) -> None:
    """Register the API, its docs, problem responses, rate limits and CORS on ``app``."""
    from dashapp.api.limits import init_cors, init_limiter
    from dashapp.settings import Settings

    settings: Settings = app.extensions["dashapp.settings"]
    app.register_blueprint(blueprint)
    app.register_blueprint(health.docs_blueprint)
    _init_agents(app)
    errors.init_app(app)
    init_limiter(app, settings)
    init_cors(app, settings)


def _init_agents(app: Flask) -> None:
    """Mount the agents' routes at the root (``/write``, ``/v1/metrics``, ...; issue 11)."""
    from dashapp.api import agents
    from dashapp.auth import csrf

    app.register_blueprint(agents.blueprint)
    csrf.exempt(agents.blueprint)  # agents authenticate with tokens, not cookies
