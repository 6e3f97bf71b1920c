"""Codecs for compacted chunks, side by side on realistic series shapes.

Each shape is one series' day (the compaction window): timestamps as int64 epoch
microseconds and float64 values, encoded as two columns. Prints bytes per point and
decode speed for pcodec (the chosen codec, db/tsdb/codec.py), zstd and lz4 on raw columns,
and zstd on delta-encoded timestamps with XOR-ed values (a Gorilla-like transform).

    .venv/bin/python bench/codecs.py [--days 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import lz4.frame
import numpy as np
import zstandard
from pcodec import ChunkConfig, standalone

DAY_US = 86_400_000_000
T0 = 1_767_225_600_000_000  # 2026-01-01


def shapes(rng: np.random.Generator) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """One day of each realistic shape: (timestamps in us, values)."""
    out = {}
    for step in (10, 60):
        n = 86_400 // step
        jitter = rng.integers(-2000, 2000, n)  # agents send a few ms early or late
        ts = T0 + np.arange(n, dtype=np.int64) * step * 1_000_000 + jitter
        regular = T0 + np.arange(n, dtype=np.int64) * step * 1_000_000
        wave = 40 + 20 * np.sin(np.arange(n) / n * 2 * np.pi)
        out[f"gauge {step}s (noise, full precision)"] = (ts, wave + rng.normal(0, 3, n))
        out[f"gauge {step}s (2 decimals, exact times)"] = (
            regular,
            np.round(wave + rng.normal(0, 3, n), 2),
        )
        out[f"counter {step}s"] = (regular, np.cumsum(rng.poisson(120, n)).astype(np.float64))
        out[f"memory bytes {step}s"] = (
            regular,
            (8e9 + np.cumsum(rng.integers(-4096, 4096, n)) * 4096).astype(np.float64),
        )
    sparse_ts = np.sort(rng.choice(DAY_US, 200, replace=False)) + T0
    out["sparse (200 irregular events)"] = (sparse_ts, rng.exponential(5, 200).round(1))
    return out


def pco(array: np.ndarray) -> tuple[bytes, Callable[[], object]]:
    blob = standalone.simple_compress(array, ChunkConfig(compression_level=8))
    return blob, lambda: standalone.simple_decompress(blob)


def zstd_raw(array: np.ndarray, level: int = 3) -> tuple[bytes, Callable[[], object]]:
    blob = zstandard.ZstdCompressor(level=level).compress(array.tobytes())
    return blob, lambda: np.frombuffer(zstandard.ZstdDecompressor().decompress(blob), array.dtype)


def zstd_transformed(array: np.ndarray) -> tuple[bytes, Callable[[], object]]:
    """Delta of delta for timestamps, XOR with the previous value for floats, then zstd."""
    if array.dtype == np.int64:
        transformed = np.diff(array, n=2, prepend=[0, 0])

        def undo(raw: np.ndarray) -> np.ndarray:
            return np.cumsum(np.cumsum(raw))
    else:
        bits = array.view(np.int64)
        transformed = bits ^ np.concatenate([[0], bits[:-1]])

        def undo(raw: np.ndarray) -> np.ndarray:
            return np.bitwise_xor.accumulate(raw).view(np.float64)

    blob = zstandard.ZstdCompressor(level=9).compress(transformed.tobytes())
    return blob, lambda: undo(
        np.frombuffer(zstandard.ZstdDecompressor().decompress(blob), np.int64)
    )


def lz4_raw(array: np.ndarray) -> tuple[bytes, Callable[[], object]]:
    blob = lz4.frame.compress(array.tobytes())
    return blob, lambda: np.frombuffer(lz4.frame.decompress(blob), array.dtype)


CODECS = {
    "pcodec": pco,
    "zstd-3 raw": zstd_raw,
    "zstd-19 raw": lambda a: zstd_raw(a, 19),
    "zstd-9 delta2/xor": zstd_transformed,
    "lz4 raw": lz4_raw,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=3, help="days of each shape (seeds)")
    args = parser.parse_args()
    totals = {name: [0, 0, 0.0] for name in CODECS}  # bytes, points, decode seconds
    print(f"{'shape':40s}" + "".join(f"{name:>19s}" for name in CODECS))
    per_shape: dict[str, dict[str, list[float]]] = {}
    for day in range(args.days):
        for shape, (ts, values) in shapes(np.random.default_rng(day)).items():
            row = per_shape.setdefault(shape, {name: [0, 0] for name in CODECS})
            for name, codec in CODECS.items():
                size = 0
                decode_time = 0.0
                for column in (ts, values):
                    blob, decode = codec(column)
                    started = time.perf_counter()
                    for _ in range(5):
                        decode()
                    decode_time += (time.perf_counter() - started) / 5
                    size += len(blob)
                row[name][0] += size
                row[name][1] += len(ts)
                totals[name][0] += size
                totals[name][1] += len(ts)
                totals[name][2] += decode_time
    for shape, row in per_shape.items():
        cells = "".join(f"{row[name][0] / row[name][1]:>19.2f}" for name in CODECS)
        print(f"{shape:40s}{cells}")
    print(f"{'all shapes, bytes/point':40s}" + "".join(
        f"{totals[name][0] / totals[name][1]:>19.2f}" for name in CODECS
    ))  # fmt: skip
    print(f"{'decode, M points/s (2 columns)':40s}" + "".join(
        f"{totals[name][1] / totals[name][2] / 1e6:>19.1f}" for name in CODECS
    ))  # fmt: skip


if __name__ == "__main__":
    main()
