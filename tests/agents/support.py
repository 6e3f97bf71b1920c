"""Helpers for the agent tests: a served app, free ports, bounded waits, stored counts."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from dashapp.extensions import database
from db.tsdb.models import PointRow, SeriesRow


@contextmanager
def served(app: Flask) -> Iterator[str]:
    """Serve ``app`` on an ephemeral localhost port in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(check: Callable[[], Any], timeout: float, message: str) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s: {message}")
        time.sleep(0.2)


def stored(
    app: Flask, source: str, *, name: str | None = None, until: datetime | None = None
) -> int:
    """Points stored for ``source`` (optionally one metric name, up to a time)."""
    statement = (
        select(func.count())
        .select_from(PointRow)
        .join(SeriesRow, SeriesRow.id == PointRow.series_id)
        .where(SeriesRow.source == source)
    )
    if name is not None:
        statement = statement.where(SeriesRow.name == name)
    if until is not None:
        statement = statement.where(PointRow.ts <= until)
    with app.app_context(), database.transaction() as session:
        return session.execute(statement).scalar_one()


def series_of(app: Flask, source: str) -> dict[tuple[str, str], float]:
    """``{(name, labels JSON): newest value}`` of every series of ``source``."""
    newest = (
        select(PointRow.series_id, func.max(PointRow.ts).label("ts"))
        .group_by(PointRow.series_id)
        .subquery()
    )
    statement = (
        select(SeriesRow.name, SeriesRow.labels, PointRow.value)
        .join(newest, newest.c.series_id == SeriesRow.id)
        .join(PointRow, (PointRow.series_id == SeriesRow.id) & (PointRow.ts == newest.c.ts))
        .where(SeriesRow.source == source)
    )
    with app.app_context(), database.transaction() as session:
        rows = session.execute(statement).all()
    return {(row.name, _labels_text(row.labels)): row.value for row in rows}


def _labels_text(labels: dict[str, str]) -> str:
    return ",".join(f"{key}={value}" for key, value in sorted(labels.items()))


def distinct_stamps(app: Flask, source: str) -> list[datetime]:
    """The distinct timestamps stored for ``source``, oldest first."""
    statement = (
        select(PointRow.ts)
        .join(SeriesRow, SeriesRow.id == PointRow.series_id)
        .where(SeriesRow.source == source)
        .distinct()
        .order_by(PointRow.ts)
    )
    with app.app_context(), database.transaction() as session:
        return list(session.execute(statement).scalars())


AGENT_TIMEOUT = 45
"""Seconds an agent gets to deliver what a test waits for."""


def unique(prefix: str) -> str:
    """A name no other test uses (sources, hosts, services)."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"
