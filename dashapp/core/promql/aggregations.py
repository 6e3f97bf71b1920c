"""Aggregation operators (``sum``, ``avg``, ``topk``, ``quantile``, ``count_values``, ...).

Rows are grouped once by their grouping key (labels do not change across steps); each
operator then reduces every group at every step with whole-array operations. Values
follow Prometheus 2.42's ``aggregation()`` (NaN handling of ``min``/``max``, ``topk``
keeping the input labels, a group of one having a deviation of 0).
"""

from __future__ import annotations

import numpy as np

from dashapp.core.promql import labels as lb
from dashapp.core.promql.errors import ExecutionError
from dashapp.core.promql.rangefuncs import quantile_of_sorted, sorted_with_nan_first
from dashapp.core.promql.values import Vectors, label_ids

MAX_INT64 = 2.0**63


def group_key(labels: lb.Labels, grouping: tuple[str, ...], without: bool) -> lb.Labels:
    """The labels a group is known by: ``by`` keeps the listed ones, ``without`` drops them."""
    if without:
        return lb.drop_name(lb.without(labels, grouping))
    return lb.keep(labels, grouping)


def _grouped(vec: Vectors, grouping, without):
    keys = [group_key(x, grouping, without) for x in vec.labels]
    ids, distinct = label_ids(keys)
    order = np.argsort(ids, kind="stable")
    starts = np.searchsorted(ids[order], np.arange(len(distinct)))
    return ids, distinct, order, starts


def aggregate(op: str, vec: Vectors, grouping, without, param) -> Vectors:
    """Apply aggregation ``op`` to ``vec`` (``param``: Scalars, a string or None)."""
    if op in ("topk", "bottomk"):
        return _top(op, vec, grouping, without, param.values)
    if op == "count_values":
        return _count_values(vec, grouping, without, param)
    steps = vec.steps
    if not vec.labels:
        return Vectors.empty(steps)
    ids, distinct, order, starts = _grouped(vec, grouping, without)
    values, present = vec.values[order], vec.present[order]
    count = np.add.reduceat(present.astype(np.int64), starts, axis=0)
    if op == "quantile":
        out = _quantile(param.values, values, present, starts)
    else:
        out = _reduce(op, values, present, starts, count, ids[order])
    return Vectors(distinct, out, count > 0)


def _reduce(op, values, present, starts, count, row_group):
    masked = np.where(present, values, 0.0)
    if op == "sum":
        return np.add.reduceat(masked, starts, axis=0)
    if op == "count":
        return count.astype(np.float64)
    if op == "group":
        return np.ones(count.shape)
    if op in ("max", "min"):
        ufunc = np.fmax if op == "max" else np.fmin
        return ufunc.reduceat(np.where(present, values, np.nan), starts, axis=0)
    per_row = np.maximum(count, 1)[row_group]
    if op == "avg":
        return np.add.reduceat(np.where(present, values / per_row, 0.0), starts, axis=0)
    # stddev, stdvar: shift by each group's first present value, so equal values give 0.
    rows = np.arange(len(values))[:, None]
    first = np.minimum.reduceat(np.where(present, rows, len(values)), starts, axis=0)
    first = np.minimum(first, len(values) - 1)
    steps = np.arange(values.shape[1])
    shift = values[first, steps][row_group]
    shifted = np.where(present, values - shift, 0.0)
    mean = np.add.reduceat(shifted / per_row, starts, axis=0)
    deviation = np.where(present, shifted - mean[row_group], 0.0)
    variance = np.add.reduceat(deviation * deviation, starts, axis=0) / np.maximum(count, 1)
    variance = np.where(count == 1, 0.0, variance)
    return np.sqrt(variance) if op == "stddev" else variance


def _quantile(q, values, present, starts):
    ends = np.append(starts[1:], len(values))
    out = np.empty((len(starts), values.shape[1]))
    for group, (begin, end) in enumerate(zip(starts, ends, strict=True)):
        matrix, mask = values[begin:end].T, present[begin:end].T
        ordered = sorted_with_nan_first(matrix, mask)
        out[group] = quantile_of_sorted(q, ordered, mask.sum(axis=1))
    return out


def _k_values(param: np.ndarray) -> np.ndarray:
    bad = ~((param <= MAX_INT64) & (param >= -MAX_INT64))
    if bad.any():
        value = float(param[np.argmax(bad)])
        shown = lb.format_float(value) if not np.isfinite(value) else repr(value)
        raise ExecutionError(f"Scalar value {shown} overflows int64")
    return np.trunc(param)


def _top(op, vec: Vectors, grouping, without, param) -> Vectors:
    k = _k_values(param)
    if not vec.labels:
        return Vectors.empty(vec.steps)
    ids, _distinct, order, starts = _grouped(vec, grouping, without)
    selected = np.zeros_like(vec.present)
    rank = np.zeros(vec.present.shape, dtype=np.intp)
    ends = np.append(starts[1:], len(order))
    for begin, end in zip(starts, ends, strict=True):
        rows = order[begin:end]
        values, present = vec.values[rows].T, vec.present[rows].T
        nan = np.isnan(values)
        key = np.where(nan, 0.0, -values if op == "topk" else values)
        ranking = np.lexsort((key, nan, ~present), axis=-1)
        position = np.empty_like(ranking)
        np.put_along_axis(position, ranking, np.arange(len(rows))[None, :], axis=-1)
        chosen = present & (position < k[:, None])
        selected[rows] = chosen.T
        rank[rows] = position.T
    out = Vectors(list(vec.labels), vec.values, selected)
    if vec.steps == 1:
        # An instant query answers group by group (first seen first), best first.
        keep = np.nonzero(selected[:, 0])[0]
        return out.take(sorted(keep, key=lambda r: (ids[r], rank[r, 0])))
    return out


def _count_values(vec: Vectors, grouping, without, label: str) -> Vectors:
    if not lb.valid_name(label):
        raise ExecutionError(f'invalid label name "{label}"')
    steps = vec.steps
    rows, cols = np.nonzero(vec.present)
    if len(rows) == 0:
        return Vectors.empty(steps)
    values = vec.values[rows, cols]
    bits = np.where(np.isnan(values), np.nan, values).view(np.uint64)
    distinct_bits, value_id = np.unique(bits, return_inverse=True)
    texts = [lb.format_float(float(x)) for x in distinct_bits.view(np.float64)]
    wanted = grouping if without else tuple(sorted({*grouping, label}))
    pairs, series = np.unique(rows * len(texts) + value_id.ravel(), return_inverse=True)
    out_labels = [
        group_key(lb.with_label(vec.labels[pair // len(texts)], label, texts[pair % len(texts)]),
                  wanted, without)
        for pair in pairs.tolist()
    ]  # fmt: skip
    ids, distinct = label_ids(out_labels)
    series = series.ravel()
    counts = np.zeros((len(distinct), steps))
    np.add.at(counts, (ids[series], cols), 1.0)
    return Vectors(distinct, counts, counts > 0)
