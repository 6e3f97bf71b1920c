"""``dashapp worker``: the process that runs all background work, beside the web servers.

Each pass refreshes pending rollups and runs the periodic jobs that are due
(:mod:`db.jobs`). Any number of workers, on any number of hosts, may run together:
they coordinate through the database. With Redis, worker threads also recompute the
newest blocks that viewers' ticks were served slightly stale (:func:`serve_refreshes`).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from flask import Flask, current_app

from dashapp.cache import GuardedRedisCache
from dashapp.extensions import cache
from db import cached, jobs

log = logging.getLogger(__name__)
REFRESH_THREADS = 2
REFRESH_WAIT = 1.0
"""Seconds a refresh thread waits for a job before telling the web processes again that
it listens (they refresh in process while no worker has said so for 5 s)."""


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


def serve_refreshes(app: Flask, stop: threading.Event) -> None:
    """Until ``stop`` is set, run the reads that web processes queued when a tick was
    served its newest blocks slightly stale (see :func:`db.blockcache.cached_pieces`):
    their recomputation then takes no turn on the interpreter lock of the processes
    answering viewers. Needs the shared cache (Redis)."""
    while not stop.is_set():
        try:
            with app.app_context():
                job = cache.cache.take_refresh(REFRESH_WAIT, alive=5)
                if job is not None:
                    cached.rerun(job, max_age=float(app.config["LIVE_STALE_LIMIT"]))
        except Exception:  # Redis or the database away: try again in a moment
            log.warning("refreshing recent blocks failed", exc_info=True)
            stop.wait(REFRESH_WAIT)


def start_refreshes(stop: threading.Event) -> list[threading.Thread]:
    """Start :data:`REFRESH_THREADS` threads of :func:`serve_refreshes` for the current
    app, when its cache is shared with the web processes (Redis); else none."""
    if not isinstance(cache.cache, GuardedRedisCache):
        return []
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    threads = [
        threading.Thread(
            target=serve_refreshes, args=(app, stop), name=f"dashapp-worker-refresh-{n}",
            daemon=True,
        )
        for n in range(REFRESH_THREADS)
    ]  # fmt: skip
    for thread in threads:
        thread.start()
    return threads


def run_forever(interval: float = 5.0, batch: int = 2000) -> None:
    """Run passes until interrupted, sleeping ``interval`` seconds after an idle pass,
    with the refresh threads of :func:`start_refreshes` beside them.

    A pass that fails (database restarting, a job raising) is logged and retried after
    the interval: the worker outlives outages instead of exiting.
    """
    start_refreshes(threading.Event())
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
