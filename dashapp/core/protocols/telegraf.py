"""Telegraf's JSON serializer (``data_format = "json"``), as ``outputs.http`` posts it.

A batch ``{"metrics": [{"name", "tags", "fields", "timestamp"}, ...]}`` or one such
object. Mapped like line protocol: each numeric or boolean field becomes metric
``name.field``, the ``source`` tag (else ``host``, else ``default``) the source, the
other tags labels; string fields are skipped. ``timestamp`` is an integer in
``json_timestamp_units`` (tell the server with ``?precision=``, default ``s``) or an
RFC 3339 string (``json_timestamp_format``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson

from dashapp.core.protocols.influx import NANOSECONDS
from dashapp.core.protocols.points import (
    DEFAULT_SOURCE,
    LATEST,
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


def decode(body: bytes, precision: str = "s") -> Decoded:
    """Points of a Telegraf JSON body; BodyError unless it is JSON of that shape."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BodyError(f"the body is not valid JSON: {error}") from None
    if isinstance(document, dict) and isinstance(document.get("metrics"), list):
        items = document["metrics"]
    elif isinstance(document, dict):
        items = [document]
    else:
        raise BodyError('expected {"metrics": [...]} or one metric object, as Telegraf sends')
    points: list[Point] = []
    rejected: list[Rejected] = []
    skipped = 0
    for index, item in enumerate(items):
        try:
            found, strings = _metric(item, NANOSECONDS[precision])
        except (ValueError, TypeError, KeyError) as error:
            rejected.append(Rejected(f"metric {index}: {error}", index))
            continue
        points += found
        skipped += strings
    return Decoded(points, rejected, skipped)


def _stamp(raw: Any, multiplier: int) -> datetime | None:
    if raw is None:
        return None
    if isinstance(raw, str):
        stamp = datetime.fromisoformat(raw)
        if stamp.tzinfo is None:
            raise ValueError("an RFC 3339 timestamp needs a time zone")
        stamp = stamp.astimezone(UTC)
        if not from_epoch_ns(0) <= stamp < LATEST:
            raise ValueError("timestamp must be between 1970 and 2200")
        return stamp
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise TypeError(f"timestamp {raw!r} is not a number or an RFC 3339 string")
    return from_epoch_ns(int(raw * multiplier))


def _metric(item: Any, multiplier: int) -> tuple[list[Point], int]:
    if not isinstance(item, dict):
        raise TypeError("not an object")
    name, fields = item["name"], item["fields"]
    tags = item.get("tags") or {}
    if not isinstance(name, str) or not isinstance(fields, dict) or not isinstance(tags, dict):
        raise TypeError("name must be a string, fields and tags objects")
    tags = {str(key): str(value) for key, value in tags.items()}
    source = normalise_source(tags.pop("source", None) or tags.pop("host", None) or DEFAULT_SOURCE)
    labels = normalise_labels(tags)
    stamp = _stamp(item.get("timestamp"), multiplier)
    found, strings = [], 0
    for field, value in fields.items():
        if isinstance(value, str):
            strings += 1
            continue
        if not isinstance(value, int | float):
            raise TypeError(f"field {field!r} is not a number")
        value = float(value)
        if not storable(value):
            raise ValueError(f"field {field!r}: {value_problem(value)}")
        found.append(Point(normalise_name(f"{name}.{field}"), source, labels, stamp, value))
    return found, strings
