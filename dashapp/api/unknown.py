"""Unknown paths answer 404 for every method, and machines never get the HTML page.

Dash serves its page for any GET (``/<path:path>``), and its router shows "Not found"
inside the app for a page that does not exist. Everything else is for machines: a
non-GET request to a path only the page catch-all matches (today a 405), and a GET of
an API, OTLP or health-probe path nobody serves, get a 404 problem document instead.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

CATCH_ALL_ENDPOINTS = frozenset({"/<path:path>", "api._unknown_path"})
MACHINE_PREFIXES = ("/api/", "/v1/", "/v2/")
MACHINE_PATHS = frozenset(
    # the agents' own paths (issue 11), then the usual probes
    {"/write", "/collectd", "/telegraf", "/ping", "/health", "/query", "/api"}
    | {"/healthz", "/livez", "/readyz", "/ready", "/status", "/metrics"}
)


def machine_path(path: str) -> bool:
    """Whether ``path`` is for machines (an API, an agent, a probe), never a page."""
    return path.startswith(MACHINE_PREFIXES) or path.rstrip("/") in MACHINE_PATHS


def real_methods() -> list[str]:
    """Methods that a route other than a catch-all serves at this request's path."""
    adapter = current_app.url_map.bind_to_environ(request.environ)
    methods = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            endpoint, _ = adapter.match(method=method)
        except (HTTPException, RequestRedirect):
            continue
        if endpoint not in CATCH_ALL_ENDPOINTS:
            methods.append(method)
    return methods


def as_not_found(error: HTTPException) -> HTTPException:
    """A routing error, with "method not allowed" on an unknown path turned into 404."""
    if isinstance(error, MethodNotAllowed) and not real_methods():
        return NotFound(f"nothing at {request.path} ({request.method})")
    return error


def init_app(app: Flask) -> None:
    """Stop catch-alls from answering paths that are real for other methods, or for machines."""

    @app.before_request
    def _not_for_catch_alls() -> None:
        if request.endpoint not in CATCH_ALL_ENDPOINTS:
            return
        methods = real_methods()
        if methods:  # say GET /write: the path exists, for POST
            raise MethodNotAllowed(valid_methods=methods)
        if request.endpoint == "/<path:path>" and machine_path(request.path):
            raise NotFound(f"nothing at {request.path}")
