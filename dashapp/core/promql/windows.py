"""Vectorised reductions over many (overlapping) windows of one series' samples.

A window is a slice ``[lo, hi)`` of the sample arrays, one per evaluation step. Sums use
prefix sums in extended precision (with IEEE rules for NaN and infinities kept exact),
minima and maxima a sparse table, and the order-dependent statistics a gathered
(steps x window length) matrix built in bounded chunks.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

GATHER_CELLS = 1 << 21


def _prefix(flags: np.ndarray) -> np.ndarray:
    return np.concatenate(([0], np.cumsum(flags, dtype=np.int64)))


def window_sum(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Sum of each window, as summing its values one by one would give (NaN, ±Inf too)."""
    finite = np.isfinite(values)
    sums = np.concatenate(([0], np.cumsum(np.where(finite, values, 0), dtype=np.longdouble)))
    total = (sums[hi] - sums[lo]).astype(np.float64)
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
    n = len(values)
    table = [values]
    width = 1
    while width * 2 <= n:
        previous = table[-1]
        table.append(ufunc(previous[:-width], previous[width:]))
        width *= 2
    length = np.maximum(hi - lo, 1)
    level = np.floor(np.log2(length)).astype(np.intp)
    out = np.empty(len(lo))
    start = np.minimum(lo, n - 1)
    for k in np.unique(level):
        pick = level == k
        row = table[k]
        span = 1 << int(k)
        left = row[np.minimum(start[pick], len(row) - 1)]
        right = row[np.clip(hi[pick] - span, 0, len(row) - 1)]
        out[pick] = ufunc(left, right)
    return out


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
