"""Engine and session handling: one engine per app, one ``transaction()`` boundary."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from dashapp.core.keys import canonical_json
from db.sqlfunctions import register_sqlite_functions

EXTENSION_KEY = "dashapp.db"


def dialect_insert(session: Session, table: Any) -> Any:
    """``INSERT`` with ``on_conflict_*`` for the session's dialect (PostgreSQL or SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def build_engine(url: str) -> Engine:
    """Create a pooled engine for ``url`` with the per-dialect settings dashapp relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            json_serializer=canonical_json,
            connect_args={"timeout": 30, "check_same_thread": False},
        )
        event.listen(engine, "connect", _configure_sqlite)
        return engine
    return create_engine(
        url,
        json_serializer=canonical_json,
        pool_pre_ping=True,
        connect_args={"connect_timeout": 5},  # an unreachable host fails fast, not in minutes
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

    def init_app(self, app: Flask, url: str, statement_timeout_ms: int) -> None:
        """Create the engine for ``app``; it is disposed of with the app's extensions."""
        engine = build_engine(url)
        app.extensions[EXTENSION_KEY] = _AppDatabase(engine, statement_timeout_ms)

    @property
    def _state(self) -> _AppDatabase:
        return current_app.extensions[EXTENSION_KEY]

    @property
    def engine(self) -> Engine:
        """The current app's engine."""
        return self._state.engine

    @contextmanager
    def transaction(self, timeout_ms: int | None = None) -> Iterator[Session]:
        """A session inside one transaction: commit on success, roll back on any error.

        With ``timeout_ms``, every statement in it is cancelled past that time
        (``statement_timeout`` on PostgreSQL, a progress-handler deadline on SQLite).
        """
        with self._state.sessions.begin() as session:
            if timeout_ms is None:
                yield session
                return
            connection = session.connection()
            if connection.dialect.name == "postgresql":
                connection.execute(text(f"SET LOCAL statement_timeout = {int(timeout_ms)}"))
                yield session
            else:
                with _sqlite_deadline(connection.connection.driver_connection, timeout_ms):
                    yield session

    def read_session(self, timeout_ms: int | None = None) -> AbstractContextManager[Session]:
        """A transaction for dashboard queries, bounded by the configured statement timeout."""
        return self.transaction(timeout_ms or self._state.statement_timeout_ms)

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
    def __init__(self, engine: Engine, statement_timeout_ms: int) -> None:
        self.engine = engine
        self.statement_timeout_ms = statement_timeout_ms
        self.sessions = sessionmaker(engine, expire_on_commit=False)


database = Database()
