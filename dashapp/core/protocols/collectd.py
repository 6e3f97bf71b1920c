"""collectd ``write_http`` plugin, ``Format "JSON"``: an array of value lists.

Each value list (``values``, ``dstypes``, ``dsnames``, ``time``, ``host``, ``plugin``,
``plugin_instance``, ``type``, ``type_instance``) gives one point per data source. The
name joins, with dots, the plugin, the type (left out when it repeats the plugin), the
type instance and the data source name (left out when it is ``value``):
``cpu.percent.active``, ``memory.used``, ``load.shortterm``, ``interface.if_octets.rx``.
The host is the source; a plugin instance becomes label ``plugin_instance``. Counters
and derives are stored as sent (running totals): query them with ``agg=rate``.
Values collectd could not read arrive as ``null`` and are skipped.
"""

from __future__ import annotations

from typing import Any

import orjson

from dashapp.core.protocols.points import (
    BodyError,
    Decoded,
    Point,
    Rejected,
    from_epoch_seconds,
    normalise_labels,
    normalise_name,
    normalise_source,
    storable,
    value_problem,
)


def metric_name(item: dict[str, Any], dsname: str) -> str:
    """The dotted metric name of one data source of a value list (module docstring)."""
    plugin, kind = item.get("plugin") or "", item.get("type") or ""
    parts = [plugin, kind if kind != plugin else "", item.get("type_instance") or ""]
    parts.append(dsname if dsname != "value" else "")
    return normalise_name(".".join(str(part) for part in parts if part))


def decode(body: bytes) -> Decoded:
    """Points of a ``write_http`` JSON body; BodyError unless it is a JSON array."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BodyError(f"the body is not valid JSON: {error}") from None
    if not isinstance(document, list):
        raise BodyError("expected a JSON array of value lists, as collectd's write_http sends")
    points: list[Point] = []
    rejected: list[Rejected] = []
    skipped = 0
    for index, item in enumerate(document):
        try:
            found, nulls = _value_list(item)
        except (ValueError, TypeError, KeyError) as error:
            rejected.append(Rejected(f"value list {index}: {error}", index))
            continue
        points += found
        skipped += nulls
    return Decoded(points, rejected, skipped)


def _value_list(item: Any) -> tuple[list[Point], int]:
    if not isinstance(item, dict):
        raise TypeError("not an object")
    values, dsnames = item["values"], item.get("dsnames") or ["value"]
    if not isinstance(values, list) or not isinstance(dsnames, list):
        raise TypeError("values and dsnames must be arrays")
    if len(values) != len(dsnames):
        raise ValueError("values and dsnames differ in length")
    moment = item.get("time")
    stamp = None if moment in (None, 0) else from_epoch_seconds(float(moment))
    source = normalise_source(str(item.get("host") or ""))
    instance = item.get("plugin_instance")
    labels = normalise_labels({"plugin_instance": str(instance)} if instance else {})
    found, nulls = [], 0
    for value, dsname in zip(values, dsnames, strict=True):
        if value is None:
            nulls += 1
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError(f"value {value!r} is not a number")
        value = float(value)
        if not storable(value):
            raise ValueError(value_problem(value))
        found.append(Point(metric_name(item, str(dsname)), source, labels, stamp, value))
    return found, nulls
