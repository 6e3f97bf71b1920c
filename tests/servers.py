"""Private PostgreSQL and Redis servers for fault tests (never the shared 5432/6379).

Each runs on a free port in a temporary directory and can be stopped, started,
killed and (Redis) frozen. Every wait is bounded.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import redis

PG_BIN = Path("/usr/lib/postgresql/15/bin")
WAIT_SECONDS = 30


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


def available() -> str | None:
    """Why private servers cannot run here (None: they can)."""
    if not (PG_BIN / "initdb").exists():
        return f"PostgreSQL server binaries are not in {PG_BIN}"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    return None


class PostgresServer:
    """A throwaway PostgreSQL cluster (trust auth, user postgres) on its own port."""

    def __init__(self) -> None:
        # Not under pytest's tmp_path: as root, that is private to root, and PostgreSQL
        # then runs as the postgres user.
        self.root = Path(tempfile.mkdtemp(prefix="dashapp-pg-"))
        self.data = self.root / "pgdata"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "--no-sync",
                    "-E",
                    "UTF8",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of ``database`` on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-o",
                    options,
                    "-l",
                    str(self.root / "log"),
                    "-w",
                    "-t",
                    str(WAIT_SECONDS),
                    "start",
                ]
            ),
            check=True,
            capture_output=True,
            timeout=WAIT_SECONDS + 10,
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop (``fast``: disconnect clients; ``immediate``: like a crash)."""
        subprocess.run(
            _as_postgres(
                [
                    str(PG_BIN / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    mode,
                    "-w",
                    "-t",
                    str(WAIT_SECONDS),
                    "stop",
                ]
            ),
            capture_output=True,
            timeout=WAIT_SECONDS + 10,
        )

    def remove(self) -> None:
        """Stop like a crash and delete the cluster's files."""
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def running(self) -> bool:
        """Whether the server is up (its pid file exists)."""
        return (self.data / "postmaster.pid").exists()

    def create_database(self, name: str) -> str:
        """Create ``name`` and return its URL."""
        dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(dsn, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


class RedisServer:
    """A throwaway redis-server without persistence on its own port."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """redis:// URL of this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start and wait until it answers PING."""
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + WAIT_SECONDS
        try:
            while time.monotonic() < deadline:
                try:
                    if client.ping():
                        return
                except redis.RedisError:
                    time.sleep(0.05)
            raise RuntimeError("redis-server did not start")
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL the server (a crash); a later start() brings up an empty one."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=WAIT_SECONDS)
            self.process = None

    def freeze(self) -> None:
        """SIGSTOP: the port accepts connections but nothing answers."""
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT after freeze()."""
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)
