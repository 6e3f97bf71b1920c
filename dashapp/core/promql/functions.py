"""Functions of instant vectors and scalars: math, clamping, labels, sorting, dates.

Each takes the evaluated arguments (string arguments as ``str``) and the evaluation times
and returns a :class:`Vectors` or :class:`Scalars`. Label-changing results go through
:func:`merge`, Prometheus' per-step rule against duplicate label sets.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import re2

from dashapp.core.promql import labels as lb
from dashapp.core.promql.errors import ExecutionError
from dashapp.core.promql.values import Scalars, Vectors, merge


def _elementwise(fn: Callable[[np.ndarray], np.ndarray]):
    def apply(args, times):
        vec: Vectors = args[0]
        out = fn(vec.values)
        return merge([lb.drop_name(x) for x in vec.labels], out, vec.present.copy())

    return apply


def _sgn(v: np.ndarray) -> np.ndarray:
    return np.where(v < 0, -1.0, np.where(v > 0, 1.0, v))


MATH: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "abs": np.abs, "ceil": np.ceil, "floor": np.floor, "exp": np.exp, "sqrt": np.sqrt,
    "ln": np.log, "log2": np.log2, "log10": np.log10, "sin": np.sin, "cos": np.cos,
    "tan": np.tan, "asin": np.arcsin, "acos": np.arccos, "atan": np.arctan,
    "sinh": np.sinh, "cosh": np.cosh, "tanh": np.tanh, "asinh": np.arcsinh,
    "acosh": np.arccosh, "atanh": np.arctanh, "sgn": _sgn,
    "rad": lambda v: v * np.pi / 180, "deg": lambda v: v * 180 / np.pi,
}  # fmt: skip


def clamp(args, times):
    """Values clamped to [min, max]; nothing where max < min."""
    vec, low, high = args[0], args[1].values, args[2].values
    out = np.maximum(low[None, :], np.minimum(high[None, :], vec.values))
    present = vec.present & ~(high < low)[None, :]
    return merge([lb.drop_name(x) for x in vec.labels], out, present)


def clamp_min(args, times):
    """Values raised to at least the scalar."""
    vec = args[0]
    out = np.maximum(args[1].values[None, :], vec.values)
    return merge([lb.drop_name(x) for x in vec.labels], out, vec.present.copy())


def clamp_max(args, times):
    """Values lowered to at most the scalar."""
    vec = args[0]
    out = np.minimum(args[1].values[None, :], vec.values)
    return merge([lb.drop_name(x) for x in vec.labels], out, vec.present.copy())


def round_(args, times):
    """Values rounded to the nearest multiple of the scalar (default 1), ties up."""
    vec = args[0]
    nearest = args[1].values if len(args) > 1 else np.ones(vec.steps)
    inverse = 1.0 / nearest[None, :]
    out = np.floor(vec.values * inverse + 0.5) / inverse
    return merge([lb.drop_name(x) for x in vec.labels], out, vec.present.copy())


def scalar(args, times):
    """The value of a one-element vector, else NaN."""
    vec = args[0]
    count = vec.present.sum(axis=0)
    row = np.argmax(vec.present, axis=0) if len(vec.labels) else np.zeros(len(times), int)
    values = vec.values[row, np.arange(len(times))] if len(vec.labels) else np.zeros(len(times))
    return Scalars(np.where(count == 1, values, np.nan))


def vector(args, times):
    """The scalar as a vector with no labels."""
    values = args[0].values
    return Vectors([lb.EMPTY], values[None, :].copy(), np.ones((1, len(times)), dtype=bool))


def time_(args, times):
    """The evaluation time in seconds."""
    return Scalars(times / 1000)


def pi(args, times):
    """The number pi."""
    return Scalars(np.full(len(times), np.pi))


def _order(vec: Vectors, descending: bool) -> Vectors:
    # Only an instant query's vector has an order to keep; NaN goes last either way.
    if vec.steps != 1 or len(vec.labels) < 2:
        return vec
    values = vec.values[:, 0]
    nan = np.isnan(values)
    key = -values if descending else values
    order = np.lexsort((np.where(nan, 0.0, key), nan))
    return vec.take(order)


def sort(args, times):
    """Ascending by value, NaN last (an instant query's order)."""
    return _order(args[0], descending=False)


def sort_desc(args, times):
    """Descending by value, NaN last (an instant query's order)."""
    return _order(args[0], descending=True)


def _expand(template: str, text: str, match, names: dict[str, int], groups: int) -> str:
    """Go's ``Regexp.ExpandString``: ``$1``, ``${1}``, ``$name``, ``${name}``, ``$$``."""
    out: list[str] = []
    i = 0
    while i < len(template):
        char = template[i]
        if char != "$":
            out.append(char)
            i += 1
            continue
        rest = template[i + 1 :]
        if rest.startswith("$"):
            out.append("$")
            i += 2
            continue
        brace = rest.startswith("{")
        body = rest[1:] if brace else rest
        size = 0
        while size < len(body) and (body[size].isalnum() or body[size] == "_"):
            size += 1
        if size == 0 or (brace and (size >= len(body) or body[size] != "}")):
            out.append("$")
            i += 1
            continue
        name = body[:size]
        i += 1 + size + (2 if brace else 0)
        group = int(name) if name.isdigit() and not (name[0] == "0" and len(name) > 1) else None
        if group is None:
            group = names.get(name)
        if group is not None and group <= groups and match.span(group)[0] >= 0:
            start, end = match.span(group)
            out.append(text[start:end])
    return "".join(out)


def label_replace(args, times):
    """Set a label from a regex match on another label (Go's $-expansion)."""
    vec, dst, replacement, src, pattern = args
    options = re2.Options()
    options.log_errors = False
    try:
        regex = re2.compile(f"^(?:{pattern})$", options)
    except re2.error:
        raise ExecutionError(f"invalid regular expression in label_replace(): {pattern}") from None
    if not lb.valid_name(dst):
        raise ExecutionError(f"invalid destination label name in label_replace(): {dst}")
    names = dict(regex.groupindex)
    out = []
    for labels in vec.labels:
        value = lb.get(labels, src)
        match = regex.search(value)
        if match is None:
            out.append(labels)
        else:
            expanded = _expand(replacement, value, match, names, regex.groups)
            out.append(lb.with_label(labels, dst, expanded))
    return merge(out, vec.values, vec.present)


def label_join(args, times):
    """Set a label to other labels' values joined by a separator."""
    vec, dst, separator, *sources = args
    for source in sources:
        if not lb.valid_name(source):
            raise ExecutionError(f"invalid source label name in label_join(): {source}")
    if not lb.valid_name(dst):
        raise ExecutionError(f"invalid destination label name in label_join(): {dst}")
    out = [
        lb.with_label(labels, dst, separator.join(lb.get(labels, s) for s in sources))
        for labels in vec.labels
    ]
    return merge(out, vec.values, vec.present)


def _seconds(values: np.ndarray) -> np.ndarray:
    # Go's int64(v) truncates toward zero; NaN and ±Inf become the minimum int64.
    bad = ~np.isfinite(values) | (np.abs(values) >= 2**63)
    return np.where(bad, -(2**63), np.trunc(np.where(bad, 0, values))).astype(np.int64)


def _calendar(name: str, seconds: np.ndarray) -> np.ndarray:
    moments = seconds.astype("datetime64[s]")
    days = moments.astype("datetime64[D]")
    months = moments.astype("datetime64[M]")
    years = moments.astype("datetime64[Y]")
    if name == "year":
        return (years.astype(np.int64) + 1970).astype(np.float64)
    if name == "month":
        return (months.astype(np.int64) % 12 + 1).astype(np.float64)
    if name == "day_of_month":
        return ((days - months).astype(np.int64) + 1).astype(np.float64)
    if name == "day_of_year":
        return ((days - years).astype(np.int64) + 1).astype(np.float64)
    if name == "day_of_week":
        return ((days.astype(np.int64) + 4) % 7).astype(np.float64)
    if name == "days_in_month":
        return ((months + 1).astype("datetime64[D]") - months).astype(np.int64).astype(float)
    if name == "hour":
        return (np.floor_divide(seconds, 3600) % 24).astype(np.float64)
    return (np.floor_divide(seconds, 60) % 60).astype(np.float64)  # minute


def _date(name: str):
    def apply(args, times):
        if not args:
            seconds = (times // 1000).astype(np.int64)
            values = _calendar(name, seconds)[None, :]
            return Vectors([lb.EMPTY], values, np.ones_like(values, dtype=bool))
        vec = args[0]
        values = _calendar(name, _seconds(vec.values).ravel()).reshape(vec.values.shape)
        return merge([lb.drop_name(x) for x in vec.labels], values, vec.present.copy())

    return apply


DATES = ("year", "month", "day_of_month", "day_of_year", "day_of_week", "days_in_month",
         "hour", "minute")  # fmt: skip

FUNCTIONS: dict[str, Callable] = {
    **{name: _elementwise(fn) for name, fn in MATH.items()},
    **{name: _date(name) for name in DATES},
    "clamp": clamp,
    "clamp_min": clamp_min,
    "clamp_max": clamp_max,
    "round": round_,
    "scalar": scalar,
    "vector": vector,
    "time": time_,
    "pi": pi,
    "sort": sort,
    "sort_desc": sort_desc,
    "label_replace": label_replace,
    "label_join": label_join,
}
