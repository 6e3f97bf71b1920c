"""Query-string parsing through the pydantic models the OpenAPI document is built from."""

from __future__ import annotations

from typing import TypeVar, get_origin

from flask import request
from pydantic import BaseModel, ValidationError

from dashapp.api.errors import ApiError
from dashapp.core.spec import field_errors

M = TypeVar("M", bound=BaseModel)
MAX_ID = 2**63 - 1


def parse_args(model: type[M]) -> M:
    """Validate ``request.args`` into ``model``; 400 naming each bad parameter."""
    values = {}
    for name, info in model.model_fields.items():
        if name not in request.args:
            continue
        is_list = get_origin(info.annotation) is list
        values[name] = request.args.getlist(name) if is_list else request.args[name]
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise ApiError(
            400, "Bad Request", "invalid query parameters", errors=field_errors(error)
        ) from None


def check_id(value: int, what: str) -> int:
    """404 for ids no database row can have (beyond 64 bits)."""
    if value > MAX_ID:
        raise ApiError(404, "Not Found", f"no {what} with id {value}")
    return value
