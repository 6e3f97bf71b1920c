"""The compliance count of this run, filled in by the compliance tests."""

from __future__ import annotations

from collections import Counter

PASSED: Counter[str] = Counter()
TOTAL: Counter[str] = Counter()
EVALUATIONS: list[int] = [0]


def record(category: str, passed: bool, evaluations: int) -> None:
    """Count one corpus query (all its instant and range evaluations)."""
    TOTAL[category] += 1
    PASSED[category] += passed
    EVALUATIONS[0] += evaluations


def summary() -> str:
    """``PromQL compliance vs Prometheus 2.42: N/M queries ...``."""
    passed, total = sum(PASSED.values()), sum(TOTAL.values())
    parts = ", ".join(f"{c} {PASSED[c]}/{TOTAL[c]}" for c in TOTAL)
    return (
        f"PromQL compliance vs Prometheus 2.42: {passed}/{total} queries "
        f"({EVALUATIONS[0]} evaluations) match [{parts}]"
    )
