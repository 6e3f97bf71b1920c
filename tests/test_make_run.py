"""A new user's first start: ``make run`` on a fresh instance stays live.

The demo used to go stale minutes after the first start: the worker's first pass
compacted the seeded week in one long transaction, the feeder's write outlasted SQLite's
busy timeout and it died, silently (its output went to /dev/null). This runs the real
``make run`` on a fresh SQLite file and a free port, with two documented settings that
make the race come sooner instead of five minutes on: the feeder writes every 2 s
(``DEMO_FEED_INTERVAL``) and a writer gives up after 2 s instead of 30
(``SQLITE_BUSY_TIMEOUT``), far shorter than that first compaction of over a million
points, which still runs while the feeder writes. Then it kills the feeder (it must be
reported and restarted) and presses Ctrl-C (everything must stop).
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dash.testing.composite import DashComposite
from selenium.webdriver.common.by import By

from dashapp.core.demo import DEMO_SLUG
from tests.browser import DESKTOP, wait_for
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
STAT_PANELS = ("rps", "errors", "latency-now", "cpu-gauge")


class Run:
    """``make run`` in its own process group (as a terminal runs it), its output kept."""

    def __init__(self, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            # -o: never reinstall the venv here (a fresh clone's first `make run` does).
            ["make", "--no-print-directory", "-o", ".venv/.installed", "run"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True, text=True,
        )  # fmt: skip
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def matching(self, pattern: str) -> list[re.Match[str]]:
        """Every match of ``pattern`` in the output so far."""
        return [m for line in list(self.lines) if (m := re.search(pattern, line))]

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first line matching ``pattern``, waiting up to ``timeout`` seconds."""
        found = wait_for(lambda: self.matching(pattern), timeout)
        assert found, f"no {pattern!r} in make run's output:\n" + "\n".join(self.lines[-60:])
        return found[0]

    def pids(self, name: str) -> list[int]:
        """The pids ``dashapp run`` started ``name`` with, in order."""
        return [int(m.group(1)) for m in self.matching(rf"^{name} +\| started \(pid (\d+)\)")]

    def interrupt(self) -> int:
        """Ctrl-C in the terminal: SIGINT to the whole foreground process group; make's
        exit code (0 or the signal's, by which of them saw it first)."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=60)

    def kill(self) -> None:
        """Whatever is left of the run (a failed test): killed, its pipe closed."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.reader.join(timeout=10)
        assert self.process.stdout is not None
        self.process.stdout.close()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def newest_point(database: Path) -> datetime:
    """The newest demo point stored (hot rows: what the feeder appends)."""
    with sqlite3.connect(database, timeout=30) as connection:
        micros = connection.execute("SELECT max(ts) FROM metric_points").fetchone()[0]
    return datetime.fromtimestamp(micros / 1e6, UTC)


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[tuple[Run, Path, int]]:
    database = tmp_path / "instance" / "dashapp.db"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "MAKEFLAGS", "MFLAGS")}
    env.update(
        DATABASE_URL=f"sqlite:///{database}", HOST="127.0.0.1", PORT=str(port),
        DASHAPP_ENV="development", ADMIN_PASSWORD="first-hour-admin", ACCESS_LOG="0",
        DEMO_FEED_INTERVAL="2", SQLITE_BUSY_TIMEOUT="2", WORKER_INTERVAL="2",
    )  # fmt: skip
    run = Run(env)
    try:
        yield run, database, port
    finally:
        run.kill()


def stats_are_live(dash_duo: DashComposite) -> bool:
    """Every stat and the gauge drew a value, and none says it is stale."""
    driver = dash_duo.driver
    for panel in STAT_PANELS:
        cell = driver.find_element(By.ID, f"panel-{panel}")
        if not cell.find_elements(By.CSS_SELECTOR, ".main-svg"):
            return False
        if "stale" in cell.text:
            return False
    return True


def test_make_run_stays_live_reports_a_dead_feeder_and_stops_on_ctrl_c(
    make_run: tuple[Run, Path, int], dash_duo: DashComposite
) -> None:
    run, database, port = make_run
    run.wait_for(r"^demo ready: \d+ new points", timeout=300)
    run.wait_for(rf"^web +\| .*Listening at: http://127\.0\.0\.1:{port}", timeout=60)
    # The worker compacts the seeded week (1.3M points) while the feeder writes: in slices,
    # over one pass or a few (a pass gives other work a turn after 30 s).
    compacted = lambda: sum(  # noqa: E731
        int(m.group(1)) for m in run.matching(r"^worker +\| .*'compaction': (\d+)")
    )
    assert wait_for(lambda: compacted() > 1_000_000, timeout=300), "\n".join(run.lines[-40:])
    assert not run.matching(r"EXITED"), "\n".join(run.lines[-40:])
    (feeder,) = run.pids("feed")
    assert alive(feeder)
    written_after = time.time() + 1
    assert wait_for(lambda: newest_point(database).timestamp() > written_after, timeout=30)

    dash_duo.driver.set_window_size(*DESKTOP)
    dash_duo.driver.get(f"http://127.0.0.1:{port}/d/{DEMO_SLUG}?from=now-15m&to=now")
    assert wait_for(lambda: stats_are_live(dash_duo), timeout=60), "a stat is stale or missing"

    os.kill(feeder, signal.SIGKILL)  # a feeder that dies is said so and comes back
    run.wait_for(r"^feed +\| !!! EXITED with code -9; restarting", timeout=30)
    assert wait_for(lambda: len(run.pids("feed")) == 2, timeout=30)
    restarted = time.time()
    assert wait_for(lambda: newest_point(database).timestamp() > restarted, timeout=30)

    children = [pid for name in ("web", "worker", "feed") for pid in run.pids(name)[-1:]]
    assert all(alive(pid) for pid in children)
    run.interrupt()  # make returns once everything it started has stopped
    assert not [pid for pid in children if alive(pid)]
    assert run.matching(r"^web +\| stopped") and run.matching(r"^feed +\| stopped")
