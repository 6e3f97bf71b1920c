"""The OpenTelemetry SDK's exporters, the InfluxDB clients and Telegraf's requests, for real.

One served app on PostgreSQL for the module; each test counts the points its client sent
against the points stored. Telegraf is not packaged, so its requests are replayed.
"""

from __future__ import annotations

import gzip
import time
from datetime import UTC, datetime

import orjson
import pytest
import requests
from flask import Flask

from tests.agents.support import (
    distinct_stamps,
    series_of,
    stored,
    unique,
)

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

    service = unique(f"otel-{encoding}")
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

    host = unique("influx2")
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

    host = unique("influx1")
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
    host = unique("telegraf")
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


def test_telegraf_http_json_output_replayed(agent_app: Flask, base_url: str, token: str) -> None:
    """``outputs.http`` with ``data_format = "json"`` (batch format, seconds)."""
    host = unique("telegraf-json")
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
