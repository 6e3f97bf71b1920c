"""Prometheus remote write 1.0: a snappy-compressed (block format) ``WriteRequest``.

Mapping: ``__name__`` is the metric name, ``instance`` (else ``job``, else ``default``)
the source, every other label a label. Sample timestamps are epoch milliseconds.
NaN (staleness markers and summaries without observations) and infinite samples, and
native histograms, are skipped: a numeric series cannot store them, and refusing
them would make Prometheus drop the valid samples sent with them.
"""

from __future__ import annotations

from datetime import datetime

import cramjam
from google.protobuf.message import DecodeError

from dashapp.core.protocols.points import (
    DEFAULT_SOURCE,
    BodyError,
    BodyTooLarge,
    Decoded,
    Point,
    Rejected,
    from_epoch_ns,
    normalise_labels,
    normalise_name,
    normalise_source,
    storable,
)
from dashapp.core.protocols.prometheus_remote_write_pb2 import WriteRequest

__all__ = ["WriteRequest", "decode", "snappy_block"]


def _declared_length(data: bytes) -> int:
    """The uncompressed length a snappy block declares in its leading varint."""
    length, shift = 0, 0
    for position, byte in enumerate(data[:10]):
        length |= (byte & 0x7F) << shift
        if byte < 0x80:
            return length
        shift += 7
        if position == 9:
            break
    raise BodyError("the body is not snappy (block format): bad length header")


def snappy_block(data: bytes, limit: int) -> bytes:
    """Decompress snappy block format, refusing output past ``limit`` bytes."""
    if _declared_length(data) > limit:
        raise BodyTooLarge(f"the decompressed body exceeds {limit} bytes")
    try:
        return bytes(cramjam.snappy.decompress_raw(data))
    except cramjam.DecompressionError as error:
        raise BodyError(f"the body is not valid snappy (block format): {error}") from None


def decode(body: bytes, limit: int) -> Decoded:
    """Points of a compressed remote-write body; BodyError if it cannot be read."""
    request = WriteRequest()
    try:
        request.ParseFromString(snappy_block(body, limit))
    except DecodeError as error:
        raise BodyError(f"the body is not a prometheus.WriteRequest: {error}") from None
    points: list[Point] = []
    rejected: list[Rejected] = []
    skipped = 0
    stamps: dict[int, datetime] = {}
    append = points.append
    for index, series in enumerate(request.timeseries):
        labels = {label.name: label.value for label in series.labels}
        name = labels.pop("__name__", "")
        if not name:
            rejected.append(Rejected("the series has no __name__ label", index))
            continue
        source = labels.pop("instance", "") or labels.pop("job", "") or DEFAULT_SOURCE
        name, source = normalise_name(name), normalise_source(source)
        labels = normalise_labels(labels)
        skipped += len(series.histograms)
        for sample in series.samples:
            value = sample.value
            if not storable(value):  # NaN (incl. staleness markers) or infinite
                skipped += 1
                continue
            milliseconds = sample.timestamp
            stamp = stamps.get(milliseconds)
            if stamp is None:
                try:
                    stamp = stamps[milliseconds] = from_epoch_ns(milliseconds * 1_000_000)
                except ValueError as error:
                    rejected.append(Rejected(f"{name}: {error}", index))
                    continue
            append(Point(name, source, labels, stamp, value))
    return Decoded(points, rejected, skipped)
