"""Schemathesis over the generated OpenAPI document, in-process, on both databases.

Every operation gets generated requests (valid and invalid); every response must be
no 5xx, carry a documented status and media type, and match the documented schema.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import bearer, make_app

EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def fuzzed_app(database_url: str) -> Iterator[Flask]:
    application = make_app(database_url, API_RATE_LIMIT="100000/second")
    client = application.test_client()
    admin = bearer(application, "admin")
    # Something to find: a dashboard and a series, so reads do not all end in 404.
    client.post("/api/v1/dashboards", json={"spec": {"title": "Fuzz"}}, headers=admin)
    client.post("/api/v1/metrics", json={"name": "cpu", "source": "a", "value": 1}, headers=admin)
    application.config["FUZZ_HEADERS"] = admin
    yield application
    application.extensions["dashapp.db"].engine.dispose()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_openapi_document(fuzzed_app: Flask, mode: GenerationMode) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzzed_app)
    headers = fuzzed_app.config["FUZZ_HEADERS"]
    failures, tested = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        tested += 1

        @given(case=operation.as_strategy(mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],  # no shrinking: it can take minutes
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case) -> None:  # type: ignore[no-untyped-def]
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            exercise()
        except Unsatisfiable:
            # Negative mode only: no parameter or body of this operation can be made invalid
            # (e.g. GET /health, or a slug where any string is a valid path segment).
            assert mode is GenerationMode.NEGATIVE, operation.label
        except Exception as error:  # collect every operation's failure, then report all
            failures.append(f"{operation.label}: {error}")
    assert tested == 16  # operations in the OpenAPI document
    assert not failures, "\n\n".join(failures)
