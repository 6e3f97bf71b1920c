"""The real agents, configured only as their docs say plus the URL and a token (issue 11).

One served app on PostgreSQL for the module. Each test runs an agent for a few seconds,
stops it, and counts the points it sent against the points stored. Every wait is bounded
and every agent process is stopped at the end of its test.
"""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import requests
from flask import Flask

from dashapp import create_app
from dashapp.extensions import database
from db import tokens
from tests.agents_support import distinct_stamps, free_port, series_of, served, stored, wait_for
from tests.conftest import empty_tables, service_missing

AGENT_TIMEOUT = 45


@pytest.fixture(scope="module")
def agent_app(postgresql_database: str) -> Iterator[Flask]:
    """One app on PostgreSQL for every agent test of the module."""
    empty_tables(postgresql_database)
    application = create_app(
        {
            "DATABASE_URL": postgresql_database,
            "DASHAPP_ENV": "test",
            "SECRET_KEY": "test-secret-key-long-enough-to-pass",
            "CACHE_KEY_PREFIX": f"dashapp-test-{uuid.uuid4().hex[:8]}:",
            "API_RATE_LIMIT": "100000/second",
        }
    )
    yield application
    application.extensions["dashapp.db"].engine.dispose()


@pytest.fixture(scope="module")
def base_url(agent_app: Flask) -> Iterator[str]:
    """The app served over HTTP on an ephemeral port."""
    with served(agent_app) as url:
        yield url


@pytest.fixture(scope="module")
def token(agent_app: Flask) -> str:
    """A token with the ingest scope."""
    with agent_app.app_context(), database.transaction() as session:
        return tokens.create_token(session, "agents", ["ingest"]).token


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


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
    host = _unique("collectd")
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


# --- OpenTelemetry SDK --------------------------------------------------------------------


def _exported_points(metrics_data: object) -> int:
    """Series points an OTLP export carries, by the documented mapping."""
    from opentelemetry.sdk.metrics.export import HistogramDataPoint

    total = 0
    for resource in metrics_data.resource_metrics:  # type: ignore[attr-defined]
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                for point in metric.data.data_points:
                    if isinstance(point, HistogramDataPoint):
                        total += len(point.bucket_counts) + 2 + (point.min is not None) * 2
                    else:
                        total += 1
    return total


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
def test_opentelemetry_sdk_exports_land(
    agent_app: Flask, base_url: str, token: str, encoding: str
) -> None:
    """The OTel SDK's own OTLP/HTTP exporters (protobuf, and JSON) with a bearer token."""
    from opentelemetry.metrics import Observation
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import MetricExportResult, PeriodicExportingMetricReader
    from opentelemetry.sdk.resources import Resource

    if encoding == "protobuf":
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    else:
        from opentelemetry.exporter.otlp.json.http.metric_exporter import OTLPMetricExporter

    class CountingExporter(OTLPMetricExporter):  # type: ignore[misc,valid-type]
        sent = 0
        results: list[MetricExportResult] = []

        def export(self, metrics_data, *args, **kwargs):  # type: ignore[no-untyped-def]
            CountingExporter.sent += _exported_points(metrics_data)
            result = super().export(metrics_data, *args, **kwargs)
            CountingExporter.results.append(result)
            return result

    service = _unique(f"otel-{encoding}")
    exporter = CountingExporter(
        endpoint=f"{base_url}/v1/metrics", headers={"Authorization": f"Bearer {token}"}
    )
    reader = PeriodicExportingMetricReader(exporter, export_interval_millis=3_600_000)
    resource = Resource.create({"service.name": service, "deployment.environment": "test"})
    provider = MeterProvider(resource=resource, metric_readers=[reader])
    meter = provider.get_meter("tests.agents")
    requests_total = meter.create_counter("http.server.requests")
    in_flight = meter.create_up_down_counter("http.server.active_requests")
    duration = meter.create_histogram("http.server.duration", unit="ms")
    meter.create_observable_gauge(
        "process.cpu.utilization", callbacks=[lambda _: [Observation(0.25, {"core": "0"})]]
    )
    try:
        for round_ in range(2):
            requests_total.add(5, {"route": "/a"})
            requests_total.add(2 + round_, {"route": "/b"})
            in_flight.add(-3)
            for value in (3, 30, 300, 3000):
                duration.record(value, {"route": "/a"})
            assert provider.force_flush(10_000)
            time.sleep(0.01)  # the next export gets a later timestamp
    finally:
        provider.shutdown()
    assert CountingExporter.results and set(CountingExporter.results) == {
        MetricExportResult.SUCCESS
    }
    assert CountingExporter.sent > 20
    assert stored(agent_app, service) == CountingExporter.sent
    newest = {
        (name, labels.replace("deployment.environment=test,", "").split(",service.")[0]): value
        for (name, labels), value in series_of(agent_app, service).items()
    }  # resource attributes are labels too: keep the point's own for the checks below
    assert newest[("http.server.requests", "route=/a")] == 10
    assert newest[("http.server.duration_count", "route=/a")] == 8
    assert newest[("http.server.duration_bucket", "le=+Inf,route=/a")] == 8
    assert newest[("http.server.duration_bucket", "le=5,route=/a")] == 2
    assert newest[("process.cpu.utilization", "core=0")] == 0.25


# --- InfluxDB clients ------------------------------------------------------------------------


def test_influxdb_v2_client_writes_pings_and_partial_writes(
    agent_app: Flask, base_url: str, token: str
) -> None:
    """influxdb-client (v2 API, ``Authorization: Token``), including a partial write."""
    from influxdb_client import InfluxDBClient, Point, WritePrecision
    from influxdb_client.client.write_api import SYNCHRONOUS
    from influxdb_client.rest import ApiException

    host = _unique("influx2")
    now = int(time.time())
    with InfluxDBClient(url=base_url, token=token, org="acme") as client:
        assert client.ping()
        health = requests.get(f"{base_url}/health", timeout=5)  # client.health() is deprecated
        assert health.json()["status"] == "pass"
        write = client.write_api(write_options=SYNCHRONOUS)
        points = [
            Point("cpu").tag("host", host).tag("cpu", "cpu0").field("usage_idle", 97.5)
            .field("usage_user", 1.25).field("note", "text is skipped")
            .time(now - i, WritePrecision.S)
            for i in range(50)
        ]  # fmt: skip
        write.write(bucket="metrics", record=points, write_precision=WritePrecision.S)
        assert stored(agent_app, host) == 100
        with pytest.raises(ApiException) as refused:
            write.write(
                bucket="metrics",
                record=[f"mem,host={host} used=1i {now}", f"mem,host={host} used=oops {now}"],
                write_precision=WritePrecision.S,
            )
    assert refused.value.status == 400
    assert "partial write" in refused.value.message
    assert stored(agent_app, host, name="mem.used") == 1  # the valid line is kept
    labels = {text for name, text in series_of(agent_app, host) if name == "cpu.usage_idle"}
    assert labels == {"cpu=cpu0,db=metrics,org=acme"}


def test_influxdb_v1_client_unmodified(agent_app: Flask, base_url: str, token: str) -> None:
    """The influxdb (v1) client at its default path, the token as its password."""
    from influxdb import InfluxDBClient

    host = _unique("influx1")
    port = int(base_url.rsplit(":", 1)[1])
    client = InfluxDBClient("127.0.0.1", port, "telegraf", token, "telegraf")
    try:
        assert client.ping()
        body = [
            {"measurement": "mem", "tags": {"host": host, "region": "eu"},
             "time": int(time.time()) - i, "fields": {"used": 10.5 + i, "free": 3}}
            for i in range(40)
        ]  # fmt: skip
        assert client.write_points(body, time_precision="s")
    finally:
        client.close()
    assert stored(agent_app, host) == 80
    assert ("mem.used", "db=telegraf,region=eu") in series_of(agent_app, host)


# --- Telegraf's request shapes (Telegraf is not packaged: its requests, replayed) ---------


def _telegraf_lines(host: str, stamp: int) -> bytes:
    return (
        f"cpu,cpu=cpu-total,host={host} usage_idle=97.1,usage_user=1.9 {stamp}000000000\n"
        f"mem,host={host} used=1234i,available_percent=41.5,active=true {stamp}000000000\n"
        f'system,host={host} uptime_format="1 day",load1=0.5 {stamp}000000000\n'
    ).encode()


def test_telegraf_influxdb_outputs_replayed(agent_app: Flask, base_url: str, token: str) -> None:
    """``outputs.influxdb`` (v1, gzip, basic auth), ``outputs.influxdb_v2``, ``outputs.http``."""
    host = _unique("telegraf")
    stamp = int(time.time())
    agent = {"User-Agent": "Telegraf/1.30.0 Go/1.22.0"}
    created = requests.post(  # at start, unless skip_database_creation = true
        f"{base_url}/query",
        data={"q": 'CREATE DATABASE "telegraf"'},
        auth=("telegraf", token),
        headers=agent,
        timeout=10,
    )
    assert created.status_code == 200 and created.json() == {"results": [{"statement_id": 0}]}
    v1 = requests.post(
        f"{base_url}/write",
        params={"db": "telegraf"},
        data=gzip.compress(_telegraf_lines(host, stamp)),
        auth=("telegraf", token),
        headers={**agent, "Content-Type": "text/plain; charset=utf-8", "Content-Encoding": "gzip"},
        timeout=10,
    )
    assert v1.status_code == 204, v1.text
    v2 = requests.post(
        f"{base_url}/api/v2/write",
        params={"bucket": "telegraf", "org": "acme"},
        data=gzip.compress(_telegraf_lines(host, stamp + 1)),
        headers={**agent, "Authorization": f"Token {token}", "Content-Encoding": "gzip"},
        timeout=10,
    )
    assert v2.status_code == 204, v2.text
    http = requests.post(  # outputs.http, data_format = "influx", its url with ?bucket=
        f"{base_url}/api/v2/write?bucket=telegraf",
        data=_telegraf_lines(host, stamp + 2),
        headers={**agent, "Content-Type": "text/plain; charset=utf-8",
                 "Authorization": f"Token {token}"},
        timeout=10,
    )  # fmt: skip
    assert http.status_code == 204, http.text
    assert stored(agent_app, host) == 3 * 6  # the string field is skipped
    assert datetime.fromtimestamp(stamp, UTC) in distinct_stamps(agent_app, host)


def test_agent_processes_are_gone() -> None:
    """No agent outlives the tests that started it."""
    children = subprocess.run(
        ["pgrep", "-l", "-P", str(os.getpid())], capture_output=True, text=True
    ).stdout.split()
    assert not {"prometheus", "collectd"} & set(children)


def test_telegraf_http_json_output_replayed(agent_app: Flask, base_url: str, token: str) -> None:
    """``outputs.http`` with ``data_format = "json"`` (batch format, seconds)."""
    host = _unique("telegraf-json")
    stamp = int(time.time())
    metrics = [
        {"fields": {"usage_idle": 97.1, "usage_user": 1.9}, "name": "cpu",
         "tags": {"cpu": "cpu-total", "host": host}, "timestamp": stamp - i}
        for i in range(10)
    ]  # fmt: skip
    response = requests.post(
        f"{base_url}/telegraf",
        data=orjson.dumps({"metrics": metrics}),
        headers={"User-Agent": "Telegraf/1.30.0 Go/1.22.0", "Content-Type": "application/json",
                 "Authorization": f"Bearer {token}"},
        timeout=10,
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 20, "skipped": 0}
    assert stored(agent_app, host) == 20
