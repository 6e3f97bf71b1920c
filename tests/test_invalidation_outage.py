"""An invalidation that could not reach Redis is not lost: after Redis is paused, frozen
or killed while a late point is written, the cached answer is never served again.

On a private Redis (tests/servers.py), with two app instances sharing it and the
database: the one that wrote (and saw Redis fail) and another that saw nothing.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis
from flask import Flask

from dashapp.core.spec import Query
from dashapp.core.timerange import TimeRange
from db.cached import panel_query
from tests import servers
from tests.conftest import bearer, make_app, service_missing

pytestmark = [pytest.mark.redis]
HOURLY_SUM = Query(metric="late.sum", agg="sum", interval="1h")


@pytest.fixture(scope="module")
def private_redis() -> Iterator[servers.RedisServer]:
    if shutil.which("redis-server") is None:
        service_missing("redis-server is not installed")
    root = Path(tempfile.mkdtemp(prefix="dashapp-redis-"))
    server = servers.RedisServer(root)
    server.start()
    yield server
    server.thaw()
    server.kill()
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def instances(
    database_url: str, private_redis: servers.RedisServer
) -> tuple[Flask, Flask, servers.RedisServer]:
    """A writer and a reader instance on one database and the private Redis."""
    if private_redis.process is None:
        private_redis.start()
    prefix = f"outage-{time.monotonic_ns()}:"
    writer, reader = (
        make_app(database_url, REDIS_URL=private_redis.url, CACHE_KEY_PREFIX=prefix)
        for _ in range(2)
    )
    return writer, reader, private_redis


def write(app: Flask, value: float, when: datetime) -> None:
    body = {"name": "late.sum", "source": "h", "value": value, "timestamp": when.timestamp()}
    answer = app.test_client().post("/api/v1/metrics", json=body, headers=bearer(app, "ingest"))
    assert answer.status_code == 201


def hourly_sums(app: Flask, hours: list[datetime]) -> tuple[list[float | None], bool]:
    """The panel's values for ``hours`` and whether they came from the cache."""
    window = TimeRange(min(hours) - timedelta(hours=3), max(hours) + timedelta(hours=2))
    with app.app_context():
        result = panel_query(HOURLY_SUM, window, 100)
    values = dict(zip(result.series[0].timestamps, result.series[0].values, strict=True))
    return [values.get(hour) for hour in hours], result.cached


def pause(server: servers.RedisServer) -> Callable[[], None]:
    client = redis.Redis(port=server.port)
    client.execute_command("CLIENT", "PAUSE", 2500, "ALL")
    client.close()
    return lambda: time.sleep(2.6)


def freeze(server: servers.RedisServer) -> Callable[[], None]:
    server.freeze()
    return server.thaw


def kill(server: servers.RedisServer) -> Callable[[], None]:
    server.kill()
    return server.start


@pytest.mark.parametrize("outage", [pause, freeze, kill], ids=["client-pause", "sigstop", "kill"])
def test_a_write_during_a_redis_outage_is_seen_once_it_returns(
    instances: tuple[Flask, Flask, servers.RedisServer], outage: Callable
) -> None:
    writer, reader, server = instances
    last = (datetime.now(UTC) - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    hours = [last - timedelta(hours=1), last]
    for hour in hours:
        write(writer, 10.0, hour + timedelta(minutes=10))
    for app in (writer, reader):
        hourly_sums(app, hours)
        assert hourly_sums(app, hours) == ([10.0, 10.0], True)  # cached
    back = outage(server)
    # Late points, acknowledged (201): the first write's invalidation times out, the
    # second's is not even tried (the cache steps aside for a few seconds after a failure).
    for hour in hours:
        write(writer, 100.0, hour + timedelta(minutes=20))
    back()
    for app in (reader, writer):  # the reader never saw Redis fail
        assert hourly_sums(app, hours)[0] == [110.0, 110.0]
    assert hourly_sums(reader, hours) == ([110.0, 110.0], True)  # and cached again
