"""OTLP/HTTP metrics: an ``ExportMetricsServiceRequest``, protobuf or JSON.

Mapping: the resource's ``service.name`` (else ``host.name``, else ``default``) is the
source; the other resource attributes and each point's attributes (the point's win) are
labels. Gauges and sums (cumulative or delta, monotonic or not) keep the metric name.
Histograms become ``<name>_bucket`` with label ``le`` (cumulative counts, the last
``le="+Inf"``), ``<name>_sum``, ``<name>_count`` (and ``_min``/``_max`` when sent);
exponential histograms ``_sum``/``_count``/``_min``/``_max``; summaries ``<name>`` with
label ``quantile``, ``<name>_sum`` and ``<name>_count``, as Prometheus names them.
A ``time_unix_nano`` of 0 means the server's time; points flagged "no recorded value"
are skipped; a NaN or infinite value is rejected (``partial_success``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)

from dashapp.core.protocols.points import (
    DEFAULT_SOURCE,
    BodyError,
    Decoded,
    Point,
    Rejected,
    from_epoch_ns,
    normalise_labels,
    normalise_name,
    normalise_source,
    storable,
    value_problem,
)

__all__ = ["ExportMetricsServiceResponse", "decode_json", "decode_protobuf", "response"]
SOURCE_ATTRIBUTES = ("service.name", "host.name")
NO_RECORDED_VALUE = 1
_MISSING = object()


def decode_protobuf(body: bytes) -> Decoded:
    """Points of a protobuf ``ExportMetricsServiceRequest``; BodyError if unreadable."""
    request = ExportMetricsServiceRequest()
    try:
        request.ParseFromString(body)
    except DecodeError as error:
        raise BodyError(f"the body is not an ExportMetricsServiceRequest: {error}") from None
    return _points(request)


def decode_json(body: bytes) -> Decoded:
    """Points of an OTLP/JSON ``ExportMetricsServiceRequest``; BodyError if unreadable."""
    request = ExportMetricsServiceRequest()
    try:
        json_format.Parse(body, request, ignore_unknown_fields=True)
    except (json_format.ParseError, UnicodeDecodeError, RecursionError) as error:
        raise BodyError(f"the body is not an OTLP/JSON metrics request: {error}") from None
    return _points(request)


def response(rejected: int, message: str, *, as_json: bool) -> tuple[bytes, str]:
    """The ``ExportMetricsServiceResponse`` body and its content type."""
    answer = ExportMetricsServiceResponse()
    if rejected or message:
        answer.partial_success.rejected_data_points = rejected
        answer.partial_success.error_message = message
    if as_json:
        return json_format.MessageToJson(answer, indent=None).encode(), "application/json"
    return answer.SerializeToString(), "application/x-protobuf"


def _text(value: object) -> str:
    """An ``AnyValue`` as label text."""
    kind = value.WhichOneof("value")  # type: ignore[attr-defined]
    if kind == "string_value":
        return value.string_value  # type: ignore[attr-defined]
    if kind == "bool_value":
        return "true" if value.bool_value else "false"  # type: ignore[attr-defined]
    if kind in ("int_value", "double_value"):
        return str(getattr(value, kind))
    if kind is None:
        return ""
    return json.dumps(json_format.MessageToDict(value), separators=(",", ":"), sort_keys=True)


def _attributes(pairs: Iterable[object]) -> dict[str, str]:
    return {pair.key: _text(pair.value) for pair in pairs}  # type: ignore[attr-defined]


def _bound(value: float) -> str:
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


class _Collector:
    """Accumulates the points of one request."""

    def __init__(self) -> None:
        self.points: list[Point] = []
        self.rejected: list[Rejected] = []
        self.skipped = 0
        self._stamps: dict[int, datetime | None] = {0: None}
        self._labels: dict[tuple[tuple[str, str], ...], dict[str, str]] = {}

    def labels(self, common: dict[str, str], point: object, **extra: str) -> dict[str, str]:
        """The point's labels; equal label sets share one dict (the writer memoises by it)."""
        attributes = point.attributes  # type: ignore[attr-defined]
        if not attributes and not extra:
            return common
        labels = normalise_labels({**common, **_attributes(attributes), **extra})
        return self._labels.setdefault(tuple(labels.items()), labels)

    def add(self, name: str, source: str, labels: dict[str, str], nanos: int, value: float) -> None:
        """Add a point (``name`` not yet normalised), or reject it with the reason."""
        self.add_normalised(normalise_name(name), source, labels, nanos, value)

    def add_normalised(
        self, name: str, source: str, labels: dict[str, str], nanos: int, value: float
    ) -> None:
        """Add a point whose name is already normalised, or reject it with the reason."""
        if not storable(value):
            self.rejected.append(Rejected(f"{name}: {value_problem(value)}"))
            return
        stamp = self._stamps.get(nanos, _MISSING)
        if stamp is _MISSING:
            try:
                stamp = self._stamps[nanos] = from_epoch_ns(nanos)
            except ValueError as error:
                self.rejected.append(Rejected(f"{name}: {error}"))
                return
        self.points.append(Point(name, source, labels, stamp, value))  # type: ignore[arg-type]


def _points(request: ExportMetricsServiceRequest) -> Decoded:
    out = _Collector()
    for resource_metrics in request.resource_metrics:
        common = _attributes(resource_metrics.resource.attributes)
        source = DEFAULT_SOURCE
        for key in SOURCE_ATTRIBUTES:
            if common.get(key):
                source = common.pop(key)
                break
        source = normalise_source(source)
        common = normalise_labels(common)
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                _metric(out, metric, source, common)
    return Decoded(out.points, out.rejected, out.skipped)


def _metric(out: _Collector, metric: object, source: str, common: dict[str, str]) -> None:
    name: str = metric.name  # type: ignore[attr-defined]
    kind = metric.WhichOneof("data")  # type: ignore[attr-defined]
    if kind is None:
        return
    points = getattr(metric, kind).data_points
    if kind in ("gauge", "sum"):
        _numbers(out, normalise_name(name), points, source, common)
        return
    for point in points:
        if point.flags & NO_RECORDED_VALUE:
            out.skipped += 1
            continue
        nanos = point.time_unix_nano
        labels = out.labels(common, point)
        if kind == "histogram":
            cumulative = 0
            bounds = [*map(_bound, point.explicit_bounds), "+Inf"]
            for bound, count in zip(bounds, point.bucket_counts, strict=False):
                cumulative += count
                bucket_labels = out.labels(common, point, le=bound)
                out.add(f"{name}_bucket", source, bucket_labels, nanos, float(cumulative))
        elif kind == "summary":
            for quantile in point.quantile_values:
                bound = _bound(quantile.quantile)
                quantile_labels = out.labels(common, point, quantile=bound)
                out.add(name, source, quantile_labels, nanos, quantile.value)
        out.add(f"{name}_count", source, labels, nanos, float(point.count))
        if kind == "summary" or point.HasField("sum"):
            out.add(f"{name}_sum", source, labels, nanos, point.sum)
        for extreme in ("min", "max"):
            if kind != "summary" and point.HasField(extreme):
                out.add(f"{name}_{extreme}", source, labels, nanos, getattr(point, extreme))


def _numbers(
    out: _Collector, name: str, points: Iterable[Any], source: str, common: dict[str, str]
) -> None:
    """Gauge and sum points: the bulk of most exports, so kept to the fewest field reads."""
    add, labels_of = out.add_normalised, out.labels
    for point in points:
        if point.flags & NO_RECORDED_VALUE:
            out.skipped += 1
            continue
        value = float(point.as_int) if point.WhichOneof("value") == "as_int" else point.as_double
        add(name, source, labels_of(common, point), point.time_unix_nano, value)
