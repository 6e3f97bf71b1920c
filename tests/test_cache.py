"""Query caching: real Redis when configured, in-process otherwise, never stale after ingest."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from flask import Flask

from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange
from dashapp.extensions import cache
from db.blocks import Piece
from db.cached import panel_query
from tests.conftest import bearer, make_app


def ingest(app: Flask, value: float, when: datetime) -> None:
    client = app.test_client()
    response = client.post(
        "/api/v1/metrics",
        json={"name": "cpu", "source": "h", "value": value, "timestamp": when.timestamp()},
        headers=bearer(app, "ingest"),
    )
    assert response.status_code == 201


@pytest.fixture
def redis_app(database_url: str, redis_url: str):  # type: ignore[no-untyped-def]
    application = make_app(database_url, REDIS_URL=redis_url)
    yield application
    client = redis.Redis.from_url(redis_url)
    prefix = application.config["CACHE_KEY_PREFIX"]
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()
    application.extensions["dashapp.db"].engine.dispose()


def test_redis_backs_the_cache_and_ingest_invalidates(redis_app: Flask, redis_url: str) -> None:
    now = datetime.now(UTC)
    window = TimeRange(now - timedelta(hours=1), now)
    ingest(redis_app, 1.0, now - timedelta(minutes=5))
    with redis_app.app_context():
        first = panel_query(Query(metric="cpu", agg="max"), window, 100)
        again = panel_query(Query(metric="cpu", agg="max"), window, 100)
    assert not first.cached and again.cached
    assert again.series[0].values == first.series[0].values == [1.0]
    keys = redis.Redis.from_url(redis_url).keys(redis_app.config["CACHE_KEY_PREFIX"] + "qb:*")
    recent = sum(block.kind == "tail" for block in first.blocks)
    assert len(keys) == len(first.blocks) + recent >= 1  # an entry per block, and each
    # recent block's latest answer (for ticks within LIVE_TAIL_GRACE)

    ingest(redis_app, 7.0, now - timedelta(minutes=4))
    with redis_app.app_context():
        fresh = panel_query(Query(metric="cpu", agg="max"), window, 100)
    assert not fresh.cached and max(fresh.series[0].values) == 7.0


def test_redis_keeps_per_series_counters(redis_app: Flask, redis_url: str) -> None:
    """A write into a metric's other series leaves a one-series panel cached on Redis too;
    a write into its own series recomputes it. Counters of hundreds of series go in one
    call."""
    now = datetime.now(UTC)
    window, panel = TimeRange(now - timedelta(hours=1), now), Query(metric="cpu", source="a")

    def write(source: str, value: float, when: datetime) -> None:
        body = {"name": "cpu", "source": source, "value": value, "timestamp": when.timestamp()}
        response = redis_app.test_client().post(
            "/api/v1/metrics", json=body, headers=bearer(redis_app, "ingest")
        )
        assert response.status_code == 201

    write("a", 1.0, now - timedelta(minutes=3))
    write("b", 2.0, now - timedelta(minutes=3))
    with redis_app.app_context():
        assert not panel_query(panel, window, 60).cached
        write("b", 3.0, now - timedelta(seconds=20))
        assert panel_query(panel, window, 60).cached
        write("a", 9.0, now - timedelta(seconds=20))
        after = panel_query(panel, window, 60)
        assert not after.cached and after.series[0].values[-1] == 9.0
        fields = [str(sid) for sid in range(1200)]  # more than one HSET's worth
        cache.cache.set_counters(["plain"], {"table": fields}, "token", 60)
        assert cache.get("plain") == "token"
        assert cache.cache.get_fields([("table", ["0", "1199", "1200"])]) == [
            ["token", "token", None]
        ]
    client = redis.Redis.from_url(redis_url)
    assert 0 < client.ttl(redis_app.config["CACHE_KEY_PREFIX"] + "table") <= 60
    client.close()


def test_a_cached_panel_costs_one_round_trip_for_counters_and_one_for_blocks(
    redis_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every round trip of a request waits for its thread's turn on the interpreter
    again, which a busy process (an ingest batch beside it) makes slow. A panel whose
    answer is cached asks Redis for its counters, then for its blocks: the stored
    dashboard, the variables' values, the series and the groups are kept in the process
    (the last two while the catalog counter, fetched with the others, is unchanged)."""
    from callbacks.panels import update_chart
    from dashapp.commands.seed import seed_demo
    from dashapp.core.demo import DEMO_SLUG, HOSTS
    from layouts import ids
    from layouts.panels import stored_source
    from tests.dash_context import triggered_by

    with redis_app.app_context():
        seed_demo(days=0.1)
    hosts = {"host": [HOSTS[0].name, HOSTS[1].name]}

    def load(panel: str) -> Any:
        source = stored_source(DEMO_SLUG, 1, panel)
        with redis_app.test_request_context(), triggered_by(ids.TIME_RANGE, "data"):
            last_hour = {"from": "now-1h", "to": "now"}
            return update_chart(last_hour, hosts, None, None, "light", 1600, None, source, None)

    trips: list[int] = []
    sent = redis.connection.AbstractConnection.send_packed_command

    def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(1)
        return sent(self, *args, **kwargs)

    load("cpu")
    load("cpu")
    monkeypatch.setattr(redis.connection.AbstractConnection, "send_packed_command", counted)
    figure, *_ = load("cpu")
    assert figure["data"] and len(trips) == 2


def test_a_value_an_older_release_pickled_is_a_miss_not_an_outage(redis_app: Flask) -> None:
    # A rolling upgrade: Redis holds a value whose class the new code no longer has.
    prefix = redis_app.config["CACHE_KEY_PREFIX"]
    stale = b"!" + pickle.dumps(Piece(datetime.now(UTC), datetime.now(UTC)))
    stale = stale.replace(b"Piece", b"Gone_")
    client = redis.Redis.from_url(redis_app.config["REDIS_URL"])
    client.set(prefix + "old-entry", stale)
    client.close()
    with redis_app.app_context():
        assert cache.get("old-entry") is None
        assert cache.cache.available  # no pause: the next reads still use Redis
        cache.set("new-entry", 42)
        assert cache.get("new-entry") == 42


def test_relative_ranges_within_one_bucket_share_a_cache_entry(app: Flask) -> None:
    now = datetime(2026, 5, 1, 12, 0, 1, tzinfo=UTC)
    with app.app_context():
        first = panel_query(Query(metric="cpu"), TimeRange(now - timedelta(hours=6), now), 720)
        later = now + timedelta(seconds=20)
        second = panel_query(Query(metric="cpu"), TimeRange(later - timedelta(hours=6), later), 720)
    assert second.cached and first.start == second.start


def test_a_dead_redis_is_bypassed_after_one_failure(database_url: str) -> None:
    # Nothing listens on port 1: the first cache call fails, later ones skip Redis
    # for a pause, and every query is still answered from the database.
    application = make_app(database_url, REDIS_URL="redis://127.0.0.1:1/0")
    ingest(application, 3.0, datetime.now(UTC) - timedelta(minutes=1))
    now = datetime.now(UTC)
    with application.app_context():
        backend = cache.cache
        assert not backend.available
        results = [
            panel_query(Query(metric="cpu"), TimeRange(now - timedelta(hours=1), now), 50)
            for _ in range(3)
        ]
        options = backend._write_client.connection_pool.connection_kwargs
    assert [r.series[0].values for r in results] == [[3.0]] * 3
    assert options["socket_timeout"] == options["socket_connect_timeout"] == 0.25
    assert options["retry"].get_retries() == 0
    application.extensions["dashapp.db"].engine.dispose()


def test_the_bucket_width_is_chosen_once(app: Flask) -> None:
    """The cache key and the query use the same width, even where aligning the range
    would tip a recomputed width into the next nice step."""
    from db.tsdb.query import bucket_step

    now = datetime(2026, 5, 1, 12, 7, tzinfo=UTC)
    window = TimeRange(now - timedelta(days=30), now)
    spec = Query(metric="cpu")
    with app.app_context():
        result = panel_query(spec, window, 1440)
    assert result.step == bucket_step(spec, window.span, 1440) == timedelta(minutes=30)
