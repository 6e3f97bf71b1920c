"""Retention policies: how long each storage level keeps a metric's data.

``RETENTION=raw:30d,1m:180d,1h:5y`` is the default for every metric;
``RETENTION_RULES=debug.=raw:7d,1m:30d;billing.=raw:5y`` overrides it for metric names
starting with a prefix (the longest matching prefix wins; levels a rule leaves out
keep the default's). ``forever`` (or leaving a level out of the default) keeps that
level's data for good. Levels: ``raw`` (points, hot and compacted), ``1m`` and ``1h``
(rollups).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

LEVELS = ("raw", "1m", "1h")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400, "y": 365 * 86_400}
_DURATION = re.compile(r"^(\d+)([smhdwy])$")


def parse_duration(text: str) -> timedelta | None:
    """``30d`` -> 30 days; ``forever`` -> None (kept for good)."""
    text = text.strip().lower()
    if text == "forever":
        return None
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError(f"invalid duration {text!r}: use e.g. 90s, 15m, 36h, 30d, 8w, 5y, forever")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def format_duration(keep: timedelta | None) -> str:
    """The shortest spelling of a duration (``180d``, ``5y``), or ``forever``."""
    if keep is None:
        return "forever"
    seconds = int(keep.total_seconds())
    for unit in ("y", "d", "h", "m"):
        if seconds % _UNITS[unit] == 0:
            return f"{seconds // _UNITS[unit]}{unit}"
    return f"{seconds}s"


@dataclass(frozen=True)
class Policy:
    """How long each level keeps data (None: forever)."""

    keep: dict[str, timedelta | None] = field(default_factory=dict)

    def of(self, level: str) -> timedelta | None:
        """How long ``level`` keeps data (None: forever)."""
        return self.keep.get(level)

    def describe(self) -> dict[str, str]:
        """The policy as ``{"raw": "30d", "1m": "180d", "1h": "5y"}``."""
        return {level: format_duration(self.of(level)) for level in LEVELS}


def parse_policy(text: str, base: Policy | None = None) -> Policy:
    """``raw:30d,1m:180d,1h:5y`` on top of ``base`` (levels left out keep its values)."""
    keep = dict(base.keep) if base else {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        level, sep, duration = part.partition(":")
        level = level.strip()
        if not sep or level not in LEVELS:
            raise ValueError(f"invalid retention {part!r}: use level:duration, levels {LEVELS}")
        keep[level] = parse_duration(duration)
    return Policy(keep)


@dataclass(frozen=True)
class Retention:
    """The default policy and the per-prefix overrides, longest prefix first."""

    default: Policy
    rules: tuple[tuple[str, Policy], ...] = ()

    def policy_for(self, metric: str) -> Policy:
        """The policy applying to metric name ``metric``."""
        for prefix, policy in self.rules:
            if metric.startswith(prefix):
                return policy
        return self.default


def parse_retention(default: str, rules: str = "") -> Retention:
    """Settings ``RETENTION`` and ``RETENTION_RULES`` as a :class:`Retention`."""
    base = parse_policy(default)
    parsed = []
    for rule in filter(None, (r.strip() for r in rules.split(";"))):
        prefix, sep, policy = rule.partition("=")
        if not sep or not prefix.strip():
            raise ValueError(f"invalid retention rule {rule!r}: use prefix=raw:7d,1m:30d")
        parsed.append((prefix.strip(), parse_policy(policy, base)))
    parsed.sort(key=lambda item: len(item[0]), reverse=True)
    return Retention(base, tuple(parsed))
