"""The chunk codec: a window of one series' points as two compressed columns.

Timestamps (epoch microseconds, int64) and values (float64) are each encoded with
pcodec, a maintained numeric codec that finds deltas, strides and float bit patterns
by itself (measured beside zstd, lz4 and others in ``bench/codecs.py``: see
``docs/performance.md``). Every blob starts with a format byte, so a later codec can
be read beside this one. Encoding is lossless to the bit: ±0, subnormals, infinities
and any NaN payload come back unchanged.
"""

from __future__ import annotations

import struct
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
from pcodec import ChunkConfig, standalone

FORMAT_PCODEC = 1
"""Format byte of a pcodec standalone blob."""

_CONFIG = ChunkConfig(compression_level=8)


def encode_times(micros: np.ndarray | Sequence[int]) -> bytes:
    """Encode epoch-microsecond timestamps (any order; stored as given)."""
    return _encode(np.ascontiguousarray(micros, dtype=np.int64))


def encode_values(values: np.ndarray | Sequence[float]) -> bytes:
    """Encode float64 values, bit for bit."""
    return _encode(np.ascontiguousarray(values, dtype=np.float64))


def decode_times(blob: bytes) -> np.ndarray:
    """The int64 epoch-microsecond timestamps of a blob from :func:`encode_times`."""
    return _decode(blob, np.int64)


def decode_values(blob: bytes) -> np.ndarray:
    """The float64 values of a blob from :func:`encode_values`."""
    return _decode(blob, np.float64)


def _encode(array: np.ndarray) -> bytes:
    if not len(array):
        return bytes([FORMAT_PCODEC])
    return bytes([FORMAT_PCODEC]) + standalone.simple_compress(array, _CONFIG)


def _decode(blob: bytes, dtype: type[np.generic]) -> np.ndarray:
    if not blob or blob[0] != FORMAT_PCODEC:
        raise ValueError(f"unknown chunk format {blob[:1]!r}")
    if len(blob) == 1:
        return np.empty(0, dtype=dtype)
    decoded = standalone.simple_decompress(bytes(blob[1:]))
    if decoded is None:
        return np.empty(0, dtype=dtype)
    if decoded.dtype != dtype:
        raise ValueError(f"chunk holds {decoded.dtype}, expected {np.dtype(dtype)}")
    return decoded


FORMAT_COLUMNS = 2
"""Format byte of a bundle of columns (rollup chunks)."""
_INT, _FLOAT, _SAME = 0, 1, 2


def encode_columns(columns: Sequence[np.ndarray]) -> bytes:
    """Several int64/float64 columns of one length in one blob.

    A column equal to an earlier one is stored as a reference to it: a rollup of data
    no finer than its level (one point per bucket) repeats its value in sum, min, max,
    first and last, and its time in first/last/min/max time, and costs one column each.
    """
    parts = [struct.pack("<BB", FORMAT_COLUMNS, len(columns))]
    for index, column in enumerate(columns):
        same = next(
            (j for j in range(index)
             if columns[j].dtype == column.dtype and columns[j].tobytes() == column.tobytes()),
            None,
        )  # fmt: skip
        if same is not None:
            parts.append(struct.pack("<BI", _SAME, same))
            continue
        blob = encode_times(column) if column.dtype == np.int64 else encode_values(column)
        parts.append(struct.pack("<BI", _INT if column.dtype == np.int64 else _FLOAT, len(blob)))
        parts.append(blob)
    return b"".join(parts)


def decode_columns(blob: bytes, wanted: Collection[int] | None = None) -> list[Any]:
    """The columns of a blob from :func:`encode_columns` (only those at ``wanted`` indexes
    if given, None in the others; a column stored as a reference is the same array)."""
    fmt, count = struct.unpack_from("<BB", blob)
    if fmt != FORMAT_COLUMNS:
        raise ValueError(f"unknown column bundle format {fmt}")
    offset, stored = 2, []
    for _ in range(count):
        kind, size = struct.unpack_from("<BI", blob, offset)
        offset += 5
        stored.append((kind, offset, size))
        if kind != _SAME:
            offset += size
    columns: list[Any] = [None] * count

    def decoded(index: int) -> np.ndarray:
        kind, start, size = stored[index]
        if kind == _SAME:
            return decoded(size)
        if columns[index] is None:
            part = blob[start : start + size]
            columns[index] = decode_times(part) if kind == _INT else decode_values(part)
        return columns[index]

    for index in range(count) if wanted is None else wanted:
        columns[index] = decoded(index)
    return columns
