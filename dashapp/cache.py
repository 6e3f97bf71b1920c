"""Cache configuration: Redis when ``REDIS_URL`` is set, in-process otherwise.

A dead or hung Redis must cost milliseconds, not seconds: sockets time out after
about 0.25 s, redis-py does not retry, and after one failure the cache steps
aside for a few seconds (every call is a miss) instead of timing out again. A value
that no longer unpickles (written by an older release, during a rolling upgrade) is a
miss for that key, not a Redis failure.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from cachelib.serializers import RedisSerializer
from flask import Flask
from flask_caching.backends.rediscache import RedisCache
from flask_caching.backends.simplecache import SimpleCache
from redis.backoff import NoBackoff
from redis.retry import Retry

from dashapp.settings import Settings

log = logging.getLogger(__name__)

PAUSE_AFTER_FAILURE_SECONDS = 5.0
_MISS_VALUES = {"get": None, "get_many": None, "has": False, "inc": None, "dec": None}


_SET_COUNTERS = """
local stored, raw, ttl, plain = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 1, plain do
  redis.call("SET", KEYS[i], stored, "EX", ttl)
end
for i = plain + 1, #KEYS do
  local args = {}
  for field in string.gmatch(ARGV[i - plain + 4], "%S+") do
    args[#args + 1] = field
    args[#args + 1] = raw
    if #args >= 1000 then
      redis.call("HSET", KEYS[i], unpack(args))
      args = {}
    end
  end
  if #args > 0 then
    redis.call("HSET", KEYS[i], unpack(args))
  end
  redis.call("EXPIRE", KEYS[i], ttl)
end
"""
"""KEYS: plain keys, then hashes; ARGV: the value as stored (serialized), as a hash field
holds it (raw), the timeout, how many keys are plain, then each hash's fields."""

_QUEUE_REFRESH = """
if redis.call("EXISTS", KEYS[1]) == 0 then
  return -1
end
local won = 0
for i = 3, #KEYS do
  if redis.call("SET", KEYS[i], 1, "NX", "EX", ARGV[2]) then
    won = won + 1
  end
end
if won > 0 then
  redis.call("RPUSH", KEYS[2], ARGV[1])
  redis.call("LTRIM", KEYS[2], -tonumber(ARGV[3]), -1)
end
return won
"""
"""KEYS: the workers' heartbeat, the queue, then the claims; ARGV: the job, the claims'
timeout, the queue's length limit. -1: no worker listens; else how many claims were won
(the job is queued when any was)."""
REFRESH_QUEUE = "refresh-queue"
REFRESH_WORKERS = "refresh-workers"
QUEUE_LIMIT = 1000


class TolerantSerializer(RedisSerializer):
    """Reads a value another release pickled (a class since renamed or moved) as a miss."""

    def loads(self, value: bytes | None) -> Any:
        try:
            return super().loads(value)
        except (pickle.UnpicklingError, AttributeError, ImportError, EOFError, TypeError):
            return None


class GuardedRedisCache(RedisCache):
    """RedisCache that treats a failing Redis as an empty cache for a short pause."""

    serializer = TolerantSerializer()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._paused_until = 0.0
        # When Redis last failed, answered after a silence longer than its timeout, and
        # answered at all: whether an invalidation may have been lost meanwhile (see
        # db.invalidations).
        self._silence = float(kwargs.get("socket_timeout") or 0.25)
        self._failed_at = self._silent_at = float("-inf")
        self._replied_at = time.monotonic()
        self._set_counters = self._write_client.register_script(_SET_COUNTERS)
        self._queue_refresh = self._write_client.register_script(_QUEUE_REFRESH)
        self._blocking_client: Any = None

    @property
    def available(self) -> bool:
        """False while pausing after a Redis failure."""
        return time.monotonic() >= self._paused_until

    def _guard(self, name: str, *args: Any, **kwargs: Any) -> Any:
        method = getattr(super(), name)
        return self._protect(lambda: method(*args, **kwargs), self._miss(name, args))

    def _protect(self, call: Callable[[], Any], miss: Any) -> Any:
        """``call()``, or ``miss`` while Redis is paused or when it fails (which pauses it)."""
        if not self.available:
            return miss
        try:
            found = call()
        except Exception as error:  # redis.ConnectionError, TimeoutError, ...
            self._failed_at = time.monotonic()
            self._paused_until = time.monotonic() + PAUSE_AFTER_FAILURE_SECONDS
            log.warning("cache unavailable for %ss: %s", PAUSE_AFTER_FAILURE_SECONDS, error)
            return miss
        now = time.monotonic()
        if now - self._replied_at > self._silence:
            self._silent_at = now
        self._replied_at = now
        return found

    def suspect(self, since: float) -> bool:
        """Whether a write's invalidation may have failed unseen since ``since``
        (monotonic): Redis failed, or answered after a silence longer than its
        timeout, or has been silent that long (this process was idle)."""
        now = time.monotonic()
        return (
            max(self._failed_at, self._silent_at) > since
            or now - self._replied_at > self._silence
            or not self.available
        )

    @staticmethod
    def _miss(name: str, args: tuple[Any, ...]) -> Any:
        if name == "get_many":
            return [None] * len(args)
        return _MISS_VALUES.get(name, False)

    def get(self, key: str) -> Any:
        return self._guard("get", key)

    def get_many(self, *keys: str) -> list[Any]:
        return self._guard("get_many", *keys)

    def has(self, key: str) -> bool:
        return self._guard("has", key)

    def set(self, key: str, value: Any, timeout: int | None = None) -> Any:
        return self._guard("set", key, value, timeout)

    def add(self, key: str, value: Any, timeout: int | None = None) -> Any:
        return self._guard("add", key, value, timeout)

    def set_many(self, mapping: dict[str, Any], timeout: int | None = None) -> Any:
        return self._guard("set_many", mapping, timeout)

    def delete(self, key: str) -> Any:
        return self._guard("delete", key)

    def delete_many(self, *keys: str) -> Any:
        return self._guard("delete_many", *keys)

    def inc(self, key: str, delta: int = 1) -> Any:
        return self._guard("inc", key, delta)

    def clear(self) -> Any:
        return self._guard("clear")

    def set_counters(
        self, keys: Iterable[str], tables: Mapping[str, Iterable[str]], value: str, timeout: int
    ) -> bool:
        """Set ``value`` on these keys and on the fields of each hash, expiring after
        ``timeout`` s: the block cache's counters, hundreds per ingest batch. One script
        call, the fields of a hash sent as one string (as separate arguments, redis-py's
        encoding of them took a sixth of an ingest request's CPU). False if Redis did
        not take them."""
        keys = [self.key_prefix + key for key in keys]
        hashes = [self.key_prefix + key for key in tables]
        fields = [" ".join(names) for names in tables.values()]
        args = [self.serializer.dumps(value), value, timeout, len(keys), *fields]

        def call() -> bool:
            self._set_counters(keys=keys + hashes, args=args)
            return True

        return bool(self._protect(call, False))

    def get_fields(self, requests: Sequence[tuple[str, Sequence[str]]]) -> list[list[Any]]:
        """The values of these fields of each hash (None where unset), in one pipeline."""
        return self.get_many_and_fields((), requests)[1]

    def get_many_and_fields(
        self, keys: Sequence[str], requests: Sequence[tuple[str, Sequence[str]]]
    ) -> tuple[list[Any], list[list[Any]]]:
        """``get_many(*keys)`` and ``get_fields(requests)`` in one round trip: every round
        trip of a request waits for the thread's turn on the interpreter again, which is
        what a busy process (an ingest batch beside it) makes slow."""

        def call() -> tuple[list[Any], list[list[Any]]]:
            pipe = self._read_client.pipeline(transaction=False)
            if keys:
                pipe.mget([self.key_prefix + key for key in keys])
            for key, fields in requests:
                pipe.hmget(self.key_prefix + key, list(fields))
            found = pipe.execute()
            values = [self.serializer.loads(v) for v in found.pop(0)] if keys else []
            return values, [[None if v is None else v.decode() for v in vs] for vs in found]

        missed = ([None] * len(keys), [[None] * len(fields) for _, fields in requests])
        return self._protect(call, missed)

    def queue_refresh(self, claims: Sequence[str], job: bytes, timeout: int) -> bool | None:
        """Claim these keys (each for ``timeout`` s, if no one holds it) and queue ``job``
        for the workers if any claim was won, in one round trip. True: queued; False:
        every claim was someone else's; None: no worker listens (or Redis failed), so
        the caller does the work itself."""
        keys = [self.key_prefix + name for name in (REFRESH_WORKERS, REFRESH_QUEUE, *claims)]
        won = self._protect(
            lambda: self._queue_refresh(keys=keys, args=[job, timeout, QUEUE_LIMIT]), -1
        )
        return None if won < 0 else won > 0

    def take_refresh(self, wait: float, alive: int) -> bytes | None:
        """The next queued job, waiting up to ``wait`` s; first tells callers of
        :meth:`queue_refresh` that a worker listens, for ``alive`` s."""
        if self._blocking_client is None:  # the cache's sockets time out in 0.25 s
            pool = self._write_client.connection_pool
            options = {**pool.connection_kwargs, "socket_timeout": wait + 5}
            self._blocking_client = type(self._write_client)(
                connection_pool=type(pool)(connection_class=pool.connection_class, **options)
            )
        client = self._blocking_client
        client.set(self.key_prefix + REFRESH_WORKERS, 1, ex=alive)
        found = client.blpop([self.key_prefix + REFRESH_QUEUE], timeout=wait)
        return found[1] if found else None


class LocalCache(SimpleCache):
    """The in-process cache (no ``REDIS_URL``), with the same per-series counters."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fields_lock = threading.Lock()

    def set_counters(
        self, keys: Iterable[str], tables: Mapping[str, Iterable[str]], value: str, timeout: int
    ) -> bool:
        """Set ``value`` on these keys and on the fields of each hash (a dict under its key)."""
        self.set_many(dict.fromkeys(keys, value), timeout=timeout)
        with self._fields_lock:
            for key, fields in tables.items():
                current = dict(self.get(key) or {})
                current.update(dict.fromkeys(fields, value))
                self.set(key, current, timeout=timeout)
        return True

    def get_fields(self, requests: Sequence[tuple[str, Sequence[str]]]) -> list[list[Any]]:
        """The values of these fields of each hash (None where unset)."""
        return [[(self.get(key) or {}).get(field) for field in fields] for key, fields in requests]

    def get_many_and_fields(
        self, keys: Sequence[str], requests: Sequence[tuple[str, Sequence[str]]]
    ) -> tuple[list[Any], list[list[Any]]]:
        """``get_many(*keys)`` and ``get_fields(requests)`` together."""
        return list(self.get_many(*keys)), self.get_fields(requests)

    def queue_refresh(self, claims: Sequence[str], job: bytes, timeout: int) -> bool | None:
        """None: a worker cannot share this process's cache, so the caller does the work."""
        return None


def cache_config(settings: Settings, key_prefix: str = "dashapp:") -> dict[str, Any]:
    """flask-caching configuration for these settings."""
    config: dict[str, Any] = {
        "CACHE_DEFAULT_TIMEOUT": settings.cache_timeout,
        "CACHE_KEY_PREFIX": key_prefix,
    }
    if not settings.redis_url:
        return {**config, "CACHE_TYPE": "dashapp.cache.LocalCache", "CACHE_THRESHOLD": 20_000}
    timeout = settings.redis_socket_timeout
    return {
        **config,
        "CACHE_TYPE": "dashapp.cache.GuardedRedisCache",
        "CACHE_REDIS_URL": settings.redis_url,
        "CACHE_OPTIONS": {
            "socket_timeout": timeout,
            "socket_connect_timeout": timeout,
            "retry": Retry(NoBackoff(), 0),
            "health_check_interval": 0,
        },
    }


def init_cache(app: Flask, settings: Settings, key_prefix: str) -> None:
    """Configure the module-level cache singleton for ``app``."""
    from dashapp.extensions import cache

    cache.init_app(app, config=cache_config(settings, key_prefix))
