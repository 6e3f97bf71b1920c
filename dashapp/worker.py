"""``dashapp worker``: the process that runs all background work, beside the web servers.

Each pass refreshes pending rollups and runs the periodic jobs that are due
(:mod:`db.jobs`). Any number of workers, on any number of hosts, may run together:
they coordinate through the database.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from db import jobs

log = logging.getLogger(__name__)


@dataclass
class PassReport:
    """What one pass of the worker did."""

    rollup_hours: int = 0
    jobs: dict[str, int] = field(default_factory=dict)

    @property
    def idle(self) -> bool:
        """True when the pass found nothing to do."""
        return not self.rollup_hours and not self.jobs


def run_pass(batch: int = 2000) -> PassReport:
    """One pass: drain the rollup queue, then run the periodic jobs that are due."""
    report = PassReport()
    report.rollup_hours = jobs.refresh_rollups(batch)
    report.jobs = jobs.run_due_jobs()
    return report


def run_forever(interval: float = 5.0, batch: int = 2000) -> None:
    """Run passes until interrupted, sleeping ``interval`` seconds after an idle pass.

    A pass that fails (database restarting, a job raising) is logged and retried after
    the interval: the worker outlives outages instead of exiting.
    """
    while True:
        try:
            report = run_pass(batch)
        except Exception:
            log.exception("worker pass failed; retrying in %ss", interval)
            time.sleep(interval)
            continue
        if report.rollup_hours or any(report.jobs.values()):  # a pass that did something
            log.info("refreshed %d series-hours; jobs %s", report.rollup_hours, report.jobs)
        time.sleep(interval)
