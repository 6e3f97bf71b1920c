"""Wire-format decoders (dashapp.core.protocols): mapping, normalisation, per-item rejection."""

from __future__ import annotations

import math
import struct
from datetime import UTC, datetime

import cramjam
import orjson
import pytest
from google.protobuf import json_format
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)

from dashapp.core.protocols import BodyError, BodyTooLarge, collectd, influx, otlp, prometheus
from dashapp.core.protocols.points import normalise_labels, normalise_name, normalise_source

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T0_NS = int(T0.timestamp()) * 1_000_000_000
STALE_NAN = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]


# --- normalisation ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("cpu.usage_idle", "cpu.usage_idle"),
        ("http server/latency (ms)", "http_server/latency__ms_"),
        ("température", "temp_rature"),
        ("", "_"),
        ("x" * 250, "x" * 200),
    ],
)
def test_names_are_normalised_by_one_rule(given: str, expected: str) -> None:
    assert normalise_name(given) == expected
    assert normalise_name(expected) == expected  # stable: normalising twice changes nothing


def test_sources_and_labels_are_normalised_not_refused() -> None:
    assert normalise_source("") == "default"
    assert normalise_source("a\x00b") == "a_b"
    labels = {"": "v", "k\x00": "x" * 300, "ok": "fine"}
    assert normalise_labels(labels) == {"_": "v", "k_": "x" * 200, "ok": "fine"}
    same = {"region": "eu"}
    assert normalise_labels(same) is same


# --- Prometheus -------------------------------------------------------------------------


def remote_write(*series: tuple[dict[str, str], list[tuple[float, int]]]) -> bytes:
    """A snappy-compressed WriteRequest of (labels, [(value, ms)]) series."""
    request = prometheus.WriteRequest()
    for labels, samples in series:
        item = request.timeseries.add()
        for name, value in labels.items():
            item.labels.add(name=name, value=value)
        for value, milliseconds in samples:
            item.samples.add(value=value, timestamp=milliseconds)
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


def test_prometheus_maps_name_instance_and_labels() -> None:
    ms = T0_NS // 1_000_000
    body = remote_write(
        ({"__name__": "up", "instance": "web-1:9100", "job": "node"}, [(1, ms), (0, ms + 15_000)]),
        ({"__name__": "go_goroutines", "job": "node"}, [(42, ms)]),
        ({"__name__": "rpc_seconds", "quantile": "0.5"}, [(math.nan, ms), (STALE_NAN, ms)]),
        ({"job": "nameless"}, [(1, ms)]),
    )
    decoded = prometheus.decode(body, 1 << 20)
    assert [(p.name, p.source, p.labels, p.value) for p in decoded.points] == [
        ("up", "web-1:9100", {"job": "node"}, 1.0),
        ("up", "web-1:9100", {"job": "node"}, 0.0),
        ("go_goroutines", "node", {}, 42.0),
    ]
    assert decoded.points[0].timestamp == T0
    assert decoded.skipped == 2  # NaN and the staleness marker: skipped, never refused
    assert [item.index for item in decoded.rejected] == [3]


def test_prometheus_refuses_unreadable_bodies() -> None:
    good = remote_write(({"__name__": "up"}, [(1, 1)]))
    with pytest.raises(BodyError, match="snappy"):
        prometheus.decode(b"\x05not snappy", 1 << 20)
    request = prometheus.WriteRequest()
    request.timeseries.add().labels.add(name="__name__", value="up")
    truncated = bytes(cramjam.snappy.compress_raw(request.SerializeToString()[:-2]))
    with pytest.raises(BodyError, match="WriteRequest"):
        prometheus.decode(truncated, 1 << 20)
    with pytest.raises(BodyTooLarge):
        prometheus.decode(good, 4)


# --- OTLP -------------------------------------------------------------------------------


def otlp_request() -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    resource = request.resource_metrics.add()
    resource.resource.attributes.add(key="service.name").value.string_value = "checkout"
    resource.resource.attributes.add(key="host.name").value.string_value = "web-1"
    metrics = resource.scope_metrics.add().metrics
    gauge = metrics.add(name="queue.depth").gauge.data_points.add(as_int=7, time_unix_nano=T0_NS)
    gauge.attributes.add(key="retry").value.bool_value = True
    counter = metrics.add(name="requests").sum
    counter.is_monotonic = True
    counter.data_points.add(as_double=12.5, time_unix_nano=T0_NS)
    counter.data_points.add(as_double=math.nan, time_unix_nano=T0_NS)
    counter.data_points.add(as_double=1, time_unix_nano=T0_NS, flags=1)  # no recorded value
    histogram = metrics.add(name="latency").histogram.data_points.add(
        time_unix_nano=T0_NS, count=4, sum=2.5, bucket_counts=[1, 2, 1], explicit_bounds=[0.1, 1]
    )
    assert histogram.count == 4
    summary = metrics.add(name="gc").summary.data_points.add(time_unix_nano=0, count=3, sum=0.3)
    summary.quantile_values.add(quantile=0.99, value=0.2)
    return request


def test_otlp_maps_gauges_sums_histograms_summaries() -> None:
    decoded = otlp.decode_protobuf(otlp_request().SerializeToString())
    found = {(p.name, tuple(sorted(p.labels.items()))): p.value for p in decoded.points}
    host = ("host.name", "web-1")
    assert found == {
        ("queue.depth", (host, ("retry", "true"))): 7.0,
        ("requests", (host,)): 12.5,
        ("latency_bucket", (host, ("le", "0.1"))): 1.0,
        ("latency_bucket", (host, ("le", "1"))): 3.0,
        ("latency_bucket", (host, ("le", "+Inf"))): 4.0,
        ("latency_count", (host,)): 4.0,
        ("latency_sum", (host,)): 2.5,
        ("gc", (host, ("quantile", "0.99"))): 0.2,
        ("gc_count", (host,)): 3.0,
        ("gc_sum", (host,)): 0.3,
    }
    assert {p.source for p in decoded.points} == {"checkout"}
    assert [p.timestamp for p in decoded.points if p.name == "gc"] == [None]  # server time
    assert decoded.skipped == 1
    assert [item.message for item in decoded.rejected] == ["requests: NaN"]


def test_otlp_json_as_exporters_write_it() -> None:
    document = json_format.MessageToDict(otlp_request())  # camelCase, int64 as strings
    assert document["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["gauge"]
    from_json = otlp.decode_json(orjson.dumps(document))
    assert from_json == otlp.decode_protobuf(otlp_request().SerializeToString())


def test_otlp_refuses_unreadable_bodies_and_answers_partial_success() -> None:
    with pytest.raises(BodyError):
        otlp.decode_protobuf(otlp_request().SerializeToString()[:-3])
    with pytest.raises(BodyError):
        otlp.decode_json(b'{"resourceMetrics": [')
    body, content_type = otlp.response(2, "two NaN", as_json=True)
    assert content_type == "application/json"
    assert orjson.loads(body) == {
        "partialSuccess": {"rejectedDataPoints": "2", "errorMessage": "two NaN"}
    }
    assert otlp.response(0, "", as_json=False) == (b"", "application/x-protobuf")


# --- InfluxDB line protocol ---------------------------------------------------------------


def test_line_protocol_maps_fields_tags_and_extra_labels() -> None:
    text = (
        'cpu,host=web-1,region=eu usage_idle=97.5,usage_user=1i,up=t,note="a b, c" 1767225600\n'
        "# a comment\n"
        "disk\\ io,source=db-1,path=/var\\,log,db=mine reads=3u\n"
    )
    decoded = influx.decode(text, "s", {"db": "telegraf"})
    found = [(p.name, p.source, p.labels, p.timestamp, p.value) for p in decoded.points]
    tags = {"region": "eu", "db": "telegraf"}
    assert found == [
        ("cpu.usage_idle", "web-1", tags, T0, 97.5),
        ("cpu.usage_user", "web-1", tags, T0, 1.0),
        ("cpu.up", "web-1", tags, T0, 1.0),
        ("disk_io.reads", "db-1", {"path": "/var,log", "db": "mine"}, None, 3.0),
    ]
    assert decoded.skipped == 1  # the string field
    assert decoded.rejected == []


@pytest.mark.parametrize(
    ("precision", "stamp"),
    [("ns", T0_NS), ("us", T0_NS // 1000), ("ms", T0_NS // 10**6), ("m", T0_NS // (60 * 10**9))],
)
def test_line_protocol_precisions(precision: str, stamp: int) -> None:
    decoded = influx.decode(f"m v=1 {stamp}", precision)
    assert decoded.points[0].timestamp == T0


def test_line_protocol_rejects_bad_lines_alone() -> None:
    text = "\n".join(
        [
            "ok v=1",
            "bad v=oops",
            "nofields",
            "ok w=2 notatime",
            "ok x=NaN",
            "ok y=1 99999999999999999999",
            'ok z="unterminated',
            "ok v=3",
        ]
    )
    decoded = influx.decode(text)
    assert [p.value for p in decoded.points] == [1.0, 3.0]
    assert [item.line for item in decoded.rejected] == [2, 3, 4, 5, 6, 7]
    assert decoded.rejected[0].message == "unable to parse 'bad v=oops': invalid number 'oops'"


# --- collectd ---------------------------------------------------------------------------


def value_list(**fields: object) -> dict[str, object]:
    base = {"values": [1.5], "dstypes": ["gauge"], "dsnames": ["value"], "time": 1767225600.0,
            "interval": 10.0, "host": "web-1", "plugin": "cpu", "plugin_instance": "",
            "type": "percent", "type_instance": "active"}  # fmt: skip
    return {**base, **fields}


def test_collectd_names_sources_and_labels() -> None:
    body = orjson.dumps(
        [
            value_list(),
            value_list(plugin="memory", type="memory", type_instance="used", values=[2e9]),
            value_list(plugin="load", type="load", type_instance="", values=[0.1, 0.2, None],
                       dsnames=["shortterm", "midterm", "longterm"], dstypes=["gauge"] * 3),
            value_list(plugin="interface", plugin_instance="eth0", type="if_octets",
                       type_instance="", values=[10, 20], dsnames=["rx", "tx"]),
            value_list(values=[1, 2]),
            value_list(values=["x"]),
        ]
    )  # fmt: skip
    decoded = collectd.decode(body)
    assert [(p.name, p.source, p.labels, p.value) for p in decoded.points] == [
        ("cpu.percent.active", "web-1", {}, 1.5),
        ("memory.used", "web-1", {}, 2e9),
        ("load.shortterm", "web-1", {}, 0.1),
        ("load.midterm", "web-1", {}, 0.2),
        ("interface.if_octets.rx", "web-1", {"plugin_instance": "eth0"}, 10.0),
        ("interface.if_octets.tx", "web-1", {"plugin_instance": "eth0"}, 20.0),
    ]
    assert decoded.points[0].timestamp == T0
    assert decoded.skipped == 1
    assert [item.index for item in decoded.rejected] == [4, 5]


def test_collectd_refuses_what_is_not_an_array() -> None:
    with pytest.raises(BodyError):
        collectd.decode(b'{"values": [1]}')
    with pytest.raises(BodyError):
        collectd.decode(b"[{")


# --- Telegraf JSON ------------------------------------------------------------------------


def test_telegraf_json_batches_and_single_metrics() -> None:
    from dashapp.core.protocols import telegraf

    batch = {
        "metrics": [
            {"name": "cpu", "tags": {"host": "web-1", "cpu": "cpu0"}, "timestamp": 1767225600,
             "fields": {"usage_idle": 97.5, "up": True, "state": "ok"}},
            {"name": "mem", "fields": {"used": "x"}, "timestamp": "2026-01-01T00:00:00Z"},
            {"name": "bad", "fields": {"v": [1]}},
        ]
    }  # fmt: skip
    decoded = telegraf.decode(orjson.dumps(batch))
    assert [(p.name, p.source, p.labels, p.timestamp, p.value) for p in decoded.points] == [
        ("cpu.usage_idle", "web-1", {"cpu": "cpu0"}, T0, 97.5),
        ("cpu.up", "web-1", {"cpu": "cpu0"}, T0, 1.0),
    ]
    assert decoded.skipped == 2 and [item.index for item in decoded.rejected] == [2]
    one = telegraf.decode(b'{"name": "m", "fields": {"v": 1}, "timestamp": 1767225600000}', "ms")
    assert one.points[0].timestamp == T0
    with pytest.raises(BodyError):
        telegraf.decode(b"[1, 2]")
