"""numpy arrays sent to PostgreSQL as binary array parameters (no text to build or parse).

A parameter wrapped in :func:`float8s`, :func:`int8s`, :func:`int4s` or
:func:`timestamps` travels in PostgreSQL's binary array format, built by numpy in one
pass: for a day of one series that is microseconds, where a text literal took
milliseconds to join in Python and again to parse in the server.
"""

from __future__ import annotations

import struct

import numpy as np
import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format

PG_EPOCH_US = 946_684_800_000_000
"""2000-01-01 in Unix epoch microseconds: PostgreSQL's timestamp zero."""


class BinaryArray:
    """An array already in PostgreSQL's binary format (dumped as is by its dumper)."""

    __slots__ = ("payload",)
    element_oid = 0
    element_type = ">f8"

    def __init__(self, values: np.ndarray) -> None:
        # Header: dimensions, has-nulls flag, element type, then (length, lower bound).
        header = struct.pack(">iiiii", 1, 0, self.element_oid, len(values), 1)
        items = np.empty(len(values), [("size", ">i4"), ("value", self.element_type)])
        items["size"] = np.dtype(self.element_type).itemsize
        items["value"] = values
        self.payload = header + items.tobytes()


class Float8Array(BinaryArray):
    __slots__ = ()
    element_oid, element_type = 701, ">f8"


class Int8Array(BinaryArray):
    __slots__ = ()
    element_oid, element_type = 20, ">i8"


class Int4Array(BinaryArray):
    __slots__ = ()
    element_oid, element_type = 23, ">i4"


class TimestamptzArray(BinaryArray):
    __slots__ = ()
    element_oid, element_type = 1184, ">i8"


def _dumper(array_oid: int) -> type[Dumper]:
    class ArrayDumper(Dumper):
        format = Format.BINARY
        oid = array_oid

        def dump(self, obj: BinaryArray) -> bytes:
            return obj.payload

    return ArrayDumper


for _kind, _oid in ((Float8Array, 1022), (Int8Array, 1016), (Int4Array, 1007),
                    (TimestamptzArray, 1185)):  # fmt: skip
    psycopg.adapters.register_dumper(_kind, _dumper(_oid))


def float8s(values: np.ndarray) -> Float8Array:
    """A ``float8[]`` parameter (bit for bit: ±0, subnormals, NaN payloads)."""
    return Float8Array(values)


def int8s(values: np.ndarray) -> Int8Array:
    """A ``bigint[]`` parameter."""
    return Int8Array(values)


def int4s(values: np.ndarray) -> Int4Array:
    """An ``integer[]`` parameter."""
    return Int4Array(values)


def timestamps(micros: np.ndarray) -> TimestamptzArray:
    """A ``timestamptz[]`` parameter from Unix epoch microseconds."""
    return TimestamptzArray(np.asarray(micros, dtype=np.int64) - PG_EPOCH_US)
