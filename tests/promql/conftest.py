"""Prints the compliance count at the end of the run (the suite's output states it)."""

from __future__ import annotations

import pytest

from tests.promql import tally


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line: how many corpus queries answer exactly as Prometheus 2.42 does."""
    if tally.TOTAL:
        terminalreporter.write_line(tally.summary())
