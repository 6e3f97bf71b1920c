"""Errors of the PromQL engine, each carrying the Prometheus API ``errorType`` it maps to.

``bad_data`` (HTTP 400): the query cannot be evaluated as written (parse errors, unknown or
unsupported features, bad parameters). ``execution`` (HTTP 422): evaluation failed on the
data (matching errors, bad function arguments, the cost cap). ``timeout`` (HTTP 503): the
deadline passed.
"""

from __future__ import annotations


class PromQLError(Exception):
    """Base class: ``error_type`` is the Prometheus API ``errorType`` of the failure."""

    error_type = "execution"


class BadData(PromQLError):
    """The query or its parameters are invalid (``bad_data``)."""

    error_type = "bad_data"


class Unsupported(BadData):
    """A valid PromQL feature this engine does not evaluate; the message names it."""


class ExecutionError(PromQLError):
    """Evaluation failed (``execution``), worded as Prometheus words it."""

    error_type = "execution"


class TooExpensive(ExecutionError):
    """The query would read or build more than the caller's cost cap allows."""


class QueryTimeout(PromQLError):
    """The query ran past its deadline (``timeout``)."""

    error_type = "timeout"
