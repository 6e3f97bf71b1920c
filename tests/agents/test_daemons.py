"""Debian's Prometheus and collectd, configured only as their docs say plus URL and token.

One served app on PostgreSQL for the module. Each test runs an agent for a few seconds,
stops it, and counts the points it sent against the points stored. Every wait is bounded
and every agent process is stopped at the end of its test.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import requests
from flask import Flask

from tests.agents.support import (
    AGENT_TIMEOUT,
    distinct_stamps,
    free_port,
    series_of,
    stored,
    unique,
    wait_for,
)
from tests.conftest import service_missing


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM (agents flush what they hold), then SIGKILL if it lingers."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def _binary(name: str) -> str:
    path = shutil.which(name) or (
        f"/usr/sbin/{name}" if Path(f"/usr/sbin/{name}").exists() else None
    )
    if path is None:
        service_missing(f"{name} is not installed (Debian package, see .ci/run)")
    return path  # type: ignore[return-value]


# --- Prometheus -----------------------------------------------------------------------------


def _prometheus_config(port: int, url: str, token: str) -> str:
    queue = "{max_shards: 1, min_shards: 1, batch_send_deadline: 500ms}"
    return f"""
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: prometheus
    static_configs:
      - targets: ['127.0.0.1:{port}']
remote_write:
  - name: bearer
    url: {url}/api/v1/prom/write
    authorization:
      credentials: {token}
    queue_config: {queue}
  - name: basic
    url: {url}/api/v1/prom/write
    basic_auth:
      username: prometheus
      password: {token}
    queue_config: {queue}
"""


def _prometheus_counters(port: int) -> dict[str, float]:
    """Remote-storage counters summed over queues, and ``sent:<queue>`` per queue."""
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    counters: dict[str, float] = {}
    for line in text.splitlines():
        if not line.startswith("prometheus_remote_storage_samples_"):
            continue
        name, value = line.rsplit(" ", 1)
        metric = name.split("{", 1)[0]
        counters[metric] = counters.get(metric, 0) + float(value)
        if metric == "prometheus_remote_storage_samples_total":
            queue = name.split('remote_name="', 1)[1].split('"', 1)[0]
            counters[f"sent:{queue}"] = float(value)
    return counters


def test_prometheus_remote_write_lands_every_sample(
    agent_app: Flask, base_url: str, token: str, tmp_path: Path
) -> None:
    """Prometheus scraping itself, remote-writing with a bearer token and with basic auth."""
    binary = _binary("prometheus")
    port = free_port()
    instance = f"127.0.0.1:{port}"
    config = tmp_path / "prometheus.yml"
    config.write_text(_prometheus_config(port, base_url, token))
    log = (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen(
        [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
         f"--web.listen-address={instance}", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        stamps = wait_for(
            lambda: (found := distinct_stamps(agent_app, instance)) and len(found) >= 3 and found,
            AGENT_TIMEOUT,
            "three scrapes of Prometheus stored",
        )
        # One shard per queue sends in order: once a later scrape landed, the second is whole.
        cutoff = stamps[1]
        query = {"query": f'{{instance="{instance}"}}[1h]'}
        answer = requests.get(f"http://{instance}/api/v1/query", params=query, timeout=10).json()
        cutoff_ms = round(cutoff.timestamp() * 1000)
        in_tsdb = [
            value
            for series in answer["data"]["result"]
            for moment, value in series["values"]
            if round(float(moment) * 1000) <= cutoff_ms
        ]
        numbers = [value for value in in_tsdb if value not in ("NaN", "+Inf", "-Inf")]
        counters = _prometheus_counters(port)
    finally:
        _stop(process)
        log.close()
    assert len(in_tsdb) > 100
    assert stored(agent_app, instance, until=cutoff) == len(numbers)
    assert counters.get("prometheus_remote_storage_samples_failed_total", 0) == 0
    assert counters.get("prometheus_remote_storage_samples_dropped_total", 0) == 0
    assert counters["sent:bearer"] > 0 and counters["sent:basic"] > 0
    assert ("up", "job=prometheus") in series_of(agent_app, instance)


# --- collectd --------------------------------------------------------------------------------


def _collectd_config(directory: Path, host: str, url: str, token: str) -> str:
    return f"""
Hostname "{host}"
FQDNLookup false
Interval 1
BaseDir "{directory}"
PIDFile "{directory}/collectd.pid"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin cpu
LoadPlugin load
LoadPlugin memory
LoadPlugin interface
LoadPlugin csv
LoadPlugin write_http
<Plugin cpu>
  ReportByCpu false
  ReportByState false
  ValuesPercentage true
</Plugin>
<Plugin interface>
  Interface "lo"
</Plugin>
<Plugin csv>
  DataDir "{directory}/csv"
  StoreRates false
</Plugin>
<Plugin write_http>
  <Node "dashapp">
    URL "{url}/collectd"
    User "collectd"
    Password "{token}"
    Format "JSON"
    StoreRates false
  </Node>
</Plugin>
"""


def _csv_values(directory: Path) -> int:
    """Values the csv plugin wrote (the same ones write_http sent), NaN left out."""
    count = 0
    for path in directory.rglob("*-*-*"):
        if path.is_file():
            for line in path.read_text().splitlines()[1:]:
                count += sum(1 for value in line.split(",")[1:] if value != "nan")
    return count


def test_collectd_write_http_lands_every_value(
    agent_app: Flask, base_url: str, token: str, tmp_path: Path
) -> None:
    """collectd's write_http (JSON) with the token as password; csv keeps the sent values."""
    binary = _binary("collectd")
    host = unique("collectd")
    config = tmp_path / "collectd.conf"
    config.write_text(_collectd_config(tmp_path, host, base_url, token))
    log = (tmp_path / "collectd.log").open("w")
    process = subprocess.Popen([binary, "-f", "-C", str(config)], stdout=log, stderr=log)
    try:
        wait_for(
            lambda: (
                (found := distinct_stamps(agent_app, host))
                and (found[-1] - found[0]).total_seconds() >= 2
            ),
            AGENT_TIMEOUT,
            "three intervals of collectd values stored",
        )
    finally:
        _stop(process)
        log.close()
    assert process.returncode == 0, (tmp_path / "collectd.log").read_text()
    sent = _csv_values(tmp_path / "csv")
    assert sent > 10
    assert stored(agent_app, host) == sent
    names = {name for name, _ in series_of(agent_app, host)}
    assert {"load.shortterm", "memory.used", "interface.if_octets.rx"} <= names
    assert ("interface.if_octets.rx", "plugin_instance=lo") in series_of(agent_app, host)
    rates = requests.get(  # a derive, charted as a rate: what a panel with agg=rate asks
        f"{base_url}/api/v1/query",
        params={"metric": "interface.if_octets.rx", "source": host, "agg": "rate",
                "start": "now-1h", "interval": "1s"},
        timeout=10,
    ).json()  # fmt: skip
    values = [value for line in rates["series"] for value in line["values"] if value is not None]
    assert values and min(values) >= 0


def test_agent_processes_are_gone() -> None:
    """No agent outlives the tests that started it."""
    children = subprocess.run(
        ["pgrep", "-l", "-P", str(os.getpid())], capture_output=True, text=True
    ).stdout.split()
    assert not {"prometheus", "collectd"} & set(children)
