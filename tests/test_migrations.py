"""Alembic builds exactly the models' schema on both databases, and moves stored data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import psycopg
import pytest
from alembic import command
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange
from dashapp.extensions import database
from db import migrate
from db.tsdb import chunks, codec, metrics
from db.tsdb import query as engine
from db.tsdb.models import RollupChunkRow
from db.types import from_epoch_us, to_epoch_us
from tests.conftest import POSTGRES_ADMIN, _postgres_url, make_app, service_missing


def test_migrated_schema_matches_the_models(app: Flask) -> None:
    with app.app_context():
        assert migrate.drift(database.engine) == []


def test_upgrade_is_idempotent(app: Flask, database_url: str) -> None:
    migrate.upgrade(database_url)
    with app.app_context():
        assert migrate.drift(database.engine) == []


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of its own (migrated by the test to the revision it needs)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.db'}"
        return
    try:
        admin = psycopg.connect(POSTGRES_ADMIN + " dbname=postgres", autocommit=True)
    except psycopg.OperationalError as error:
        service_missing(f"PostgreSQL is not reachable: {error}")
    name = f"dashapp_migrate_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _postgres_url(name)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


DAY = timedelta(days=1)
FIRST_DAY = datetime(2026, 2, 1, tzinfo=UTC)  # ten days across 2026-02-06 (EPOCH + 683 * 30 d)
SPAN = TimeRange(FIRST_DAY, FIRST_DAY + 10 * DAY)


def rollup_day(rng: np.random.Generator, day: datetime) -> list[np.ndarray]:
    """24 hourly rollup rows of a day, in the chunk's columns (bucket, count .. increase)."""
    hours = to_epoch_us(day) + np.arange(24, dtype=np.int64) * 3_600_000_000
    low, high = rng.uniform(0, 50, 24), rng.uniform(50, 100, 24)
    inside = hours + rng.integers(0, 3_600_000_000, 24)
    return [hours, np.full(24, 360, np.int64), rng.uniform(0, 1e4, 24), low, high,
            rng.uniform(0, 100, 24), rng.uniform(0, 100, 24), hours, hours + 3_590_000_000,
            inside, inside, rng.uniform(0, 10, 24)]  # fmt: skip


def decoded_chunks(session: Session, level: int = 3600) -> dict[tuple[int, datetime], list]:
    """Each chunk of ``level`` by (series, window start): its decoded columns as lists."""
    found = session.execute(
        select(RollupChunkRow.series_id, RollupChunkRow.window_start, RollupChunkRow.count,
               RollupChunkRow.data).where(RollupChunkRow.level == level)
    ).all()  # fmt: skip
    by_window = {}
    for sid, start, count, data in found:
        columns = codec.decode_columns(data)
        assert count == len(columns[0])
        by_window[(sid, start)] = [values.tolist() for values in columns]
    return by_window


def rows_of(by_window: dict[tuple[int, datetime], list], sid: int) -> list[tuple]:
    """One series' rows (tuples of the columns), chunk after chunk in window order."""
    return [row for key in sorted(by_window) if key[0] == sid
            for row in zip(*by_window[key], strict=True)]  # fmt: skip


def test_hourly_chunks_move_into_30_day_windows_and_back(blank_url: str) -> None:
    migrate.upgrade(blank_url, "0013")
    app = make_app(blank_url)
    rng = np.random.default_rng(14)
    specs = [Query(metric="m", agg=agg, group_by=["source"], interval="1h")
             for agg in ("avg", "min", "max", "count", "last", "rate")]  # fmt: skip

    def answers() -> list[object]:
        with database.transaction() as session:
            return [[(s.name, s.timestamps, s.values) for s in
                     engine.query(session, spec, SPAN, 1000).series] for spec in specs]  # fmt: skip

    with app.app_context():
        with database.transaction() as session:  # chunks as compaction wrote them at 0013
            keys = [metrics.series_key("m", source, {}) for source in ("a", "b")]
            ids = list(metrics.resolve_series(session, keys).values())
            days = {ids[0]: range(10), ids[1]: [0, 1, 2, 3, 7, 8]}  # b: a gap across windows
            session.add_all(
                RollupChunkRow(series_id=sid, level=3600, window_start=day, count=24,
                               data=codec.encode_columns(rollup_day(rng, day)))
                for sid, numbers in days.items() for day in (FIRST_DAY + n * DAY for n in numbers)
            )  # fmt: skip
            minute = rollup_day(rng, FIRST_DAY)  # a 1-minute chunk: left as it is
            session.add(RollupChunkRow(series_id=ids[0], level=60, window_start=FIRST_DAY,
                                       count=24, data=codec.encode_columns(minute)))  # fmt: skip
        with database.transaction() as session:
            daily, per_minute = decoded_chunks(session), decoded_chunks(session, 60)
        before = answers()
        migrate.upgrade(blank_url)
        with database.transaction() as session:
            monthly = decoded_chunks(session)
            assert decoded_chunks(session, 60) == per_minute
        windows = [datetime(2026, 1, 7, tzinfo=UTC), datetime(2026, 2, 6, tzinfo=UTC)]
        assert sorted(monthly) == [(sid, start) for sid in ids for start in windows]
        for sid in ids:  # the same rows, each in its 30-day window
            assert rows_of(monthly, sid) == rows_of(daily, sid)
        for (_, start), columns in monthly.items():
            assert {chunks.window_of(from_epoch_us(us), 30 * DAY) for us in columns[0]} == {start}
        assert answers() == before
        command.downgrade(migrate.alembic_config(blank_url), "0013")
        with database.transaction() as session:
            assert decoded_chunks(session) == daily
            assert decoded_chunks(session, 60) == per_minute
        assert answers() == before
