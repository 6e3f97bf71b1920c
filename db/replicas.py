"""Read replicas (``READ_DATABASE_URL``): PostgreSQL streaming standbys for panel and API reads.

Each read picks the next healthy replica in turn. A replica is skipped while it is
unreachable (checked again after ``retry_after``) or while it lags: WAL received but
not replayed for more than ``max_lag``. With none usable, reads go to the primary, so
a replica going down costs one failed connection attempt, not an error.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

# Lag = WAL received but not replayed yet, as the age of the last replayed commit. A
# standby not streaming right now (just restarted: nothing received yet) is not
# counted as lagging: its age would only say how long the primary has been idle. One
# that has received WAL but replayed no commit since it started has no age (NULL):
# it is behind by an unknown amount, so it counts as lagging.
_LAG = text(
    "SELECT pg_is_in_recovery(), CASE WHEN pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn() "
    "THEN EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) ELSE 0 END"
)


@dataclass
class _Replica:
    engine: Engine
    sessions: sessionmaker[Session]
    usable: bool = True
    checked_at: float = float("-inf")


@dataclass
class Replicas:
    """The replicas of one app, with their last health and lag check."""

    engines: list[Engine]
    max_lag: float = 5.0
    check_every: float = 1.0
    retry_after: float = 5.0
    _replicas: list[_Replica] = field(init=False)
    _turn: itertools.count[int] = field(init=False, default_factory=itertools.count)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._replicas = [
            _Replica(engine, sessionmaker(engine, expire_on_commit=False))
            for engine in self.engines
        ]

    def pick(self) -> sessionmaker[Session] | None:
        """Sessions of the next usable replica, or None (read from the primary)."""
        count = len(self._replicas)
        start = next(self._turn)
        for offset in range(count):
            replica = self._replicas[(start + offset) % count]
            if self._usable(replica):
                return replica.sessions
        return None

    def failed(self, sessions: sessionmaker[Session]) -> None:
        """A read could not connect: skip this replica until it is checked again."""
        for replica in self._replicas:
            if replica.sessions is sessions:
                replica.usable, replica.checked_at = False, time.monotonic() + self.retry_after

    def _usable(self, replica: _Replica) -> bool:
        now = time.monotonic()
        if now - replica.checked_at < self.check_every:
            return replica.usable
        with self._lock:
            if now - replica.checked_at < self.check_every:
                return replica.usable
            try:
                replica.usable = self._in_step(replica)
                wait = 0.0
            except DBAPIError as error:
                log.warning("read replica %s unreachable: %s", replica.engine.url, error.orig)
                replica.usable, wait = False, self.retry_after - self.check_every
            replica.checked_at = time.monotonic() + max(wait, 0.0)
        return replica.usable

    def _in_step(self, replica: _Replica) -> bool:
        """Whether a reachable replica is within ``max_lag`` (checked again soon if not)."""
        with replica.engine.connect() as connection:
            standby, lag = connection.execute(_LAG).one()
        if not standby:
            log.warning("read replica %s is not in recovery (promoted?)", replica.engine.url)
        if lag is None or float(lag) > self.max_lag:
            age = "an unknown time" if lag is None else f"{float(lag):.1f} s"
            log.warning("read replica %s lags %s", replica.engine.url, age)
            return False
        return True

    def dispose(self) -> None:
        """Close every replica connection pool."""
        for replica in self._replicas:
            replica.engine.dispose()
