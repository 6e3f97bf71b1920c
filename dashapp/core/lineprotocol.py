"""InfluxDB line protocol -> dashapp points.

``cpu,host=web-1,region=eu usage_idle=97.5,usage_user=1.2 1700000000000000000``
becomes one point per numeric field: metric ``measurement.field`` (``cpu.usage_idle``),
source from the ``source`` tag (else ``host``, else ``default``), the other tags as
labels. Integers (``12i``, ``12u``), floats and booleans (as 1/0) are stored; string
fields are skipped. Timestamps are integers in the request's precision (default ns);
a line without one gets the server time.
"""

from __future__ import annotations

import math
import re
from typing import Any

from dashapp.core.points import INT64_MAX, INT64_MIN, MAX_ERRORS, MAX_MAGNITUDE, IngestError
from dashapp.core.protocols.influx import unescape

DEFAULT_SOURCE = "default"
PRECISIONS = {"n": "ns", "ns": "ns", "u": "us", "us": "us", "ms": "ms", "s": "s"}
_TRUE = frozenset({"t", "T", "true", "True", "TRUE"})
_FALSE = frozenset({"f", "F", "false", "False", "FALSE"})
UINT64_MAX = 2**64 - 1
# ASCII digits only: Python's int() and float() also take "1_000" and other scripts' digits.
_INTEGER = re.compile(r"[-+]?[0-9]+", re.ASCII)
_FLOAT = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?", re.ASCII)
_TIMESTAMP = re.compile(r"-?[0-9]{1,19}", re.ASCII)  # int64 has 19 digits


class LineError(ValueError):
    """A line could not be parsed; the message says why."""


def _split(text: str, separator: str, *, quotes: bool = False, limit: int = -1) -> list[str]:
    """Split on ``separator`` where it is neither escaped nor (with ``quotes``) quoted."""
    if "\\" not in text and not (quotes and '"' in text):
        return text.split(separator, limit) if limit >= 0 else text.split(separator)
    parts, current, quoted, escaped = [], [], False, False
    for char in text:
        if escaped:
            current.append(char)
            escaped = False
        elif char == "\\":
            current.append(char)
            escaped = True
        elif quotes and char == '"':
            quoted = not quoted
            current.append(char)
        elif char == separator and not quoted and (limit < 0 or len(parts) < limit):
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if quoted:
        raise LineError("unterminated string field")
    parts.append("".join(current))
    return parts


def _field_value(raw: str) -> float | None:
    """The numeric value of a field, None for a string field; LineError if malformed."""
    if not raw:
        raise LineError("a field has no value")
    if raw[0] == '"':
        return None
    if raw in _TRUE:
        return 1.0
    if raw in _FALSE:
        return 0.0
    if raw[-1] in "iu":
        digits = raw[:-1]
        if not _INTEGER.fullmatch(digits):
            raise LineError(f"not an integer: {raw[:40]!r}")
        number = int(digits) if len(digits) <= 21 else UINT64_MAX + 1  # int() caps digits
        low, high = (INT64_MIN, INT64_MAX) if raw[-1] == "i" else (0, UINT64_MAX)
        if not low <= number <= high:
            kind = "int64" if raw[-1] == "i" else "uint64"
            raise LineError(f"integer out of {kind} range: {raw[:40]!r}")
        return float(number)
    if not _FLOAT.fullmatch(raw):
        raise LineError(f"not a number (finite, ASCII digits): {raw[:40]!r}")
    value = float(raw)
    if not math.isfinite(value) or abs(value) > MAX_MAGNITUDE:
        raise LineError(f"not a finite number within ±1e300: {raw[:40]!r}")
    return value


def parse_line(line: str) -> list[dict[str, Any]]:
    """The points of one line (without validating names: the ingest models do that)."""
    sections = _split(line, " ", quotes=True)
    sections = [part for part in sections if part != ""]
    if len(sections) not in (2, 3):
        raise LineError("expected 'measurement[,tags] fields [timestamp]'")
    series, fields = _split(sections[0], ","), _split(sections[1], ",", quotes=True)
    measurement = unescape(series[0])
    if not measurement:
        raise LineError("the measurement is empty")
    tags: dict[str, str] = {}
    for tag in series[1:]:
        pair = _split(tag, "=", limit=1)
        if len(pair) != 2 or not pair[0]:
            raise LineError(f"tag {tag!r} is not key=value")
        tags[unescape(pair[0])] = unescape(pair[1])
    source = tags.pop("source", None) or tags.pop("host", None) or DEFAULT_SOURCE
    timestamp = None
    if len(sections) == 3:
        if not _TIMESTAMP.fullmatch(sections[2]):
            raise LineError(f"the timestamp {sections[2][:40]!r} is not an int64 integer")
        timestamp = int(sections[2])
    points = []
    for field in fields:
        pair = _split(field, "=", limit=1)
        if len(pair) != 2 or not pair[0]:
            raise LineError(f"field {field!r} is not key=value")
        value = _field_value(pair[1])
        if value is None:
            continue
        point: dict[str, Any] = {
            "name": f"{measurement}.{unescape(pair[0])}",
            "source": source,
            "value": value,
            "timestamp": timestamp,
        }
        if tags:
            point["labels"] = tags
        points.append(point)
    return points


def parse(text: str) -> tuple[list[dict[str, Any]], list[int]]:
    """Points of a line-protocol body, with the line number of each; IngestError if bad."""
    points: list[dict[str, Any]] = []
    lines: list[int] = []
    errors: list[dict[str, Any]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            found = parse_line(line)
        except LineError as error:
            errors.append({"index": None, "line": number, "field": "(line)", "message": str(error)})
            if len(errors) >= MAX_ERRORS:
                break
            continue
        points += found
        lines += [number] * len(found)
    if errors:
        raise IngestError(errors, status=400)
    return points, lines


def precision(value: str) -> str:
    """dashapp's precision name for an InfluxDB one (``n`` -> ``ns``, ``u`` -> ``us``)."""
    return PRECISIONS[value]
