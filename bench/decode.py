"""Decoding benchmark: what each push protocol costs per point before the database write.

In process, one thread, no HTTP, no database: the same 5,000 points (100 series x 50
timestamps) as the body each route receives, decoded and prepared into the rows that
``ingest.write`` stores, by the functions the routes call. Prints the best of
``--repeat`` runs per protocol and its ratio to the JSON path.

    .venv/bin/python bench/decode.py [--repeat 40]
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ingest import (
    encode_json,
    encode_line,
    encode_otlp,
    encode_prometheus,
    point_batches,
)


def best(run: Callable[[], object], repeat: int) -> float:
    """Fastest of ``repeat`` runs, in seconds, with the collector paused as the routes do."""
    run()
    times = []
    gc.disable()
    try:
        for _ in range(repeat):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
    finally:
        gc.enable()
    return min(times)


def main() -> None:
    """Measure every protocol and print microseconds per point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()

    from dashapp.core import points as ingest
    from dashapp.core.protocols import influx, otlp, prometheus

    items = point_batches(5_000, 100, 5_000, timedelta(0))[0]
    json_body = encode_json(items)[2]
    line_body = encode_line(items)[2].decode()
    prometheus_body = encode_prometheus(items)[2]
    otlp_body = encode_otlp(items)[2]
    runs = {
        "JSON (parse_json + prepare)": lambda: ingest.prepare(ingest.parse_json(json_body)),
        "line protocol (influx.decode + prepare_plain)": lambda: ingest.prepare_plain(
            influx.decode(line_body, "s", {"db": "bench"}).points
        ),
        "Prometheus (prometheus.decode + prepare_plain)": lambda: ingest.prepare_plain(
            prometheus.decode(prometheus_body, 1 << 26).points
        ),
        "OTLP (otlp.decode_protobuf + prepare_plain)": lambda: ingest.prepare_plain(
            otlp.decode_protobuf(otlp_body).points
        ),
    }
    for label, run in runs.items():
        assert len(run()) == len(items), label  # type: ignore[arg-type]
    per_point = {label: best(run, args.repeat) / len(items) * 1e6 for label, run in runs.items()}
    json_cost = per_point["JSON (parse_json + prepare)"]
    print(f"best of {args.repeat}; {len(items):,} points per body")
    for label, cost in per_point.items():
        print(f"{label:<48} {cost:5.2f} us/point  {cost / json_cost:4.2f} x JSON's cost")


if __name__ == "__main__":
    main()
