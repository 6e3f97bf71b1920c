"""A real Prometheus (Debian's 2.42) over the compliance fixture, for one test module.

The fixture's early samples become TSDB blocks through ``promtool tsdb create-blocks-from
openmetrics``; the server then starts on a free port over them and receives the tail,
staleness markers included, by remote write. Every wait is bounded; the process and its
data directory go when the module ends.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import cramjam
import requests

from dashapp.core.protocols.prometheus_remote_write_pb2 import WriteRequest
from tests.promql import fixture
from tests.servers import free_port

WAIT_SECONDS = 30
CONFIG = "global:\n  evaluation_interval: 1m\n"  # also the default subquery step


def binary(name: str) -> str | None:
    """Path of a Prometheus tool, or None when the Debian package is missing."""
    return shutil.which(name) or next(
        (str(p) for p in (Path("/usr/bin") / name, Path("/usr/sbin") / name) if p.exists()),
        None,
    )


def _remote_write(url: str, series: list[fixture.FixtureSeries]) -> None:
    request = WriteRequest()
    for labels, times, values in fixture.tail(series):
        item = request.timeseries.add()
        for name, value in sorted(labels.items()):
            label = item.labels.add()
            label.name, label.value = name, value
        for t, v in zip(times.tolist(), values.tolist(), strict=True):
            sample = item.samples.add()
            sample.timestamp, sample.value = int(t), v
    body = bytes(cramjam.snappy.compress_raw(request.SerializeToString()))
    headers = {
        "Content-Type": "application/x-protobuf",
        "Content-Encoding": "snappy",
        "X-Prometheus-Remote-Write-Version": "0.1.0",
    }
    answer = requests.post(f"{url}/api/v1/write", data=body, headers=headers, timeout=30)
    answer.raise_for_status()


def _wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(f"{url}/-/ready", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"prometheus not ready after {WAIT_SECONDS} s: {log.read_text()[-2000:]}")


@contextmanager
def serve(series: list[fixture.FixtureSeries], prometheus: str, promtool: str) -> Iterator[str]:
    """A Prometheus holding ``series``; yields its base URL."""
    root = Path(tempfile.mkdtemp(prefix="dashapp-promql-"))
    process = None
    try:
        (root / "fixture.om").write_text(fixture.openmetrics(series))
        subprocess.run(
            [promtool, "tsdb", "create-blocks-from", "openmetrics",
             str(root / "fixture.om"), str(root / "data")],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        (root / "prometheus.yml").write_text(CONFIG)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        log = root / "prometheus.log"
        with log.open("w") as out:
            process = subprocess.Popen(
                [prometheus, f"--config.file={root / 'prometheus.yml'}",
                 f"--storage.tsdb.path={root / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
                 "--web.enable-remote-write-receiver", "--log.level=warn"],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        _wait_ready(url, process, log)
        _remote_write(url, series)
        yield url
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        shutil.rmtree(root, ignore_errors=True)
