"""The engine's working values: every expression is evaluated at all steps at once.

- :class:`Vectors`: an instant vector at each of T steps; one row per label set, with a
  value and a presence flag per step (``values`` and ``present``, both S x T).
- :class:`Scalars`: a scalar at each step (``values``, length T).
- :class:`Ranges`: a range vector at each step: raw series (staleness markers removed)
  and, per step, the closed window ``[ends - range, ends]`` of sample times it covers.
- a plain ``str`` for string literals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashapp.core.promql.errors import ExecutionError
from dashapp.core.promql.labels import Labels

SAME_LABELSET = "vector cannot contain metrics with the same labelset"


@dataclass
class Vectors:
    """An instant vector at each step: row labels, values and presence (S x T)."""

    labels: list[Labels]
    values: np.ndarray
    present: np.ndarray

    @classmethod
    def empty(cls, steps: int) -> Vectors:
        """No series at any step."""
        return cls([], np.zeros((0, steps)), np.zeros((0, steps), dtype=bool))

    @property
    def steps(self) -> int:
        """How many evaluation steps (T)."""
        return self.values.shape[1]

    def take(self, rows: np.ndarray | list[int]) -> Vectors:
        """The given rows, in that order."""
        index = np.asarray(rows, dtype=np.intp)
        return Vectors([self.labels[i] for i in index], self.values[index], self.present[index])


@dataclass
class Scalars:
    """A scalar at each step."""

    values: np.ndarray


@dataclass
class RangeSeries:
    """One series of a range vector: labels, sample times (ms) and values."""

    labels: Labels
    times: np.ndarray
    values: np.ndarray


@dataclass
class Ranges:
    """A range vector at each step: series and each step's window end (ms) and length."""

    series: list[RangeSeries]
    ends: np.ndarray
    range: float

    def bounds(self, series: RangeSeries) -> tuple[np.ndarray, np.ndarray]:
        """Per step, the slice ``[lo, hi)`` of the series' samples inside the window."""
        lo = np.searchsorted(series.times, self.ends - self.range, side="left")
        hi = np.searchsorted(series.times, self.ends, side="right")
        return lo, hi


Value = Vectors | Scalars | Ranges | str


def label_ids(labels: list[Labels]) -> tuple[np.ndarray, list[Labels]]:
    """Each row's index into the list of distinct label sets (in first-seen order)."""
    index: dict[Labels, int] = {}
    ids = np.fromiter((index.setdefault(lbl, len(index)) for lbl in labels), np.intp, len(labels))
    return ids, list(index)


def merge(labels: list[Labels], values: np.ndarray, present: np.ndarray,
          message: str = SAME_LABELSET) -> Vectors:  # fmt: skip
    """Rows with equal label sets joined into one; an error if two are present at a step.

    This is Prometheus' per-step rule: a series may come from different inputs at
    different steps, never from two at once.
    """
    ids, distinct = label_ids(labels)
    if len(distinct) == len(labels):
        return Vectors(labels, values, present)
    counts = np.zeros((len(distinct), present.shape[1]), dtype=np.intp)
    np.add.at(counts, ids, present)
    if (counts > 1).any():
        raise ExecutionError(message)
    rows, cols = np.nonzero(present)
    out_values = np.zeros((len(distinct), present.shape[1]))
    out_present = np.zeros_like(out_values, dtype=bool)
    out_values[ids[rows], cols] = values[rows, cols]
    out_present[ids[rows], cols] = True
    return Vectors(distinct, out_values, out_present)


def require_distinct(vectors: Vectors) -> Vectors:
    """Prometheus' whole-result rule (range functions, negation): no label set twice.

    Only rows present at some step count; the others are dropped.
    """
    keep = vectors.present.any(axis=1)
    kept = vectors.take(np.nonzero(keep)[0])
    if len(set(kept.labels)) != len(kept.labels):
        raise ExecutionError(SAME_LABELSET)
    return kept
