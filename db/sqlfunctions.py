"""SQL constructs compiled per dialect, so repositories build one query for both databases.

* ``time_bucket(step, ts)``: ``date_bin`` on PostgreSQL, integer arithmetic on SQLite
  (where timestamps are epoch microseconds, see :class:`db.types.Timestamp`).
* ``last_by(value, ts)`` / ``first_by``: the value at the latest/earliest timestamp.
* ``percentile(fraction, value)``: ``percentile_cont`` on PostgreSQL, a Python
  aggregate registered on SQLite connections.
"""

from __future__ import annotations

import math
import sqlite3
from datetime import timedelta
from typing import Any

import numpy as np
import orjson
from sqlalchemy import BigInteger, Float, Integer, Interval, literal
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from db.types import Timestamp


class BucketStep(TypeDecorator[timedelta]):
    """A bucket width bound as a parameter: an interval on PostgreSQL, integer
    microseconds elsewhere (matching :class:`db.types.Timestamp`)."""

    impl = Interval
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Interval())
        return dialect.type_descriptor(BigInteger())

    def process_bind_param(self, value: timedelta | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return value // timedelta(microseconds=1)


class time_bucket(FunctionElement[Any]):
    """Start of the ``step``-wide bucket holding ``ts``, aligned to the Unix epoch.

    The step is a bound parameter, so statements using it stay in SQLAlchemy's
    compiled cache instead of being compiled again for every panel query.
    """

    type = Timestamp()
    inherit_cache = True

    def __init__(self, step: timedelta, ts: ColumnElement[Any]) -> None:
        super().__init__(literal(step, BucketStep()), ts)


@compiles(time_bucket, "postgresql")
def _bucket_postgresql(element: time_bucket, compiler: SQLCompiler, **kw: Any) -> str:
    step, ts = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"date_bin({step}, {ts}, TIMESTAMPTZ 'epoch')"


@compiles(time_bucket)
def _bucket_integer(element: time_bucket, compiler: SQLCompiler, **kw: Any) -> str:
    step, ts = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"(({ts} / {step}) * {step})"


class epoch_seconds(FunctionElement[float]):
    """Seconds since the Unix epoch of a timestamp expression (fractional)."""

    type = Float()
    inherit_cache = True


@compiles(epoch_seconds, "postgresql")
def _epoch_postgresql(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


@compiles(epoch_seconds)
def _epoch_integer(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"({compiler.process(element.clauses, **kw)} / 1000000.0)"


class epoch_us(FunctionElement[int]):
    """Exact microseconds since the Unix epoch of a timestamp column (SQLite stores them)."""

    type = BigInteger()
    inherit_cache = True


@compiles(epoch_us, "postgresql")
def _epoch_us_postgresql(element: epoch_us, compiler: SQLCompiler, **kw: Any) -> str:
    # EXTRACT returns numeric (exact) since PostgreSQL 14.
    return f"(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)}) * 1000000)::bigint"


@compiles(epoch_us)
def _epoch_us_integer(element: epoch_us, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


class floor_int(FunctionElement[int]):
    """The integer floor of a non-negative number (a histogram bin index)."""

    type = Integer()
    inherit_cache = True


@compiles(floor_int, "postgresql")
def _floor_postgresql(element: floor_int, compiler: SQLCompiler, **kw: Any) -> str:
    return f"floor({compiler.process(element.clauses, **kw)})::integer"


@compiles(floor_int)
def _floor_sqlite(element: floor_int, compiler: SQLCompiler, **kw: Any) -> str:
    # CAST truncates toward zero, which is the floor for the non-negative inputs used here.
    return f"CAST({compiler.process(element.clauses, **kw)} AS INTEGER)"


class int_list(FunctionElement[Any]):
    """Aggregate: the integers of a group as one value, read back with :func:`int_array`
    (``array_agg`` on PostgreSQL, ``json_group_array`` on SQLite)."""

    inherit_cache = True


@compiles(int_list, "postgresql")
def _int_list_postgresql(element: int_list, compiler: SQLCompiler, **kw: Any) -> str:
    return f"array_agg({compiler.process(element.clauses, **kw)})"


@compiles(int_list)
def _int_list_sqlite(element: int_list, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array({compiler.process(element.clauses, **kw)})"


def int_array(value: Any) -> np.ndarray | None:
    """An :class:`int_list` as read: an int64 array, or None for an empty group."""
    if isinstance(value, str):
        value = orjson.loads(value)
    return np.array(value, dtype=np.int64) if value else None


class _ValueByKey(FunctionElement[Any]):
    """Aggregate picking ``value`` from the row with the extreme ``key``; typed like ``value``."""

    inherit_cache = True

    def __init__(self, value: ColumnElement[Any], key: ColumnElement[Any]) -> None:
        super().__init__(value, key)
        self.type = value.type


class last_by(_ValueByKey):
    """Aggregate: ``value`` of the row with the greatest ``key`` (``last_by(value, ts)``)."""

    inherit_cache = True


class first_by(_ValueByKey):
    """Aggregate: ``value`` of the row with the smallest ``key`` (``first_by(value, ts)``)."""

    inherit_cache = True


def _as_float8(sql: str, type_: Any) -> str:
    """A float8 sortable like the value: timestamps become exact epoch microseconds."""
    if isinstance(type_, Timestamp):
        return f"(EXTRACT(EPOCH FROM {sql}) * 1000000)::float8"
    return f"({sql})::float8"


def _pick_postgresql(element: _ValueByKey, compiler: SQLCompiler, extreme: str, **kw: Any) -> str:
    """``min``/``max`` over ``ARRAY[key, value]``: one pass, no per-group sort.

    Arrays compare element by element, so the extreme array holds the value of the
    row with the extreme key (ties broken by the value).
    """
    value, key = element.clauses
    pair = (
        f"ARRAY[{_as_float8(compiler.process(key, **kw), key.type)}, "
        f"{_as_float8(compiler.process(value, **kw), value.type)}]"
    )
    picked = f"({extreme}({pair}))[2]"
    if isinstance(value.type, Timestamp):
        return f"(TIMESTAMPTZ 'epoch' + {picked} * INTERVAL '1 microsecond')"
    return picked


@compiles(last_by, "postgresql")
def _last_postgresql(element: last_by, compiler: SQLCompiler, **kw: Any) -> str:
    return _pick_postgresql(element, compiler, "max", **kw)


@compiles(first_by, "postgresql")
def _first_postgresql(element: first_by, compiler: SQLCompiler, **kw: Any) -> str:
    return _pick_postgresql(element, compiler, "min", **kw)


@compiles(last_by)
def _last_sqlite(element: last_by, compiler: SQLCompiler, **kw: Any) -> str:
    return f"dashapp_last({compiler.process(element.clauses, **kw)})"


@compiles(first_by)
def _first_sqlite(element: first_by, compiler: SQLCompiler, **kw: Any) -> str:
    return f"dashapp_first({compiler.process(element.clauses, **kw)})"


class percentile(FunctionElement[float]):
    """Aggregate: the continuous percentile ``fraction`` (0..1) of ``value``."""

    type = Float()
    inherit_cache = True

    def __init__(self, fraction: float, value: ColumnElement[Any]) -> None:
        super().__init__(literal(float(fraction), Float()), value)


@compiles(percentile, "postgresql")
def _percentile_postgresql(element: percentile, compiler: SQLCompiler, **kw: Any) -> str:
    fraction, value = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"percentile_cont({fraction}) WITHIN GROUP (ORDER BY {value})"


@compiles(percentile)
def _percentile_sqlite(element: percentile, compiler: SQLCompiler, **kw: Any) -> str:
    fraction, value = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"dashapp_percentile({value}, {fraction})"


class _ExtremeBy:
    """SQLite aggregate keeping the value at the smallest or greatest key; among rows with
    that key, the smallest or greatest value, as PostgreSQL's ``min``/``max`` over
    ``ARRAY[key, value]`` does (so ties never depend on the order rows arrive in)."""

    greatest = True

    def __init__(self) -> None:
        self.key: Any = None
        self.value: Any = None

    def step(self, value: Any, key: Any) -> None:
        if key is None:
            return
        if self.key is None or (key > self.key if self.greatest else key < self.key):
            self.key, self.value = key, value
        elif (
            key == self.key
            and value is not None
            and (
                self.value is None or (value > self.value if self.greatest else value < self.value)
            )
        ):
            self.value = value

    def finalize(self) -> Any:
        return self.value


class _LastBy(_ExtremeBy):
    greatest = True


class _FirstBy(_ExtremeBy):
    greatest = False


class _Percentile:
    """SQLite aggregate matching PostgreSQL's ``percentile_cont`` (linear interpolation)."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value: float | None, fraction: float) -> None:
        self.fraction = fraction
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        if not self.values:
            return None
        ordered = sorted(self.values)
        position = self.fraction * (len(ordered) - 1)
        low, high = math.floor(position), math.ceil(position)
        return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def register_sqlite_functions(connection: sqlite3.Connection) -> None:
    """Install the aggregates the constructs above compile to on a SQLite connection."""
    connection.create_aggregate("dashapp_last", 2, _LastBy)  # type: ignore[arg-type]
    connection.create_aggregate("dashapp_first", 2, _FirstBy)  # type: ignore[arg-type]
    connection.create_aggregate("dashapp_percentile", 2, _Percentile)  # type: ignore[arg-type]
