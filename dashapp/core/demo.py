"""Demo data: realistic synthetic host metrics and the "Service health" dashboard.

Values are pure functions of (host, metric, time), so seeding is idempotent and a
later top-up continues the same curves exactly where the last one stopped.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

GIB = 2**30
DAY = 86400.0
STEP = timedelta(seconds=10)
DEMO_SLUG = "service-health"
_MASK = 2**64 - 1


@dataclass(frozen=True)
class Host:
    """A demo host: its name, region and how loaded it is."""

    name: str
    region: str
    load: float
    memory_gib: float


HOSTS = (
    Host("web-1", "eu", 1.0, 6.0),
    Host("web-2", "eu", 0.8, 5.5),
    Host("web-3", "us", 1.3, 7.0),
    Host("api-1", "us", 0.6, 12.0),
)


@lru_cache(maxsize=256)
def _seed(*parts: str) -> int:
    return int.from_bytes(hashlib.blake2b("/".join(parts).encode(), digest_size=8).digest(), "big")


def _noise(kind: str, host: str, t: float) -> float:
    """Deterministic noise in [-1, 1) for (kind, host, time): a splitmix64 step."""
    x = (_seed(kind, host) + int(t) * 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return (x ^ (x >> 31)) / 2**63 - 1


def _daily(t: float, peak_hour: float = 14.0) -> float:
    """0..1 daily traffic curve peaking at ``peak_hour`` UTC."""
    return 0.5 + 0.5 * math.cos(2 * math.pi * ((t % DAY) / DAY - peak_hour / 24))


def request_rate(host: Host, t: float) -> float:
    """Requests per second served by ``host`` at epoch second ``t``."""
    return 40 + 160 * host.load * _daily(t) + 8 * _noise("rps", host.name, t // 60)


def cpu_usage(host: Host, t: float) -> float:
    """CPU usage in percent: follows traffic, with noise and rare spikes."""
    spike = 35.0 if _noise("spike", host.name, t // 600) > 0.97 else 0.0
    value = 12 + 0.28 * request_rate(host, t) + 4 * _noise("cpu", host.name, t) + spike
    return max(0.0, min(100.0, value))


def memory_used(host: Host, t: float) -> float:
    """Bytes of memory in use: a slow leak that a nightly restart resets."""
    since_restart = (t % DAY) / DAY
    return (
        host.memory_gib * (0.45 + 0.35 * since_restart) + 0.05 * _noise("mem", host.name, t)
    ) * GIB


def latency_ms(host: Host, t: float) -> float:
    """Mean response time in milliseconds: grows with load, jittery."""
    base = 35 + 60 * (request_rate(host, t) / 250) ** 2
    return base * (1 + 0.15 * _noise("lat", host.name, t))


def error_rate(host: Host, t: float) -> float:
    """Errors per second: a trickle, with the occasional burst."""
    burst = 4.0 if _noise("burst", host.name, t // 900) > 0.95 else 0.0
    return max(0.0, 0.02 * request_rate(host, t) / 100 + burst + 0.05 * _noise("err", host.name, t))


METRICS: dict[str, Callable[[Host, float], float]] = {
    "cpu.usage": cpu_usage,
    "memory.used": memory_used,
    "http.latency": latency_ms,
}
RATES: dict[str, Callable[[Host, float], float]] = {
    "http.requests": request_rate,
    "http.errors": error_rate,
}


def generate(
    start: datetime, end: datetime, counters: dict[tuple[str, str], float] | None = None
) -> Iterator[tuple[str, str, dict[str, str], datetime, float]]:
    """Every demo point in [start, end) on the 10 s grid: (metric, source, labels, ts, value).

    Counters (``http.requests``, ``http.errors``) are running totals that restart at
    midnight UTC, as a nightly deploy would; ``counters`` holds the totals to continue
    from, keyed by (host, metric), and is updated in place.
    """
    step = STEP.total_seconds()
    totals = counters if counters is not None else {}
    first = math.ceil(start.timestamp() / step) * step
    for i in range(max(0, math.ceil((end.timestamp() - first) / step))):
        t = first + i * step
        stamp = datetime.fromtimestamp(t, tz=UTC)
        restart = t % DAY == 0
        for host in HOSTS:
            labels = {"region": host.region}
            for name, fn in METRICS.items():
                yield name, host.name, labels, stamp, round(fn(host, t), 4)
            for name, rate in RATES.items():
                before = 0.0 if restart else totals.get((host.name, name), 0.0)
                totals[host.name, name] = before + max(0.0, rate(host, t)) * step
                yield name, host.name, labels, stamp, round(totals[host.name, name], 3)


ABOUT = """**Service health** is dashapp's demo: four hosts serving HTTP traffic,
with metrics pushed every 10 s by `dashapp demo-feed`.

- Drag a box on any time chart to zoom every panel; **Zoom out** and **Back** undo it.
- Pick hosts above to filter every panel; the URL keeps the whole view, so
  **Copy link** shares exactly what you see.
- **Inspect** on a panel shows its query, timing and points, with a CSV download.
"""


def dashboard_spec() -> dict[str, Any]:
    """The "Service health" dashboard: twelve panels covering every panel type."""
    hosts = "$host"
    return {
        "schema_version": 2,
        "title": "Service health",
        "description": "Demo: four hosts serving HTTP traffic.",
        "time": {"from": "now-6h", "to": "now", "refresh": "30s"},
        "tags": ["demo", "web"],
        "variables": [{"name": "host", "label": "Host", "key": "source", "metric": "cpu.usage"}],
        "panels": [
            _stat("rps", "Requests / s", "http.requests", "rate", "reqps", 0, []),
            _stat("errors", "Errors / s", "http.errors", "rate", "reqps", 6,
                  [{"value": 1, "color": "orange"}, {"value": 5, "color": "red"}]),
            _stat("latency-now", "Latency", "http.latency", "avg", "ms", 12,
                  [{"value": 150, "color": "orange"}, {"value": 300, "color": "red"}]),
            {
                "id": "cpu-gauge", "type": "gauge", "title": "CPU (avg)",
                "description": "Average CPU usage of the selected hosts, last value.",
                "grid": {"x": 18, "y": 0, "w": 6, "h": 5},
                "queries": [{"metric": "cpu.usage", "source": hosts, "agg": "avg"}],
                "options": {"unit": "percent", "min": 0, "max": 100, "thresholds": [
                    {"value": 0, "color": "green"}, {"value": 70, "color": "orange"},
                    {"value": 90, "color": "red"}]},
            },
            _series("cpu", "CPU usage by host", "cpu.usage", "avg", "percent", "line",
                    {"x": 0, "y": 5, "w": 12, "h": 9},
                    thresholds=[{"value": 90, "color": "red"}]),
            _series("memory", "Memory used", "memory.used", "avg", "bytes", "area",
                    {"x": 12, "y": 5, "w": 12, "h": 9}),
            _series("requests", "Request rate by host", "http.requests", "rate", "reqps",
                    "stacked", {"x": 0, "y": 14, "w": 12, "h": 9}),
            {
                "id": "latency-heatmap", "type": "heatmap", "title": "Latency distribution",
                "description": "How response times spread over time, all selected hosts.",
                "grid": {"x": 12, "y": 14, "w": 12, "h": 9},
                "queries": [{"metric": "http.latency", "source": hosts}],
                "options": {"unit": "ms", "buckets": 24},
            },
            {
                "id": "rps-by-host", "type": "bar", "title": "Average requests / s by host",
                "grid": {"x": 0, "y": 23, "w": 8, "h": 8},
                "queries": [{"metric": "http.requests", "source": hosts, "agg": "rate",
                             "group_by": ["source"]}],
                "options": {"unit": "reqps", "reduce": "avg"},
            },
            {
                "id": "latency-table", "type": "table", "title": "Latency by host",
                "grid": {"x": 8, "y": 23, "w": 10, "h": 8},
                "queries": [{"metric": "http.latency", "source": hosts, "group_by": ["source"]}],
                "options": {"unit": "ms"},
            },
            {
                "id": "about", "type": "text", "title": "About",
                "grid": {"x": 18, "y": 23, "w": 6, "h": 8},
                "options": {"content": ABOUT},
            },
            _series("errors-by-host", "Errors / s by host", "http.errors", "rate", "reqps",
                    "bars", {"x": 0, "y": 31, "w": 24, "h": 8}),
        ],
    }  # fmt: skip


def _stat(
    panel_id: str, title: str, metric: str, agg: str, unit: str, x: int, thresholds: list[Any]
) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": "stat",
        "title": title,
        "grid": {"x": x, "y": 0, "w": 6, "h": 5},
        "queries": [{"metric": metric, "source": "$host", "agg": agg}],
        "options": {"unit": unit, "reduce": "last" if agg != "rate" else "avg",
                    "thresholds": thresholds},
    }  # fmt: skip


def _series(
    panel_id: str,
    title: str,
    metric: str,
    agg: str,
    unit: str,
    style: str,
    grid: dict[str, int],
    thresholds: list[Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": title,
        "grid": grid,
        "queries": [{"metric": metric, "source": "$host", "agg": agg, "group_by": ["source"]}],
        "options": {"unit": unit, "style": style, "thresholds": thresholds or []},
    }
