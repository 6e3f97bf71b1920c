"""Engine and session handling: one engine per app, one ``transaction()`` boundary."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from dashapp.core.keys import canonical_json
from db.replicas import Replicas
from db.sqlfunctions import register_sqlite_functions

EXTENSION_KEY = "dashapp.db"


def dialect_insert(session: Session, table: Any) -> Any:
    """``INSERT`` with ``on_conflict_*`` for the session's dialect (PostgreSQL or SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def build_engine(
    url: str, connect_timeout: int | None = None, sqlite_busy_timeout: float = 30.0
) -> Engine:
    """Create a pooled engine for ``url`` with the per-dialect settings dashapp relies on
    (``sqlite_busy_timeout``: seconds a SQLite writer waits for the write lock)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            json_serializer=canonical_json,
            connect_args={"timeout": sqlite_busy_timeout, "check_same_thread": False},
        )
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(
        url,
        json_serializer=canonical_json,
        # An unreachable host fails fast, not in minutes (replicas: faster still).
        connect_args={"connect_timeout": connect_timeout or 5},
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        pool_recycle=1800,
    )


def _configure_sqlite(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()
    register_sqlite_functions(dbapi_connection)


class Database:
    """Flask extension owning the engine and the session factory of one app."""

    def init_app(
        self,
        app: Flask,
        url: str,
        statement_timeout_ms: int,
        read_urls: Sequence[str] = (),
        max_lag_ms: int = 5000,
        sqlite_busy_timeout: float = 30.0,
    ) -> None:
        """Create the engine for ``app`` (and one per read replica in ``read_urls``)."""
        engine = build_engine(url, sqlite_busy_timeout=sqlite_busy_timeout)
        replicas = None
        if read_urls:
            engines = [build_engine(read_url, connect_timeout=2) for read_url in read_urls]
            replicas = Replicas(engines, max_lag=max_lag_ms / 1000)
        app.extensions[EXTENSION_KEY] = _AppDatabase(engine, statement_timeout_ms, replicas)

    @property
    def _state(self) -> _AppDatabase:
        return current_app.extensions[EXTENSION_KEY]

    @property
    def engine(self) -> Engine:
        """The current app's engine."""
        return self._state.engine

    def transaction(self, timeout_ms: int | None = None) -> AbstractContextManager[Session]:
        """A session inside one transaction on the primary: commit on success, roll back on
        any error.

        With ``timeout_ms``, every statement in it is cancelled past that time
        (``statement_timeout`` on PostgreSQL, a progress-handler deadline on SQLite).
        """
        return _transaction(self._state.sessions, timeout_ms)

    @contextmanager
    def read_session(self, timeout_ms: int | None = None) -> Iterator[Session]:
        """A read-only view for dashboard and API queries, bounded by the statement timeout.

        Served by a read replica (``READ_DATABASE_URL``) when one is healthy and not
        lagging, else by the primary. On PostgreSQL it is one REPEATABLE READ snapshot,
        so hot rows and chunks read in separate statements agree even while compaction
        moves points between them. Anything that must see its own write uses
        :meth:`transaction` instead.
        """
        timeout_ms = timeout_ms or self._state.statement_timeout_ms
        replicas = self._state.replicas
        sessions = replicas.pick() if replicas else None
        if sessions is not None and replicas is not None:
            try:
                context = _transaction(sessions, timeout_ms, snapshot=True)
                session = context.__enter__()
            except DBAPIError:  # the replica went away since its last check
                replicas.failed(sessions)
            else:
                with _closing(context):
                    yield session
                return
        with _transaction(self._state.sessions, timeout_ms, snapshot=True) as session:
            yield session

    @property
    def statement_timeout_ms(self) -> int:
        """The configured limit for dashboard queries."""
        return self._state.statement_timeout_ms


@contextmanager
def _sqlite_deadline(raw: Any, timeout_ms: int) -> Iterator[None]:
    """Interrupt SQLite statements running past ``timeout_ms`` (it has no statement_timeout)."""
    deadline = time.monotonic() + timeout_ms / 1000
    raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    try:
        yield
    finally:
        raw.set_progress_handler(None, 0)


def is_timeout(error: BaseException) -> bool:
    """Whether a database error is the statement timeout (PostgreSQL) or deadline (SQLite)."""
    text_ = str(getattr(error, "orig", error)).lower()
    return "statement timeout" in text_ or text_.strip() == "interrupted"


class _AppDatabase:
    def __init__(
        self, engine: Engine, statement_timeout_ms: int, replicas: Replicas | None = None
    ) -> None:
        self.engine = engine
        self.statement_timeout_ms = statement_timeout_ms
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.replicas = replicas


@contextmanager
def _transaction(
    sessions: sessionmaker[Session], timeout_ms: int | None, snapshot: bool = False
) -> Iterator[Session]:
    """One transaction of ``sessions``: commit on success, roll back on any error."""
    kept: dict[Any, Any] | None = None  # the PostgreSQL connection's info, once set
    try:
        with sessions.begin() as session:
            if session.get_bind().dialect.name == "postgresql":
                options = {"isolation_level": "REPEATABLE READ"} if snapshot else {}
                connection = session.connection(execution_options=options)
                kept = _statement_timeout(connection, timeout_ms)
                yield session
                return
            connection = session.connection()
            if snapshot:
                # pysqlite opens a transaction only before a write, so each SELECT would
                # see the database as of its own start; in WAL mode an explicit BEGIN
                # keeps one snapshot from the first read until the end, as on PostgreSQL.
                connection.connection.driver_connection.execute("BEGIN")
            if timeout_ms is None:
                yield session
                return
            with _sqlite_deadline(connection.connection.driver_connection, timeout_ms):
                yield session
    except BaseException:
        if kept is not None:  # a rollback undoes a SET: the connection's value is unknown
            kept[TIMEOUT_INFO] = None
        raise


TIMEOUT_INFO = "dashapp.statement_timeout"
DEFAULT = "DEFAULT"


def _statement_timeout(connection: Connection, timeout_ms: int | None) -> dict[Any, Any]:
    """Give this transaction PostgreSQL's ``statement_timeout`` (None: the server's
    default) and return the connection's info, where the value is recorded.

    The value is the connection's session setting, set only when it differs from what
    the connection already has: reads share one limit, so almost none pays the round
    trip of setting it (``SET LOCAL`` in every transaction did).
    """
    wanted = DEFAULT if timeout_ms is None else str(int(timeout_ms))
    info = connection.connection.info
    if info.get(TIMEOUT_INFO, DEFAULT) != wanted:
        info[TIMEOUT_INFO] = None
        connection.execute(text(f"SET statement_timeout TO {wanted}"))
        info[TIMEOUT_INFO] = wanted
    return info


@contextmanager
def _closing(context: AbstractContextManager[Session]) -> Iterator[None]:
    """Exit an already entered context with whatever the body raised (or nothing)."""
    try:
        yield
    except BaseException as error:
        if not context.__exit__(type(error), error, error.__traceback__):
            raise
    else:
        context.__exit__(None, None, None)


database = Database()
