"""Reads past the raw retention: fine zooms fall back to the finest rollups still kept
(percentiles say why they cannot), and retention invalidates the cached answers it drops."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from dashapp.core.panel_data import PanelData
from dashapp.core.results import NO_PERCENTILES, PAST_RETENTION
from dashapp.core.retention import parse_retention
from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange
from dashapp.extensions import database
from db import cached, storage_jobs
from db.tsdb import compaction, metrics, retention, rollups
from db.tsdb import query as engine
from db.tsdb.models import ChunkRow, RollupChunkRow
from tests.conftest import make_app

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
OLD = datetime(2026, 1, 20, 9, tzinfo=UTC)  # 40 days back: past raw:30d, inside 1m:180d
ZOOM = TimeRange(OLD + timedelta(minutes=10), OLD + timedelta(hours=1, minutes=10))
POLICY = parse_retention("raw:30d,1m:180d,1h:5y", "")


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


def store_old_day() -> int:
    """Two hours of a noisy gauge every 10 s, 40 days ago: rolled up and compacted."""
    key = metrics.series_key("cpu", "h0", {})
    with database.transaction() as session:
        sid = metrics.resolve_series(session, [key])[key]
        metrics.write_points(session, [
            (sid, OLD + timedelta(seconds=10 * i), float((i * 37) % 101) - 20.0)
            for i in range(2 * 360)
        ])  # fmt: skip
        rollups.refresh(session)
    with database.transaction() as session:
        compaction.compact(session, now=NOW, limit=1000)
    return sid


def lines(result: object) -> list[tuple[list[datetime], list[float | None]]]:
    return [(s.timestamps, s.values) for s in result.series]  # type: ignore[attr-defined]


def drop_raw() -> None:
    with database.transaction() as session:
        assert retention.apply(session, POLICY, now=NOW) > 0
        assert session.query(ChunkRow).count() == 0
        assert session.query(RollupChunkRow).count() > 0


@pytest.mark.usefixtures("ctx")
@pytest.mark.parametrize("spec", [Query(metric="cpu", agg="avg"),
                                  Query(metric="cpu", agg="max", mode="m4")])  # fmt: skip
def test_a_fine_zoom_past_raw_retention_reads_the_finest_rollups_kept(spec: Query) -> None:
    store_old_day()
    with database.read_session() as session:
        fine = engine.query(session, spec, ZOOM, 720, prefer_m4=True)  # 5 s buckets: raw
        per_minute = engine.query(session, spec, ZOOM, 60, prefer_m4=True)  # 1 m rollups
    assert fine.source == "points" and per_minute.source == "rollups (60 s)"
    drop_raw()
    with database.read_session() as session:
        after = engine.query(session, spec, ZOOM, 720, prefer_m4=True)
    assert after.source == f"rollups (60 s), {PAST_RETENTION}"
    assert after.step == fine.step and lines(after) == lines(per_minute)
    assert lines(after) != lines(fine)  # one value (or M4 corners) per minute, not per 5 s


@pytest.mark.usefixtures("ctx")
def test_past_one_minute_retention_the_hourly_rollups_answer() -> None:
    store_old_day()
    spec, hours = Query(metric="cpu", agg="avg"), TimeRange(OLD, OLD + timedelta(hours=2))
    with database.read_session() as session:
        hourly = engine.query(session, spec, hours, 2)  # 1 h buckets
    with database.transaction() as session:
        retention.apply(session, parse_retention("raw:30d,1m:35d,1h:5y", ""), now=NOW)
    with database.read_session() as session:
        after = engine.query(session, spec, hours, 720)  # 10 s buckets
    assert len(hourly.series[0].values) == 2
    assert after.source == f"rollups (3600 s), {PAST_RETENTION}"
    assert lines(after) == lines(hourly)


@pytest.mark.usefixtures("ctx")
def test_percentiles_past_raw_retention_say_why_they_are_empty() -> None:
    store_old_day()
    spec = Query(metric="cpu", agg="p99")
    drop_raw()
    with database.read_session() as session:
        result = engine.query(session, spec, ZOOM, 720)
    assert result.series == [] and result.source == NO_PERCENTILES
    assert "retention" in PanelData([result]).empty_note
    cached_result = cached.panel_query(spec, ZOOM, 720)  # the panels' way, block by block
    assert cached_result.series == [] and NO_PERCENTILES in cached_result.source
    assert "retention" in PanelData([cached_result]).empty_note


@pytest.mark.usefixtures("ctx")
def test_summaries_past_raw_retention_count_from_rollups() -> None:
    store_old_day()
    spec = Query(metric="cpu")
    window = TimeRange(OLD, OLD + timedelta(hours=1))  # under two hours: raw points
    with database.read_session() as session:
        before = engine.summarize(session, spec, window)
    drop_raw()
    with database.read_session() as session:
        after = engine.summarize(session, spec, window)
    assert before.source == "points" and after.source == f"rollups (60 s), {PAST_RETENTION}"
    (was,), (now,) = before.summaries, after.summaries
    assert (now.count, now.min, now.max, now.last, now.last_ts) == (
        was.count, was.min, was.max, was.last, was.last_ts,
    )  # fmt: skip
    assert now.sum == pytest.approx(was.sum)


def test_retention_invalidates_the_cached_answers_it_drops(
    database_url: str, redis_url: str
) -> None:
    app = make_app(database_url, REDIS_URL=redis_url, RETENTION="raw:30d,1m:10y,1h:10y")
    spec = Query(metric="cpu", agg="max")
    with app.app_context():
        store_old_day()
        first = cached.panel_query(spec, ZOOM, 720)
        again = cached.panel_query(spec, ZOOM, 720)
        assert first.source == "points" and lines(again) == lines(first) and again.cached
        with database.transaction() as session:  # the worker's job, its own transaction
            assert storage_jobs.retention_job(session) > 0
        after = cached.panel_query(spec, ZOOM, 720)
    assert not after.cached and PAST_RETENTION in after.source
    assert lines(after) != lines(first)  # per-minute rollups, not the dropped points


def test_a_retention_run_that_rolls_back_leaves_the_cache_alone(
    database_url: str, redis_url: str
) -> None:
    app = make_app(database_url, REDIS_URL=redis_url, RETENTION="raw:30d,1m:10y,1h:10y")
    spec = Query(metric="cpu", agg="max")
    with app.app_context():
        store_old_day()
        first = cached.panel_query(spec, ZOOM, 720)
        with pytest.raises(RuntimeError), database.transaction() as session:
            storage_jobs.retention_job(session)
            raise RuntimeError("the worker died")
        again = cached.panel_query(spec, ZOOM, 720)
    assert again.cached and lines(again) == lines(first)
