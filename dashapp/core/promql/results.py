"""What a PromQL query answers: Prometheus' four result types as plain frozen dataclasses.

Times are epoch milliseconds (float64, whole numbers for evaluation steps), values float64.
``metric`` maps label names to values (``__name__`` included where Prometheus keeps it).
:func:`format_value` and :func:`format_time` give the exact text the Prometheus HTTP API
writes for a value and a timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dashapp.core.promql.labels import format_float


@dataclass(frozen=True)
class Scalar:
    """A single number at the evaluation time."""

    timestamp: float
    value: float
    result_type = "scalar"


@dataclass(frozen=True)
class String:
    """A string literal at the evaluation time."""

    timestamp: float
    value: str
    result_type = "string"


@dataclass(frozen=True)
class Sample:
    """One series' value at one time."""

    metric: dict[str, str]
    timestamp: float
    value: float


@dataclass(frozen=True)
class Vector:
    """An instant vector: one sample per series, all at the evaluation time.

    The order is Prometheus' where it is defined (``sort``, ``sort_desc``, ``topk``,
    ``bottomk``); otherwise samples come sorted by their label sets.
    """

    samples: tuple[Sample, ...]
    result_type = "vector"


@dataclass(frozen=True, eq=False)
class Series:
    """One series of a matrix: parallel read-only arrays of times (ms) and values."""

    metric: dict[str, str]
    timestamps: np.ndarray
    values: np.ndarray

    def points(self) -> list[tuple[float, float]]:
        """The (timestamp ms, value) pairs, oldest first."""
        return list(zip(self.timestamps.tolist(), self.values.tolist(), strict=True))


@dataclass(frozen=True)
class Matrix:
    """A range vector (instant query of ``x[5m]``) or a range query's answer.

    Series are sorted by their label sets, as Prometheus sorts range query results.
    """

    series: tuple[Series, ...] = field(default=())
    result_type = "matrix"


Result = Scalar | String | Vector | Matrix


def format_value(value: float) -> str:
    """A sample value as the Prometheus API writes it: ``"1"``, ``"0.5"``, ``"NaN"``, ``"+Inf"``."""
    return format_float(value)


def format_time(timestamp_ms: float) -> float | int:
    """A timestamp as the Prometheus API writes it: seconds, at most three decimals."""
    millis = round(timestamp_ms)
    if millis % 1000 == 0:
        return millis // 1000
    return millis / 1000
