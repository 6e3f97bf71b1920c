"""Functions of a range vector (``rate``, ``*_over_time``, ``deriv``, ...), per series.

Each function gets the samples of all series (staleness markers already removed) and,
for every (series, step) window, its slice ``[lo, hi)`` of them and its context
(:class:`Window`); it returns each window's value and presence, all windows at once.
Arithmetic follows Prometheus 2.42's ``functions.go`` (extrapolation, counter resets,
NaN ordering).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dashapp.core.promql.errors import ExecutionError
from dashapp.core.promql.windows import (
    gathered,
    window_count,
    window_extreme,
    window_sum,
)


@dataclass
class Window:
    """Where each window is: its evaluation time, end, length, scalar arguments, series.

    A range function sees every (series, step) window at once: the samples of all
    series one after the other (``starts``: where each series begins, plus the end),
    and per window its evaluation time, end, argument values and series (``segment``).
    """

    times: np.ndarray
    ends: np.ndarray
    range: float
    args: list[np.ndarray]
    starts: np.ndarray
    segment: np.ndarray

    def sum(self, values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """:func:`window_sum` of these windows, prefix sums restarting per series."""
        return window_sum(values, lo, hi, self.starts, self.segment)


Result = tuple[np.ndarray, np.ndarray]
RangeFunction = Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Window], Result]


def _extrapolated(t, v, lo, hi, w: Window, counter: bool, rate: bool) -> Result:
    n = hi - lo
    ok = n >= 2
    first, last = lo, np.maximum(hi - 1, 0)
    first_v, last_v = v[np.minimum(first, len(v) - 1)], v[last]
    result = last_v - first_v
    if counter:
        drops = np.zeros(len(v))
        drops[1:] = np.where(v[1:] < v[:-1], v[:-1], 0.0)
        result = result + w.sum(drops, np.minimum(lo + 1, hi), hi)
    first_t, last_t = t[np.minimum(first, len(t) - 1)], t[last]
    to_start = (first_t - (w.ends - w.range)) / 1000
    to_end = (w.ends - last_t) / 1000
    sampled = (last_t - first_t) / 1000
    average = sampled / np.maximum(n - 1, 1)
    if counter:
        to_zero = sampled * (first_v / result)
        closer = (result > 0) & (first_v >= 0) & (to_zero < to_start)
        to_start = np.where(closer, to_zero, to_start)
    threshold = average * 1.1
    interval = sampled + np.where(to_start < threshold, to_start, average / 2)
    interval = interval + np.where(to_end < threshold, to_end, average / 2)
    factor = interval / sampled
    if rate:
        factor = factor / (w.range / 1000)
    return result * factor, ok


def rate(t, v, lo, hi, w):
    """Per-second increase, extrapolated to the window's edges, counter resets mended."""
    return _extrapolated(t, v, lo, hi, w, counter=True, rate=True)


def increase(t, v, lo, hi, w):
    """Increase over the window, extrapolated, counter resets mended."""
    return _extrapolated(t, v, lo, hi, w, counter=True, rate=False)


def delta(t, v, lo, hi, w):
    """Difference between the window's first and last values, extrapolated."""
    return _extrapolated(t, v, lo, hi, w, counter=False, rate=False)


def _instant(t, v, lo, hi, rate: bool) -> Result:
    ok = (hi - lo) >= 2
    last = np.maximum(hi - 1, 0)
    previous = np.maximum(hi - 2, 0)
    result = v[last] - v[previous]
    if rate:
        result = np.where(v[last] < v[previous], v[last], result)
        result = result / ((t[last] - t[previous]) / 1000)
    return result, ok


def irate(t, v, lo, hi, w):
    """Per-second rate between the window's last two samples (a drop is a reset)."""
    return _instant(t, v, lo, hi, rate=True)


def idelta(t, v, lo, hi, w):
    """Difference between the window's last two samples."""
    return _instant(t, v, lo, hi, rate=False)


def _pairs(flags_after_first: np.ndarray, lo, hi) -> np.ndarray:
    flags = np.zeros(len(flags_after_first) + 1, dtype=bool)
    flags[1:] = flags_after_first
    return window_count(flags, np.minimum(lo + 1, hi), hi).astype(np.float64)


def resets(t, v, lo, hi, w):
    """How many times the value drops within the window."""
    return _pairs(v[1:] < v[:-1], lo, hi), hi > lo


def changes(t, v, lo, hi, w):
    """How many times the value changes within the window (NaN to NaN is none)."""
    changed = (v[1:] != v[:-1]) & ~(np.isnan(v[1:]) & np.isnan(v[:-1]))
    return _pairs(changed, lo, hi), hi > lo


def count_over_time(t, v, lo, hi, w):
    """How many samples the window holds."""
    return (hi - lo).astype(np.float64), hi > lo


def sum_over_time(t, v, lo, hi, w):
    """Sum of the window's values."""
    return w.sum(v, lo, hi), hi > lo


def avg_over_time(t, v, lo, hi, w):
    """Mean of the window's values."""
    n = np.maximum(hi - lo, 1)
    return w.sum(v, lo, hi) / n, hi > lo


def max_over_time(t, v, lo, hi, w):
    """Largest value in the window (NaN only if all are NaN)."""
    return window_extreme(np.fmax, v, lo, hi), hi > lo


def min_over_time(t, v, lo, hi, w):
    """Smallest value in the window (NaN only if all are NaN)."""
    return window_extreme(np.fmin, v, lo, hi), hi > lo


def last_over_time(t, v, lo, hi, w):
    """The window's last value."""
    return v[np.maximum(hi - 1, 0)], hi > lo


def present_over_time(t, v, lo, hi, w):
    """1 wherever the window holds a sample."""
    return np.ones(len(lo)), hi > lo


def _over_gathered(v, lo, hi, reduce) -> Result:
    out = np.full(len(lo), np.nan)
    for part, matrix, mask in gathered(v, lo, hi):
        out[part] = reduce(part, matrix, mask)
    return out, hi > lo


def _variance(matrix: np.ndarray, mask: np.ndarray) -> np.ndarray:
    # Shifting by the window's first value keeps a constant window at exactly 0, as
    # Prometheus' running (Welford) computation gives.
    n = mask.sum(axis=1)
    shifted = np.where(mask, matrix - matrix[:, :1], 0.0)
    mean = shifted.sum(axis=1) / n
    deviation = np.where(mask, shifted - mean[:, None], 0.0)
    return (deviation * deviation).sum(axis=1) / n


def stdvar_over_time(t, v, lo, hi, w):
    """Population variance of the window's values."""
    return _over_gathered(v, lo, hi, lambda part, m, k: _variance(m, k))


def stddev_over_time(t, v, lo, hi, w):
    """Population standard deviation of the window's values."""
    return _over_gathered(v, lo, hi, lambda part, m, k: np.sqrt(_variance(m, k)))


def sorted_with_nan_first(matrix: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Each row's entries in Prometheus' quantile order: NaNs first, then ascending."""
    nan = mask & np.isnan(matrix)
    ordered = np.sort(np.where(mask & ~nan, matrix, np.inf), axis=1)
    nans = nan.sum(axis=1)
    columns = np.arange(matrix.shape[1])[None, :]
    source = np.clip(columns - nans[:, None], 0, matrix.shape[1] - 1)
    picked = np.take_along_axis(ordered, source, axis=1)
    return np.where(columns < nans[:, None], np.nan, picked)


def quantile_of_sorted(q: np.ndarray, ordered: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Prometheus' ``quantile``: linear interpolation between ranks, q outside [0, 1] -> ±Inf."""
    rank = q * (n - 1)
    lower = np.clip(np.floor(np.nan_to_num(rank)), 0, None)
    upper = np.minimum(n - 1, lower + 1)
    weight = rank - np.floor(rank)
    rows = np.arange(len(n))
    low = ordered[rows, np.clip(lower, 0, ordered.shape[1] - 1).astype(np.intp)]
    high = ordered[rows, np.clip(upper, 0, ordered.shape[1] - 1).astype(np.intp)]
    out = low * (1 - weight) + high * weight
    out = np.where(q < 0, -np.inf, np.where(q > 1, np.inf, out))
    return np.where(np.isnan(q) | (n == 0), np.nan, out)


def quantile_over_time(t, v, lo, hi, w):
    """The q-quantile of the window's values (q is the first argument)."""
    q = w.args[0]

    def reduce(part, matrix, mask):
        return quantile_of_sorted(q[part], sorted_with_nan_first(matrix, mask), mask.sum(axis=1))

    return _over_gathered(v, lo, hi, reduce)


def _regression(times, matrix, mask, intercept_at):
    """Least-squares slope and intercept (at ``intercept_at``) of each window."""
    n = mask.sum(axis=1)
    x = np.where(mask, (times - intercept_at[:, None]) / 1000, 0.0)
    y = np.where(mask, matrix, 0.0)
    sum_x, sum_y = x.sum(axis=1), y.sum(axis=1)
    cov = (x * y).sum(axis=1) - sum_x * sum_y / n
    var = (x * x).sum(axis=1) - sum_x * sum_x / n
    slope = cov / var
    intercept = sum_y / n - slope * sum_x / n
    first = matrix[:, 0]
    constant = (np.where(mask, matrix, first[:, None]) == first[:, None]).all(axis=1)
    slope = np.where(constant, np.where(np.isinf(first), np.nan, 0.0), slope)
    intercept = np.where(constant, np.where(np.isinf(first), np.nan, first), intercept)
    return slope, intercept


def _linear(t, v, lo, hi, w, predict: bool) -> Result:
    out = np.full(len(lo), np.nan)
    for part, matrix, mask in gathered(v, lo, hi):
        times = t[np.minimum(lo[part, None] + np.arange(matrix.shape[1]), len(t) - 1)]
        anchor = w.times[part] if predict else times[:, 0]
        slope, intercept = _regression(times, matrix, mask, anchor)
        out[part] = slope * w.args[0][part] + intercept if predict else slope
    return out, (hi - lo) >= 2


def deriv(t, v, lo, hi, w):
    """Per-second slope of a least-squares line through the window."""
    return _linear(t, v, lo, hi, w, predict=False)


def predict_linear(t, v, lo, hi, w):
    """The least-squares line's value the given seconds after each step."""
    return _linear(t, v, lo, hi, w, predict=True)


def holt_winters(t, v, lo, hi, w):
    """Double exponential smoothing of the window (smoothing, trend factors)."""
    smoothing, trend = w.args
    called = hi > lo
    for factor, what, short in ((smoothing, "smoothing", "sf"), (trend, "trend", "tf")):
        bad = called & ~((factor > 0) & (factor < 1))
        if bad.any():
            got = factor[np.argmax(bad)]
            raise ExecutionError(f"invalid {what} factor. Expected: 0 < {short} < 1, got: {got:f}")
    out = np.full(len(lo), np.nan)
    for part, matrix, mask in gathered(v, lo, hi):
        sf, tf = smoothing[part], trend[part]
        s0 = np.zeros(len(matrix))
        s1 = matrix[:, 0].copy()
        b = matrix[:, 1] - matrix[:, 0] if matrix.shape[1] > 1 else np.zeros(len(matrix))
        for i in range(1, matrix.shape[1]):
            live = mask[:, i]
            x = sf * matrix[:, i]
            if i > 1:
                b = np.where(live, tf * (s1 - s0) + (1 - tf) * b, b)
            y = (1 - sf) * (s1 + b)
            s0, s1 = np.where(live, s1, s0), np.where(live, x + y, s1)
        out[part] = s1
    return out, (hi - lo) >= 2


FUNCTIONS: dict[str, RangeFunction] = {
    "rate": rate,
    "increase": increase,
    "delta": delta,
    "irate": irate,
    "idelta": idelta,
    "resets": resets,
    "changes": changes,
    "count_over_time": count_over_time,
    "sum_over_time": sum_over_time,
    "avg_over_time": avg_over_time,
    "max_over_time": max_over_time,
    "min_over_time": min_over_time,
    "last_over_time": last_over_time,
    "present_over_time": present_over_time,
    "stddev_over_time": stddev_over_time,
    "stdvar_over_time": stdvar_over_time,
    "quantile_over_time": quantile_over_time,
    "deriv": deriv,
    "predict_linear": predict_linear,
    "holt_winters": holt_winters,
}
