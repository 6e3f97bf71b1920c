"""The compliance fixture: about 60 series over three hours, generated deterministically.

Counters with resets, gauges with gaps longer than the lookback, series that start late
and stop early, NaN and ±Inf values, classic histograms (``le`` buckets), several jobs and
instances, and staleness markers. Samples sit 15 s apart at odd milliseconds, so no
sample falls on a window boundary (query times and durations are whole seconds).

Samples before :data:`SPLIT` go to Prometheus as TSDB blocks (``promtool tsdb
create-blocks-from openmetrics``); the rest, staleness markers included (OpenMetrics
cannot carry them), by remote write into its head.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dashapp.core.promql import STALE_NAN, is_stale

T0 = 1_700_000_000_000  # ms, 2023-11-14T22:13:20Z
HOUR = 3_600_000
MINUTE = 60_000
END = T0 + 3 * HOUR
SPLIT = T0 + 2 * HOUR + 10 * MINUTE
BUCKETS = ("0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf")


@dataclass
class FixtureSeries:
    """One series: its labels (``__name__`` included), its family type, its samples."""

    labels: dict[str, str]
    family: str
    kind: str
    times: np.ndarray
    values: np.ndarray


def _grid(offset_ms: int, start: int = T0, end: int = END, every: int = 15_000) -> np.ndarray:
    return np.arange(start + offset_ms, end, every, dtype=np.float64)


class _Builder:
    def __init__(self) -> None:
        self.rng = np.random.default_rng(24)
        self.series: list[FixtureSeries] = []
        # Odd milliseconds: never on a whole second, where query windows start and end.
        self.offsets = iter(o for o in range(37, 15_000, 211) if o % 1000)

    def add(self, family, kind, labels, times, values, name=None) -> None:
        metric = {"__name__": name or family, **labels}
        self.series.append(FixtureSeries(metric, family, kind, times, np.asarray(values, float)))

    def offset(self) -> int:
        return next(self.offsets)

    def counter(self, family, labels, rate, resets=(), start=T0, end=END) -> None:
        times = _grid(self.offset(), start, end)
        steps = self.rng.poisson(rate * 15, len(times)).astype(float)
        values = np.cumsum(steps)
        for when in resets:
            cut = np.searchsorted(times, when)
            values[cut:] -= values[cut] - steps[cut] * 0.5
        self.add(family, "counter", labels, times, values, name=f"{family}_total")


def build() -> list[FixtureSeries]:
    """Every series of the fixture."""
    b = _Builder()
    for job in ("api", "web"):
        for instance in ("a:9090", "b:9090"):
            for method in ("get", "post"):
                rate = {"get": 4.0, "post": 1.5}[method] * (2 if job == "api" else 1)
                resets = [T0 + 70 * MINUTE] if (instance, method) == ("b:9090", "get") else []
                b.counter("http_requests", {"job": job, "instance": instance, "method": method},
                          rate, resets)  # fmt: skip
    for instance in ("a:9100", "b:9100"):
        for mode, rate in (("idle", 0.8), ("user", 0.15), ("system", 0.05)):
            b.counter("node_cpu_seconds", {"job": "node", "instance": instance, "mode": mode},
                      rate, [T0 + 100 * MINUTE] if mode == "user" else [])  # fmt: skip
    _gauges(b)
    _histograms(b)
    _tail_only(b)
    return b.series


def _gauges(b: _Builder) -> None:
    for location, base in (("kitchen", 21.0), ("garage", 9.0), ("attic", 30.0)):
        times = _grid(b.offset())
        values = base + np.cumsum(b.rng.normal(0, 0.2, len(times)))
        keep = np.ones(len(times), dtype=bool)
        if location == "attic":  # a 20-minute gap: longer than the lookback
            keep &= (times < T0 + 50 * MINUTE) | (times > T0 + 70 * MINUTE)
        if location == "garage":  # starts late
            keep &= times > T0 + 60 * MINUTE
        if location == "kitchen":  # stops early
            keep &= times < T0 + 140 * MINUTE
        b.add("temperature_celsius", "gauge", {"job": "sensors", "location": location},
              times[keep], values[keep])  # fmt: skip
    for instance in ("a", "b"):
        times = _grid(b.offset())
        values = np.round(b.rng.uniform(0, 50, len(times)))
        specials = {30: np.nan, 31: np.nan, 200: np.inf, 410: -np.inf, 500: np.nan}
        for index, special in specials.items():
            values[index + (7 if instance == "b" else 0)] = special
        b.add("queue_depth", "gauge", {"job": "worker", "instance": instance}, times, values)
    for instance, size in (("a", 3.1e9), ("b", 1.7e9), ("c", 5.3e9), ("d", 0.9e9)):
        times = _grid(b.offset())
        values = size + np.cumsum(b.rng.normal(0, 1e6, len(times)))
        b.add("memory_bytes", "gauge", {"job": "node", "instance": instance}, times, values)
    for job, instance in (("api", "a:9090"), ("api", "b:9090"), ("web", "a:9090")):
        times = _grid(b.offset())
        values = np.where((times > T0 + 80 * MINUTE) & (times < T0 + 95 * MINUTE)
                          & (instance == "b:9090"), 0.0, 1.0)  # fmt: skip
        b.add("up", "gauge", {"job": job, "instance": instance}, times, values)
    for device in ("sda", "sdb"):
        for direction, rate in (("read", 2e5), ("written", 5e5)):
            b.counter(f"disk_{direction}_bytes", {"job": "node", "device": device}, rate)
    times = _grid(b.offset())
    b.add("build_version", "gauge", {"job": "api", "instance": "a:9090"}, times,
          1 + (np.arange(len(times)) // 40) % 3)  # fmt: skip
    times = _grid(b.offset())
    b.add("app_info", "gauge", {"job": "api", "version": "1.2.3", "branch": "main",
          "path": "/srv/app-1.2.3/bin"}, times, np.ones(len(times)))  # fmt: skip


def _histograms(b: _Builder) -> None:
    for job in ("api", "web"):
        offset = b.offset()
        times = _grid(offset)
        observed = b.rng.gamma(2.0, 0.15 if job == "api" else 0.4, (len(times), 40))
        counts = np.stack([(observed <= float(le)).sum(axis=1) for le in BUCKETS], axis=1)
        cumulative = np.cumsum(counts, axis=0).astype(float)
        total = np.cumsum(observed.sum(axis=1))
        if job == "web":  # a restart resets every bucket
            cut = np.searchsorted(times, T0 + 110 * MINUTE)
            cumulative[cut:] -= cumulative[cut - 1]
            total[cut:] -= total[cut - 1]
        family = "request_duration_seconds"
        for column, le in enumerate(BUCKETS):
            b.add(family, "histogram", {"job": job, "le": le}, times, cumulative[:, column],
                  name=f"{family}_bucket")  # fmt: skip
        b.add(family, "histogram", {"job": job}, times, cumulative[:, -1], name=f"{family}_count")
        b.add(family, "histogram", {"job": job}, times, total, name=f"{family}_sum")


def _tail_only(b: _Builder) -> None:
    """Series only in the remote-written tail: staleness markers end them for a while."""
    for instance, stale_at, back_at in (("a", 140, 150), ("b", 160, None)):
        times = _grid(b.offset(), SPLIT + MINUTE)
        values = 100 + np.round(b.rng.normal(0, 5, len(times)))
        stale = times.searchsorted(T0 + stale_at * MINUTE)
        resume = len(times) if back_at is None else times.searchsorted(T0 + back_at * MINUTE)
        values[stale] = STALE_NAN
        keep = np.ones(len(times), dtype=bool)
        keep[stale + 1 : resume] = False
        b.add("sessions_active", "gauge", {"job": "web", "instance": instance}, times[keep],
              values[keep])  # fmt: skip


def openmetrics(series: list[FixtureSeries]) -> str:
    """The samples before :data:`SPLIT`, as an OpenMetrics text for promtool."""
    lines: list[str] = []
    for family in dict.fromkeys(s.family for s in series):
        members = [s for s in series if s.family == family]
        lines.append(f"# TYPE {family} {members[0].kind}")
        for item in members:
            name = item.labels["__name__"]
            labels = ",".join(f'{k}="{v}"' for k, v in item.labels.items() if k != "__name__")
            early = item.times < SPLIT
            for t, v in zip(item.times[early], item.values[early], strict=True):
                lines.append(f"{name}{{{labels}}} {_number(v)} {t / 1000:.3f}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


def _number(value: float) -> str:
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def tail(series: list[FixtureSeries]) -> list[tuple[dict[str, str], np.ndarray, np.ndarray]]:
    """The samples from :data:`SPLIT` on, per series (for remote write)."""
    out = []
    for item in series:
        late = item.times >= SPLIT
        if late.any():
            out.append((item.labels, item.times[late], item.values[late]))
    return out


__all__ = ["build", "is_stale", "openmetrics", "tail"]
