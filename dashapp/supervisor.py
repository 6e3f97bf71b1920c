"""``dashapp run``: the web server, the worker and the demo feeder in one terminal.

Each runs as its own child process; every line they print comes out here prefixed with
its name (``web    | ...``), like foreman and honcho do. A worker or feeder that exits
is said so loudly and restarted, after a delay that doubles while it keeps dying (1 s
up to :data:`MAX_DELAY`); the web server exiting ends the run, since then there is
nothing to look at. Ctrl-C (SIGINT) or SIGTERM stops every child: SIGTERM first, SIGKILL
after :data:`STOP_GRACE` seconds.

Children run in their own process groups, so the terminal's Ctrl-C reaches only this
supervisor, which then stops them in order, instead of each child catching it at once
and printing its own traceback.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO

MAX_DELAY = 30.0
STOP_GRACE = 10.0
STABLE_AFTER = 60.0
"""A child that ran this long before dying is restarted after the shortest delay again."""


@dataclass
class Child:
    """One supervised command: its name, its argv and whether it comes back when it dies."""

    name: str
    argv: Sequence[str]
    restart: bool = True
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    delay: float = 1.0
    restarts: int = 0
    readers: list[threading.Thread] = field(default_factory=list)


class Supervisor:
    """Start children, relay their output with a prefix, restart the ones that die."""

    def __init__(
        self,
        children: Sequence[Child],
        out: IO[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.children = list(children)
        self.out = out or sys.stdout
        self.env = env
        self.width = max(len(child.name) for child in self.children)
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def say(self, name: str, line: str) -> None:
        """Print one line prefixed with ``name`` (whole lines only, never interleaved)."""
        with self.lock:
            self.out.write(f"{name.ljust(self.width)} | {line}\n")
            self.out.flush()

    def start(self, child: Child) -> None:
        """Start ``child`` with its output piped to :meth:`say`."""
        child.process = subprocess.Popen(
            child.argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**(self.env or os.environ), "PYTHONUNBUFFERED": "1"},
            start_new_session=True,  # Ctrl-C reaches the supervisor, which stops them
        )
        child.started_at = time.monotonic()
        self.say(child.name, f"started (pid {child.process.pid})")
        reader = threading.Thread(target=self._relay, args=(child, child.process), daemon=True)
        reader.start()
        child.readers = [reader]

    def _relay(self, child: Child, process: subprocess.Popen[bytes]) -> None:
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            self.say(child.name, raw.decode(errors="replace").rstrip("\r\n"))
        process.stdout.close()

    def run(self, poll: float = 0.2) -> int:
        """Run until the web server exits or a stop signal arrives; returns the exit code."""
        for child in self.children:
            self.start(child)
        code = 0
        while not self.stopping.is_set():
            for child in self.children:
                process = child.process
                if process is None or process.poll() is None:
                    continue
                for reader in child.readers:  # its last words first
                    reader.join(timeout=1)
                if not child.restart:
                    self.say(child.name, f"exited with code {process.returncode}: stopping all")
                    code = process.returncode or 1
                    self.stopping.set()
                    break
                self._restart_later(child, process.returncode)
            self.stopping.wait(poll)
        self.stop_all()
        return code

    def _restart_later(self, child: Child, returncode: int) -> None:
        """Report the death loudly and restart after the child's current delay."""
        if time.monotonic() - child.started_at > STABLE_AFTER:
            child.delay = 1.0
        child.restarts += 1
        self.say(
            child.name,
            f"!!! EXITED with code {returncode}; restarting in {child.delay:g} s "
            f"(restart {child.restarts})",
        )
        child.process = None
        delay = child.delay
        child.delay = min(child.delay * 2, MAX_DELAY)
        if not self.stopping.wait(delay):
            self.start(child)

    def stop_all(self) -> None:
        """SIGTERM every child still running, SIGKILL what is left after the grace."""
        self.stopping.set()
        running = [c for c in self.children if c.process and c.process.poll() is None]
        for child in running:
            self.say(child.name, "stopping")
            _signal_group(child.process, signal.SIGTERM)  # type: ignore[arg-type]
        deadline = time.monotonic() + STOP_GRACE
        for child in running:
            assert child.process is not None
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say(child.name, "did not stop: killed")
                _signal_group(child.process, signal.SIGKILL)
                child.process.wait()
            for reader in child.readers:
                reader.join(timeout=1)
            self.say(child.name, f"stopped (code {child.process.returncode})")

    def handle_signals(self) -> Callable[[], None]:
        """Make SIGINT and SIGTERM stop the run; returns a function restoring the old
        handlers."""
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

        def stop(signum: int, _frame: object) -> None:
            if not self.stopping.is_set():
                with self.lock:
                    self.out.write(f"\n{signal.Signals(signum).name}: stopping everything\n")
                    self.out.flush()
            self.stopping.set()

        for sig in previous:
            signal.signal(sig, stop)

        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        return restore


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """Signal the child's process group (gunicorn's workers, too)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
