"""OpenAPI 3.1, generated from the routes and their pydantic models.

Each route declares its models with :func:`documented`; :func:`build_spec` walks the
app's URL map, turns Flask paths into OpenAPI paths, query models into parameters and
body/response models into JSON Schemas (pydantic's, which are JSON Schema 2020-12,
the dialect OpenAPI 3.1 uses).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, get_origin

from flask import Flask
from pydantic import BaseModel, TypeAdapter

from dashapp.api.schemas import Problem

REF = "#/components/schemas/{model}"
F = TypeVar("F", bound=Callable[..., Any])

STATUS_TEXT = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Malformed request or parameters",
    401: "Missing, unknown, revoked or expired token",
    403: "The token lacks the scope this needs",
    404: "Not found",
    409: "Conflict: someone saved a newer version, or the slug is taken",
    413: "Body (or its decompressed form) too large, or too many points",
    412: "If-Match holds a weak ETag (W/...): only a strong one can match",
    415: "Unsupported Content-Type or Content-Encoding",
    422: "Well-formed but invalid content (errors name each field), or an aggregation overflow",
    428: "Send the version you started from (If-Match or body version)",
    429: "Rate limit exceeded; retry after Retry-After seconds",
    503: "The database is unreachable",
}


@dataclass(frozen=True)
class Doc:
    """What the OpenAPI document says about one operation."""

    summary: str
    tag: str
    query: type[BaseModel] | None = None
    body: dict[str, Any] = field(default_factory=dict)
    responses: dict[int, Any] = field(default_factory=dict)
    headers: dict[int, dict[str, str]] = field(default_factory=dict)
    request_headers: dict[str, str] = field(default_factory=dict)
    description: str = ""


def documented(
    summary: str,
    *,
    tag: str,
    query: type[BaseModel] | None = None,
    body: dict[str, Any] | None = None,
    responses: dict[int, Any] | None = None,
    headers: dict[int, dict[str, str]] | None = None,
    request_headers: dict[str, str] | None = None,
    description: str = "",
) -> Callable[[F], F]:
    """Attach OpenAPI facts to a view: its models and response statuses.

    ``body`` maps media types to a model/type (or a raw schema dict); ``responses``
    maps statuses to a model/type, or None for a body-less or problem response.
    The token scope comes from the view's ``requires`` decorator, so it cannot drift.
    """

    def attach(view: F) -> F:
        view.openapi = Doc(  # type: ignore[attr-defined]
            summary,
            tag,
            query,
            body or {},
            responses or {},
            headers or {},
            request_headers or {},
            description or (view.__doc__ or "").strip(),
        )
        return view

    return attach


_CONVERTER = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def _openapi_path(rule: str) -> tuple[str, list[dict[str, Any]]]:
    params = []
    for converter, name in _CONVERTER.findall(rule):
        schema = (
            {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
            if converter == "int"
            else {"type": "string"}
        )
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return _CONVERTER.sub(lambda m: "{" + m.group(2) + "}", rule), params


class _Schemas:
    """Collects every type mentioned, then renders them in one pass with shared $defs."""

    def __init__(self) -> None:
        self.types: dict[str, tuple[Any, str]] = {}

    def ref(self, kind: Any, mode: str = "serialization") -> Any:
        """A placeholder for the schema of ``kind`` (a raw schema dict passes through)."""
        if isinstance(kind, dict):
            return kind
        key = f"{id(kind)}:{mode}"
        self.types[key] = (kind, mode)
        return {"__type__": key}

    def render(self, document: Any) -> dict[str, Any]:
        """``document`` with placeholders replaced, and the shared definitions."""
        inputs = [(key, mode, TypeAdapter(kind)) for key, (kind, mode) in self.types.items()]
        mapping, definitions = TypeAdapter.json_schemas(inputs, ref_template=REF)
        resolved = {key: mapping[(key, mode)] for key, (_, mode) in self.types.items()}

        def substitute(node: Any) -> Any:
            if isinstance(node, dict):
                if "__type__" in node:
                    return resolved[node["__type__"]]
                return {k: substitute(v) for k, v in node.items()}
            if isinstance(node, list):
                return [substitute(v) for v in node]
            return node

        return {"paths": substitute(document), "schemas": definitions.get("$defs", {})}


def _query_parameters(model: type[BaseModel]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF, mode="validation")
    required = set(schema.get("required", []))
    params = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if description:
            param["description"] = description
        annotation = model.model_fields[name].annotation
        if get_origin(annotation) is list:
            param.update(style="form", explode=True)
        param["schema"] = prop
        params.append(param)
    return params, schema.get("$defs", {})


def _operation(
    doc: Doc, scope: str | None, path_params: list[dict[str, Any]], schemas: _Schemas
) -> tuple[dict[str, Any], dict[str, Any]]:
    parameters = list(path_params)
    extra_defs: dict[str, Any] = {}
    if doc.query is not None:
        query_params, extra_defs = _query_parameters(doc.query)
        parameters += query_params
    for name, description in doc.request_headers.items():
        parameters.append(
            {
                "name": name,
                "in": "header",
                "required": False,
                "description": description,
                "schema": {"type": "string"},
            }
        )
    operation: dict[str, Any] = {
        "summary": doc.summary,
        "description": doc.description,
        "tags": [doc.tag],
        "operationId": "",
        "parameters": parameters,
        "responses": {},
    }
    if scope is not None:
        operation["security"] = [{}, {"bearer": []}] if scope == "read" else [{"bearer": []}]
        operation["description"] += f"\n\nToken scope: `{scope}`" + (
            " (not needed while ANONYMOUS_VIEW is on)." if scope == "read" else "."
        )
    if doc.body:
        operation["requestBody"] = {
            "required": True,
            "content": {
                media: {"schema": schemas.ref(kind, "validation")}
                for media, kind in doc.body.items()
            },
        }
    statuses = dict(doc.responses)
    statuses.setdefault(429, None)
    statuses.setdefault(503, None)
    if doc.query is not None:
        statuses.setdefault(400, None)
    if scope is not None:
        statuses.setdefault(401, None)
        statuses.setdefault(403, None)
    for status in sorted(statuses):
        kind = statuses[status]
        response: dict[str, Any] = {"description": STATUS_TEXT.get(status, "")}
        if status >= 400:
            response["content"] = {"application/problem+json": {"schema": schemas.ref(Problem)}}
        elif kind is not None:
            response["content"] = {"application/json": {"schema": schemas.ref(kind)}}
        headers = dict(doc.headers.get(status, {}))
        if status == 429:
            headers["Retry-After"] = "seconds to wait before retrying"
        if headers:
            response["headers"] = {
                name: {"description": text, "schema": {"type": "string"}}
                for name, text in headers.items()
            }
        operation["responses"][str(status)] = response
    return operation, extra_defs


def build_spec(app: Flask, prefix: str = "/api/v1") -> dict[str, Any]:
    """The OpenAPI 3.1 document of every documented route under ``prefix``."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    query_defs: dict[str, Any] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        doc: Doc | None = getattr(view, "openapi", None)
        if doc is None or not rule.rule.startswith(prefix):
            continue
        path, path_params = _openapi_path(rule.rule[len(prefix) :] or "/")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            scope = getattr(view, "required_scope", None)
            operation, extra = _operation(doc, scope, path_params, schemas)
            operation["operationId"] = rule.endpoint.split(".")[-1]
            paths.setdefault(path, {})[method.lower()] = operation
            query_defs.update(extra)
    rendered = schemas.render(paths)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "dashapp REST API",
            "version": "1.0.0",
            "description": (
                "Push metrics, read them back through the same query engine as the "
                "dashboards, and manage dashboards. Errors are application/problem+json "
                "with a field-level `errors` list. Authenticate with "
                "`Authorization: Bearer dsh_...` (create one with `dashapp tokens create`)."
            ),
        },
        "servers": [{"url": prefix}],
        "paths": rendered["paths"],
        "components": {
            "schemas": {**query_defs, **rendered["schemas"]},
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a service token dsh_<prefix>_<secret>",
                }
            },
        },
    }
