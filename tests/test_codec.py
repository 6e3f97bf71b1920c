"""The chunk codec gives back every timestamp and value bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from db.tsdb import codec

EDGE_VALUES = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1e300, -1e300,
               math.inf, -math.inf, 1.0, 1.0, 1.0, 0.1, 1 / 3, 2**53, -(2**53) + 1]  # fmt: skip


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_edge_values_round_trip_bit_for_bit() -> None:
    values = np.array(EDGE_VALUES)
    assert same_bits(codec.decode_values(codec.encode_values(values)), values)
    assert math.copysign(1, codec.decode_values(codec.encode_values([-0.0]))[0]) == -1


def test_irregular_and_duplicate_timestamps_round_trip() -> None:
    stamps = np.array([0, 1, 1, 10_000_000, 10_000_001, 2**62, -(2**40), 7, 7, 7])
    assert same_bits(codec.decode_times(codec.encode_times(stamps)), stamps.astype(np.int64))


def test_repeated_values_compress_to_almost_nothing() -> None:
    times = 1_767_225_600_000_000 + np.arange(8640, dtype=np.int64) * 10_000_000
    blob_t, blob_v = codec.encode_times(times), codec.encode_values(np.full(8640, 42.5))
    assert len(blob_t) + len(blob_v) < 200
    assert same_bits(codec.decode_times(blob_t), times)


def test_empty_columns_round_trip() -> None:
    assert len(codec.decode_times(codec.encode_times([]))) == 0
    assert len(codec.decode_values(codec.encode_values([]))) == 0


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown chunk format"):
        codec.decode_values(b"\x09abc")
    with pytest.raises(ValueError, match="expected"):
        codec.decode_values(codec.encode_times([1, 2, 3]))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(min_value=-(2**62), max_value=2**62), max_size=300),
    st.lists(st.floats(allow_nan=False), max_size=300),
)
def test_any_columns_round_trip(stamps: list[int], values: list[float]) -> None:
    times = np.array(stamps, dtype=np.int64)
    floats = np.array(values, dtype=np.float64)
    assert same_bits(codec.decode_times(codec.encode_times(times)), times)
    assert same_bits(codec.decode_values(codec.encode_values(floats)), floats)


def test_column_bundles_share_equal_columns_bit_for_bit() -> None:
    times = np.arange(100, dtype=np.int64) * 60_000_000
    values = np.linspace(-1, 1, 100)
    negative_zero = np.where(values == values[0], -0.0, 0.0)
    columns = [times, values, values.copy(), np.zeros(100), negative_zero, times.copy()]
    blob = codec.encode_columns(columns)
    assert all(same_bits(a, b) for a, b in zip(codec.decode_columns(blob), columns, strict=True))
    alone = codec.encode_columns([times, values, np.zeros(100), negative_zero])
    assert len(blob) == len(alone) + 2 * 5  # repeats cost a 5-byte reference each
