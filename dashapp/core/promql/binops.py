"""Binary operators: arithmetic, comparisons (with ``bool``), set operators, and the
vector matching rules (``on``/``ignoring``, ``group_left``/``group_right``).

Matching signatures depend only on labels, so they are computed once per row; which
rows pair up, and the errors Prometheus raises for ambiguous matches, are then decided
for all steps at once.
"""

from __future__ import annotations

import numpy as np

from dashapp.core.promql import labels as lb
from dashapp.core.promql.errors import ExecutionError
from dashapp.core.promql.syntax import ARITHMETIC, COMPARISON, Binary
from dashapp.core.promql.values import SAME_LABELSET, Scalars, Vectors, label_ids, merge

_DROPS_NAME = ARITHMETIC - {"atan2"}


def arithmetic(op: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``left op right`` elementwise, as Go's float64 arithmetic gives it."""
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        return left / right
    if op == "%":
        return np.fmod(left, right)
    if op == "^":
        return np.power(left, right)
    return np.arctan2(left, right)


def compare(op: str, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Which pairs satisfy comparison ``op`` (NaN never does, except ``!=``)."""
    return {
        "==": np.equal, "!=": np.not_equal, ">": np.greater, "<": np.less,
        ">=": np.greater_equal, "<=": np.less_equal,
    }[op](left, right)  # fmt: skip


def scalar_scalar(node: Binary, left: Scalars, right: Scalars) -> Scalars:
    """Two scalars: arithmetic, or a comparison with ``bool`` giving 0 or 1."""
    if node.op in COMPARISON:
        return Scalars(compare(node.op, left.values, right.values).astype(np.float64))
    return Scalars(arithmetic(node.op, left.values, right.values))


def vector_scalar(node: Binary, vec: Vectors, scalar: Scalars, swapped: bool) -> Vectors:
    """A vector and a scalar (``swapped``: the scalar is on the left)."""
    s = scalar.values[None, :]
    left, right = (s, vec.values) if swapped else (vec.values, s)
    present = vec.present
    if node.op in COMPARISON:
        keep = compare(node.op, left, right)
        if node.return_bool:
            values = keep.astype(np.float64)
        else:
            values, present = vec.values, present & keep
    else:
        values = arithmetic(node.op, left, right)
    labels = vec.labels
    if node.op in _DROPS_NAME or node.return_bool:
        labels = [lb.drop_name(x) for x in labels]
    return merge(labels, values, present)


def signature(labels: lb.Labels, on: bool, names: tuple[str, ...]) -> lb.Labels:
    """The labels two series must share to match."""
    if on:
        return lb.keep(labels, names)
    return lb.drop_name(lb.without(labels, names))


def _signature_ids(left: Vectors, right: Vectors, node: Binary):
    sigs = [signature(x, node.on, node.matching) for x in left.labels + right.labels]
    ids, distinct = label_ids(sigs)
    return ids[: len(left.labels)], ids[len(left.labels) :], distinct


def _present_by_signature(vec: Vectors, ids: np.ndarray, count: int) -> np.ndarray:
    out = np.zeros((count, vec.steps), dtype=np.intp)
    np.add.at(out, ids, vec.present)
    return out


def set_operation(node: Binary, left: Vectors, right: Vectors) -> Vectors:
    """``and``, ``or``, ``unless``, matched by signature at each step."""
    lid, rid, distinct = _signature_ids(left, right, node)
    right_has = _present_by_signature(right, rid, len(distinct)) > 0
    if node.op == "and":
        return Vectors(left.labels, left.values, left.present & right_has[lid])
    if node.op == "unless":
        return Vectors(left.labels, left.values, left.present & ~right_has[lid])
    left_has = _present_by_signature(left, lid, len(distinct)) > 0
    from_right = right.present & ~left_has[rid]
    return merge(
        left.labels + right.labels,
        np.concatenate([left.values, right.values]),
        np.concatenate([left.present, from_right]),
    )


def _result_labels(many: lb.Labels, one: lb.Labels, node: Binary) -> lb.Labels:
    """Prometheus' ``resultMetric``: the labels of a matched pair's result."""
    labels = many
    if node.op in _DROPS_NAME:
        labels = lb.drop_name(labels)
    if node.card == "one-to-one":
        labels = lb.keep(labels, node.matching) if node.on else lb.without(labels, node.matching)
    for name in node.include:
        labels = lb.with_label(labels, name, lb.get(one, name))
    if node.return_bool:
        labels = lb.drop_name(labels)
    return labels


def vector_vector(node: Binary, left: Vectors, right: Vectors) -> Vectors:
    """Arithmetic or comparison between two vectors, with Prometheus' matching rules."""
    swapped = node.card == "one-to-many"
    many, one = (right, left) if swapped else (left, right)
    mid, oid, distinct = _signature_ids(many, one, node)
    steps = many.steps
    active = many.present.any(axis=0) & one.present.any(axis=0)
    per_signature = _present_by_signature(one, oid, len(distinct))
    _refuse_duplicates(per_signature, active, one, oid, distinct, node, swapped)
    one_row = np.full((len(distinct), steps), -1, dtype=np.intp)
    rows, cols = np.nonzero(one.present)
    one_row[oid[rows], cols] = rows
    partner = one_row[mid] if len(mid) else np.zeros((0, steps), dtype=np.intp)
    matched = (partner >= 0) & many.present & active[None, :]
    columns = np.arange(steps)[None, :]
    one_values = one.values[np.maximum(partner, 0), columns] if len(one.labels) else partner * 0.0
    lhs, rhs = (one_values, many.values) if swapped else (many.values, one_values)
    if node.op in COMPARISON:
        keep = compare(node.op, lhs, rhs)
        if node.return_bool:
            values = keep.astype(np.float64)
        else:
            values, matched = lhs, matched & keep
    else:
        values = arithmetic(node.op, lhs, rhs)
    return _assemble(node, many, one, mid, partner, matched, values)


def _refuse_duplicates(per_signature, active, one, oid, distinct, node, swapped) -> None:
    clash = (per_signature > 1) & active[None, :]
    if not clash.any():
        return
    signature_id, step = np.argwhere(clash)[0]
    rows = [r for r in np.nonzero(one.present[:, step])[0] if oid[r] == signature_id]
    side = "left" if swapped else "right"
    first, second = one.labels[rows[0]], one.labels[rows[1]]
    raise ExecutionError(
        f"found duplicate series for the match group {lb.text(distinct[signature_id])} on the "
        f"{side} hand-side of the operation: [{lb.text(second)}, {lb.text(first)}];"
        "many-to-many matching not allowed: matching labels must be unique on one side"
    )


def _assemble(node, many, one, mid, partner, matched, values) -> Vectors:
    steps = many.steps
    rows, cols = np.nonzero(matched)
    partners = partner[rows, cols] if node.include else np.zeros(len(rows), dtype=np.intp)
    pairs, which = np.unique(np.stack([rows, partners]), axis=1, return_inverse=True)
    labels = [
        _result_labels(many.labels[m], one.labels[o] if node.include else (), node)
        for m, o in pairs.T.tolist()
    ]
    label_id, distinct = label_ids(labels)
    entry = label_id[which.ravel()]
    _refuse_ambiguous(node, mid[rows], entry, cols, steps)
    counts = np.zeros((len(distinct), steps), dtype=np.intp)
    np.add.at(counts, (entry, cols), 1)
    if (counts > 1).any():
        raise ExecutionError(SAME_LABELSET)
    out_values = np.zeros((len(distinct), steps))
    out_present = np.zeros((len(distinct), steps), dtype=bool)
    out_values[entry, cols] = values[rows, cols]
    out_present[entry, cols] = True
    return Vectors(distinct, out_values, out_present)


def _refuse_ambiguous(node, signatures, entry, cols, steps) -> None:
    """Two results of one match group at a step: Prometheus' "multiple matches" errors."""
    if len(signatures) == 0:
        return
    if node.card == "one-to-one":
        key, message = signatures, "many-to-one matching must be explicit (group_left/group_right)"
    else:
        key = entry * (int(signatures.max()) + 1) + signatures
        message = "grouping labels must ensure unique matches"
    _, slot = np.unique(key, return_inverse=True)
    counts = np.zeros((int(slot.max()) + 1, steps), dtype=np.intp)
    np.add.at(counts, (slot.ravel(), cols), 1)
    if (counts > 1).any():
        raise ExecutionError(f"multiple matches for labels: {message}")
