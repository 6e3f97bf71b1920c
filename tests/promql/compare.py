"""Answers of Prometheus' HTTP API and of our engine, in one comparable form.

Label sets and timestamps must be equal, values equal within a relative 1e-5 (NaN equals
NaN, infinities their own sign), errors match errors of the same ``errorType`` (and, for
``execution`` errors, the same message).
"""

from __future__ import annotations

import math
import re
from typing import Any

from dashapp.core.promql import Matrix, PromQLError, Result, Scalar, String, Vector

TOLERANCE = 1e-5
Normal = tuple


def from_prometheus(answer: dict[str, Any]) -> Normal:
    """A Prometheus API JSON answer, normalised."""
    if answer["status"] != "success":
        return ("error", answer["errorType"], answer.get("error", ""))
    data = answer["data"]
    kind, result = data["resultType"], data["result"]
    if kind in ("scalar", "string"):
        value = float(result[1]) if kind == "scalar" else result[1]
        return (kind, _ms(result[0]), value)
    if kind == "vector":
        return ("vector", [(_labels(s["metric"]), _ms(s["value"][0]), float(s["value"][1]))
                           for s in result])  # fmt: skip
    return ("matrix", {_labels(s["metric"]): [(_ms(t), float(v)) for t, v in s["values"]]
                       for s in result})  # fmt: skip


def from_engine(result: Result | PromQLError) -> Normal:
    """Our engine's answer (or error), normalised."""
    if isinstance(result, PromQLError):
        return ("error", result.error_type, str(result))
    if isinstance(result, Scalar | String):
        kind = "scalar" if isinstance(result, Scalar) else "string"
        return (kind, round(result.timestamp), result.value)
    if isinstance(result, Vector):
        return ("vector", [(_labels(s.metric), round(s.timestamp), s.value)
                           for s in result.samples])  # fmt: skip
    assert isinstance(result, Matrix)
    return ("matrix", {_labels(s.metric): [(round(t), v) for t, v in s.points()]
                       for s in result.series})  # fmt: skip


def _wording(message: str) -> str:
    return re.sub(r"\{[^{}]*\}", "{…}", message)


def _ms(seconds: float) -> int:
    return round(float(seconds) * 1000)


def _labels(metric: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(metric.items()))


def same_value(a: float, b: float) -> bool:
    """Equal within the relative tolerance; NaN equals NaN."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:
        return True
    return abs(a - b) <= TOLERANCE * max(abs(a), abs(b))


def difference(expected: Normal, actual: Normal, ordered: bool = False) -> str | None:
    """Why ``actual`` differs from ``expected`` (None when they agree)."""
    if expected[0] != actual[0]:
        return f"Prometheus answered {_short(expected)}, we answered {_short(actual)}"
    kind = expected[0]
    if kind == "error":
        if expected[1] != actual[1]:
            return f"error types differ: {expected[1]} ({expected[2]}) vs {actual[1]} ({actual[2]})"
        # Evaluation errors are worded as Prometheus words them (the label sets they name
        # may differ: Prometheus picks them in Go's random map order); parse errors come
        # from another parser, so only their type must agree.
        if expected[1] == "execution" and _wording(expected[2]) != _wording(actual[2]):
            return f"messages differ: {expected[2]!r} vs {actual[2]!r}"
        return None
    if kind in ("scalar", "string"):
        if expected[1] != actual[1]:
            return f"timestamps differ: {expected[1]} vs {actual[1]}"
        equal = same_value(expected[2], actual[2]) if kind == "scalar" else expected[2] == actual[2]
        return None if equal else f"values differ: {expected[2]!r} vs {actual[2]!r}"
    if kind == "vector":
        return _vector_difference(expected[1], actual[1], ordered)
    return _matrix_difference(expected[1], actual[1])


def _vector_difference(expected: list, actual: list, ordered: bool) -> str | None:
    if ordered and [s[0] for s in expected] != [s[0] for s in actual]:
        return f"order differs: {[s[0] for s in expected]} vs {[s[0] for s in actual]}"
    want = {s[0]: s for s in expected}
    got = {s[0]: s for s in actual}
    if set(want) != set(got):
        return f"label sets differ: missing {set(want) - set(got)}, extra {set(got) - set(want)}"
    for labels, (_, time, value) in want.items():
        if got[labels][1] != time or not same_value(value, got[labels][2]):
            return f"{dict(labels)}: Prometheus {time} {value!r}, we {got[labels][1:]}"
    return None


def _matrix_difference(expected: dict, actual: dict) -> str | None:
    if set(expected) != set(actual):
        missing, extra = set(expected) - set(actual), set(actual) - set(expected)
        return f"series differ: missing {missing}, extra {extra}"
    for labels, points in expected.items():
        ours = actual[labels]
        if [t for t, _ in points] != [t for t, _ in ours]:
            return f"{dict(labels)}: timestamps differ: {_times(points, ours)}"
        for (time, value), (_, mine) in zip(points, ours, strict=True):
            if not same_value(value, mine):
                return f"{dict(labels)} at {time}: Prometheus {value!r}, we {mine!r}"
    return None


def _times(points: list, ours: list) -> str:
    want, got = {t for t, _ in points}, {t for t, _ in ours}
    return f"only Prometheus {sorted(want - got)[:5]}, only us {sorted(got - want)[:5]}"


def _short(normal: Normal) -> str:
    if normal[0] == "error":
        return f"error {normal[1]}: {normal[2]}"
    return normal[0]
