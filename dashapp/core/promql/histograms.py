"""``histogram_quantile`` over classic histograms: bucket series told apart by ``le``.

Buckets group by their labels less ``le`` (the metric name included); each group gives
one series, without ``__name__`` and ``le``, whose value at a step is Prometheus 2.42's
``bucketQuantile`` of the buckets present at that step, computed for all steps of one
bucket layout at once.
"""

from __future__ import annotations

import numpy as np

from dashapp.core.promql import labels as lb
from dashapp.core.promql.values import Vectors, merge


def _search(counts: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Go's ``sort.Search(n-1, counts[i] >= rank)`` for each column, as a binary search."""
    size = counts.shape[0] - 1
    low = np.zeros(counts.shape[1], dtype=np.intp)
    high = np.full(counts.shape[1], size, dtype=np.intp)
    columns = np.arange(counts.shape[1])
    while (low < high).any():
        active = low < high
        middle = (low + high) // 2
        found = counts[np.minimum(middle, size), columns] >= rank
        low = np.where(active & ~found, middle + 1, low)
        high = np.where(active & found, middle, high)
    return low


def bucket_quantile(q: np.ndarray, bounds: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Quantiles for columns of bucket counts (rows sorted by upper bound ``bounds``)."""
    steps = counts.shape[1]
    out = np.full(steps, np.nan)
    if np.isinf(bounds[-1]) and bounds[-1] > 0:
        unique, starts = np.unique(bounds, return_index=True)
        counts = np.add.reduceat(counts, starts, axis=0) if len(unique) < len(bounds) else counts
        counts = counts.copy()
        top = counts[0].copy()
        for i in range(1, len(counts)):
            row = counts[i]
            lower = row < top
            top = np.where(row > top, row, top)
            counts[i] = np.where(lower, top, row)
        if len(unique) >= 2:
            out = _interpolate(q, unique, counts)
    out = np.where(q > 1, np.inf, out)
    out = np.where(q < 0, -np.inf, out)
    return np.where(np.isnan(q), np.nan, out)


def _interpolate(q: np.ndarray, bounds: np.ndarray, counts: np.ndarray) -> np.ndarray:
    observations = counts[-1]
    rank = q * observations
    b = _search(counts, rank)
    columns = np.arange(counts.shape[1])
    end = bounds[b]
    start = np.where(b > 0, bounds[np.maximum(b - 1, 0)], 0.0)
    below = np.where(b > 0, counts[np.maximum(b - 1, 0), columns], 0.0)
    count = counts[b, columns] - below
    out = start + (end - start) * ((rank - below) / count)
    out = np.where((b == 0) & (bounds[0] <= 0), bounds[0], out)
    out = np.where(b == len(bounds) - 1, bounds[-2], out)
    return np.where(observations == 0, np.nan, out)


def histogram_quantile(args, times):
    """``histogram_quantile(q, buckets)`` at every step."""
    q, vec = args[0].values, args[1]
    groups: dict[lb.Labels, list[tuple[int, float]]] = {}
    for row, labels in enumerate(vec.labels):
        try:
            bound = lb.parse_float(lb.get(labels, "le"))
        except ValueError:
            continue
        groups.setdefault(lb.without(labels, ("le",)), []).append((row, bound))
    out_labels, out_values, out_present = [], [], []
    for key, members in groups.items():
        members.sort(key=lambda item: item[1])
        rows = np.array([row for row, _ in members])
        bounds = np.array([bound for _, bound in members])
        present = vec.present[rows]
        values = np.full(vec.steps, np.nan)
        any_present = present.any(axis=0)
        layouts, which = np.unique(present[:, any_present].T, axis=0, return_inverse=True)
        steps = np.nonzero(any_present)[0]
        for index, layout in enumerate(layouts):
            cols = steps[which.ravel() == index]
            chosen = rows[layout]
            values[cols] = bucket_quantile(q[cols], bounds[layout], vec.values[chosen][:, cols])
        out_labels.append(lb.drop_name(key))
        out_values.append(values)
        out_present.append(any_present)
    if not out_labels:
        return Vectors.empty(vec.steps)
    return merge(out_labels, np.array(out_values), np.array(out_present))
