"""Vectorised reductions over many (overlapping) windows of sample arrays.

A window is a slice ``[lo, hi)`` of the sample arrays, one per series and evaluation
step. Sums use prefix sums in extended precision (with IEEE rules for NaN and infinities
kept exact), minima and maxima ``reduceat``, and the order-dependent statistics a
gathered (windows x window length) matrix built in bounded chunks.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np

GATHER_CELLS = 1 << 21


def _prefix(flags: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(flags, dtype=np.int64)))


def window_sum(
    values: np.ndarray, lo: np.ndarray, hi: np.ndarray, starts: np.ndarray | None = None,
    segment: np.ndarray | None = None,
) -> np.ndarray:  # fmt: skip
    """Sum of each window, as summing its values one by one would give (NaN, ±Inf too).

    ``values`` may hold several series one after the other (``starts``: where each
    begins, and one past the end; ``segment``: each window's series). Prefix sums restart
    with each series, so a series of large values costs no other series precision.
    """
    finite = np.isfinite(values)
    clean = np.where(finite, values, 0.0)
    if finite.all() and not clean.any():  # counter resets: usually none at all
        return np.zeros(len(lo))
    if starts is None or segment is None:
        starts, segment = np.array([0, len(values)]), np.zeros(len(lo), dtype=np.intp)
    parts = []
    for begin, end in itertools.pairwise(starts):
        parts.append(np.zeros(1, dtype=np.longdouble))
        parts.append(np.cumsum(clean[begin:end], dtype=np.longdouble))
    sums = np.concatenate(parts)
    total = (sums[hi + segment] - sums[lo + segment]).astype(np.float64)
    if finite.all():
        return total
    nan = _prefix(np.isnan(values))
    pos = _prefix(values == np.inf)
    neg = _prefix(values == -np.inf)
    n_nan, n_pos, n_neg = nan[hi] - nan[lo], pos[hi] - pos[lo], neg[hi] - neg[lo]
    total = np.where(n_pos > 0, np.inf, total)
    total = np.where(n_neg > 0, -np.inf, total)
    return np.where((n_nan > 0) | ((n_pos > 0) & (n_neg > 0)), np.nan, total)


def window_count(flags: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """How many flags are set in each window."""
    prefix = _prefix(flags)
    return prefix[hi] - prefix[lo]


def window_extreme(ufunc: np.ufunc, values: np.ndarray, lo: np.ndarray, hi: np.ndarray):
    """``np.fmax``/``np.fmin`` of each non-empty window (NaN only if all values are NaN)."""
    padded = np.append(values, np.nan)  # reduceat needs every index inside the array
    bounds = np.empty(2 * len(lo), dtype=np.intp)
    bounds[0::2], bounds[1::2] = lo, np.maximum(hi, lo)
    # Pairs (lo, hi) reduce a window; an empty one yields values[lo], masked by the caller.
    return ufunc.reduceat(padded, bounds)[0::2]


def gathered(
    values: np.ndarray, lo: np.ndarray, hi: np.ndarray, cells: int = GATHER_CELLS
) -> Iterator[tuple[slice, np.ndarray, np.ndarray]]:
    """Chunks of steps with their windows laid out as rows: (steps, matrix, mask).

    Row i of ``matrix`` holds the window's values left-aligned; ``mask`` marks the real
    entries (the rest repeat the last sample and must be ignored).
    """
    steps = len(lo)
    counts = hi - lo
    width = int(counts.max(initial=0))
    if width == 0 or len(values) == 0:
        return
    chunk = max(1, cells // width)
    columns = np.arange(width)
    for begin in range(0, steps, chunk):
        part = slice(begin, min(steps, begin + chunk))
        index = lo[part, None] + columns[None, :]
        mask = columns[None, :] < counts[part, None]
        yield part, values[np.minimum(index, len(values) - 1)], mask
