"""Reads on a real streaming replica (READ_DATABASE_URL), its lag and its absence.

The shared PostgreSQL server is left alone: this module starts its own primary
(``initdb``) and a standby cloned from it with ``pg_basebackup -R``, each on a free
port under a temporary directory, and stops both at the end.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from sqlalchemy import text

from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange
from dashapp.extensions import database
from db import migrate
from db.tsdb import metrics
from db.tsdb import query as engine
from tests.conftest import make_app, service_missing

BIN = Path("/usr/lib/postgresql/15/bin")
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _as_postgres(*command: str) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command)


@dataclass
class Pair:
    """A primary and its streaming standby."""

    root: Path
    primary_port: int
    replica_port: int

    def url(self, port: int) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/dashapp"

    def pg_ctl(self, name: str, action: str, port: int | None = None) -> None:
        options = ["-o", f"-p {port} -k {self.root} -c listen_addresses=127.0.0.1 "
                         "-c shared_buffers=32MB -c fsync=off"] if port else []  # fmt: skip
        subprocess.run(
            _as_postgres(str(BIN / "pg_ctl"), "-D", str(self.root / name), "-l",
                         str(self.root / f"{name}.log"), "-w", "-m", "immediate", *options,
                         action),
            check=True, capture_output=True,
        )  # fmt: skip

    def replica_sql(self, statement: str) -> object:
        with psycopg.connect(host="127.0.0.1", port=self.replica_port, user="postgres",
                             dbname="dashapp", autocommit=True) as connection:  # fmt: skip
            cursor = connection.execute(statement)
            return cursor.fetchone() if cursor.description else None


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    if not (BIN / "pg_ctl").exists() or (os.geteuid() == 0 and not shutil.which("runuser")):
        service_missing("PostgreSQL 15 server binaries are not installed")
    root = Path(tempfile.mkdtemp(prefix="dashapp-replica-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    pair = Pair(root, _free_port(), _free_port())
    subprocess.run(
        _as_postgres(str(BIN / "initdb"), "-D", str(root / "primary"), "-A", "trust",
                     "-U", "postgres"),
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        pair.pg_ctl("primary", "start", pair.primary_port)
        with psycopg.connect(host="127.0.0.1", port=pair.primary_port, user="postgres",
                             dbname="postgres", autocommit=True) as connection:  # fmt: skip
            connection.execute("CREATE DATABASE dashapp")
        migrate.upgrade(pair.url(pair.primary_port))
        subprocess.run(
            _as_postgres(str(BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p",
                         str(pair.primary_port), "-U", "postgres", "-D", str(root / "replica"),
                         "-R", "-X", "stream", "-c", "fast"),
            check=True, capture_output=True,
        )  # fmt: skip
        pair.pg_ctl("replica", "start", pair.replica_port)
        yield pair
    finally:
        for name in ("replica", "primary"):
            subprocess.run(
                _as_postgres(str(BIN / "pg_ctl"), "-D", str(root / name), "-m", "immediate",
                             "stop"),
                capture_output=True,
            )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def app(pair: Pair) -> Iterator[Flask]:
    application = make_app(
        pair.url(pair.primary_port),
        READ_DATABASE_URL=pair.url(pair.replica_port),
        READ_MAX_LAG_MS=300,
    )
    with application.app_context():
        yield application
    application.extensions["dashapp.db"].replicas.dispose()


def write(value: float, at: datetime) -> None:
    with database.transaction() as session:
        ids = metrics.resolve_series(session, [metrics.series_key("cpu", "h", {})])
        metrics.write_points(session, [(*ids.values(), at, value)])


def read() -> tuple[bool, float | None]:
    """(served by a standby?, the newest cpu value) through the read path panels use."""
    with database.read_session() as session:
        standby = session.execute(text("SELECT pg_is_in_recovery()")).scalar_one()
        result = engine.query(
            session, Query(metric="cpu", agg="last"), TimeRange(T0, T0 + timedelta(hours=1)), 60
        )
    values = [v for series in result.series for v in series.values if v is not None]
    return standby, values[-1] if values else None


def wait_for(predicate, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_reads_go_to_the_replica_and_writes_to_the_primary(app: Flask) -> None:
    write(1.0, T0)
    wait_for(lambda: read() == (True, 1.0))
    with database.transaction() as session:  # writes and read-your-write: the primary
        assert session.execute(text("SELECT pg_is_in_recovery()")).scalar_one() is False


def test_a_lagging_replica_is_skipped_until_it_catches_up(app: Flask, pair: Pair) -> None:
    write(2.0, T0 + timedelta(minutes=1))
    wait_for(lambda: read() == (True, 2.0))
    pair.replica_sql("SELECT pg_wal_replay_pause()")
    try:
        write(3.0, T0 + timedelta(minutes=2))
        time.sleep(1.2)  # past the lag limit and the health check interval
        assert read() == (False, 3.0)  # the primary answers, with the new point
    finally:
        pair.replica_sql("SELECT pg_wal_replay_resume()")
    wait_for(lambda: read() == (True, 3.0))


def test_reads_fall_back_to_the_primary_when_the_replica_is_down(app: Flask, pair: Pair) -> None:
    write(4.0, T0 + timedelta(minutes=3))
    wait_for(lambda: read() == (True, 4.0))
    pair.pg_ctl("replica", "stop")
    try:
        started = time.monotonic()
        assert read() == (False, 4.0)
        assert read() == (False, 4.0)
        assert time.monotonic() - started < 5
    finally:
        pair.pg_ctl("replica", "start", pair.replica_port)
    wait_for(lambda: read() == (True, 4.0), seconds=20)


def test_a_restarted_replica_behind_before_its_first_replay_counts_as_lagging(
    app: Flask, pair: Pair
) -> None:
    write(5.0, T0 + timedelta(minutes=4))
    wait_for(lambda: read() == (True, 5.0))
    with psycopg.connect(host="127.0.0.1", port=pair.primary_port, user="postgres",
                         dbname="dashapp", autocommit=True) as primary:  # fmt: skip
        primary.execute("CHECKPOINT")
        done = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
    wait_for(lambda: pair.replica_sql(f"SELECT pg_last_wal_replay_lsn() >= '{done}'") == (True,))
    pair.replica_sql("CHECKPOINT")  # a restartpoint past the last commit: none replays again
    pair.pg_ctl("replica", "stop")
    pair.pg_ctl("replica", "start", pair.replica_port)
    pair.replica_sql("SELECT pg_wal_replay_pause()")
    try:
        assert pair.replica_sql("SELECT pg_last_xact_replay_timestamp()") == (None,)
        write(6.0, T0 + timedelta(minutes=5))
        behind = "SELECT pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()"
        wait_for(lambda: pair.replica_sql(behind) == (True,))
        time.sleep(1.2)  # past the health check interval
        assert read() == (False, 6.0)  # received, not replayed, age unknown: the primary reads
    finally:
        pair.replica_sql("SELECT pg_wal_replay_resume()")
    wait_for(lambda: read() == (True, 6.0))
