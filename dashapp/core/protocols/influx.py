"""InfluxDB line protocol (v1 ``/write`` and v2 ``/api/v2/write``), with partial writes.

``cpu,host=web-1,region=eu usage_idle=97.5,usage_user=1.2 1700000000000000000`` gives
one point per numeric field: metric ``measurement.field`` (``cpu.usage_idle``), source
from the ``source`` tag (else ``host``, else ``default``), the other tags as labels.
Integers (``12i``, ``12u``), floats and booleans (1/0) are stored; string fields are
skipped. Timestamps are integers in the request's precision (default ns); a line
without one gets the server's time. A line that cannot be parsed is rejected on its
own, as InfluxDB does: the other lines are stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from dashapp.core.protocols.points import (
    DEFAULT_SOURCE,
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

NANOSECONDS = {
    "ns": 1,
    "n": 1,
    "us": 1_000,
    "u": 1_000,
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_BOOLEANS = {
    **dict.fromkeys(("t", "T", "true", "True", "TRUE"), 1.0),
    **dict.fromkeys(("f", "F", "false", "False", "FALSE"), 0.0),
}
_SKIP = object()


class LineError(ValueError):
    """A line could not be parsed; the message says why."""


def _split(text: str, separator: str, *, quotes: bool = False, limit: int = -1) -> list[str]:
    """Split on ``separator`` where it is neither escaped nor (with ``quotes``) quoted."""
    if "\\" not in text and not (quotes and '"' in text):
        return text.split(separator, limit)
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif quotes and char == '"':
            quoted = not quoted
        elif char == separator and not quoted and (limit < 0 or len(parts) < limit):
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if quoted:
        raise LineError("unterminated string field")
    parts.append("".join(current))
    return parts


def unescape(text: str) -> str:
    """Line protocol's backslash escapes (of ``,``, ``=``, space, ``"`` and ``\\``) undone."""
    if "\\" not in text:
        return text
    out: list[str] = []
    escaped = False
    for char in text:
        if escaped:
            if char not in ',= "\\':
                out.append("\\")
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append(char)
    if escaped:
        out.append("\\")
    return "".join(out)


def _value(raw: str) -> float | object:
    """A field's numeric value, ``_SKIP`` for a string field; LineError if malformed."""
    try:
        return float(raw)
    except ValueError:
        pass
    if not raw:
        raise LineError("a field has no value")
    if raw[0] == '"':
        return _SKIP
    boolean = _BOOLEANS.get(raw)
    if boolean is not None:
        return boolean
    if raw[-1] in "iu":
        try:
            return float(int(raw[:-1]))
        except ValueError:
            raise LineError(f"invalid integer {raw!r}") from None
    raise LineError(f"invalid number {raw!r}")


def _sections(line: str) -> list[str]:
    if "\\" not in line and '"' not in line:
        sections = line.split(" ")
    else:
        sections = _split(line, " ", quotes=True)
    if len(sections) not in (2, 3):
        sections = [part for part in sections if part]
        if len(sections) not in (2, 3):
            raise LineError("expected 'measurement[,tag=value...] field=value[,...] [time]'")
    return sections


class _Series(NamedTuple):
    """What a line's ``measurement,tags`` part decodes to, memoised per request."""

    measurement: str
    source: str
    labels: dict[str, str]
    names: dict[str, str]  # field key -> normalised metric name


class _Parser:
    """Parses the lines of one request, sharing memoised series, names and timestamps.

    Agents repeat the same ``measurement,tags`` for many lines and the same timestamp for
    many series, so each distinct one is decoded once per request.
    """

    def __init__(self, multiplier: int, extra_labels: dict[str, str]) -> None:
        self.multiplier = multiplier
        self.extra = extra_labels
        self.stamps: dict[str, datetime] = {}
        self.series: dict[str, _Series] = {}
        self.skipped = 0

    def line(self, line: str, out: list[Point]) -> None:
        sections = _sections(line)
        series = self.series.get(sections[0])
        if series is None:
            series = self.series[sections[0]] = self._series(sections[0])
        stamp = self._stamp(sections[2]) if len(sections) == 3 else None
        fields = sections[1]
        if "\\" in fields or '"' in fields:
            pairs = [_tag(field) for field in _split(fields, ",", quotes=True)]
        else:
            pairs = [field.partition("=") for field in fields.split(",")]
        found = []
        source, labels, names = series.source, series.labels, series.names
        for key, equals, raw in pairs:
            if not equals or not key:
                raise LineError(f"field {key + equals + raw!r} is not key=value")
            value = _value(raw)
            if value is _SKIP:
                self.skipped += 1
                continue
            if not storable(value):  # type: ignore[arg-type]
                raise LineError(f"field {key!r}: {value_problem(value)}")  # type: ignore[arg-type]
            name = names.get(key)
            if name is None:
                name = names[key] = normalise_name(f"{series.measurement}.{unescape(key)}")
            found.append(Point(name, source, labels, stamp, value))  # type: ignore[arg-type]
        out += found

    def _series(self, text: str) -> _Series:
        parts = _split(text, ",")
        measurement = unescape(parts[0])
        if not measurement:
            raise LineError("missing measurement")
        tags: dict[str, str] = {}
        for tag in parts[1:]:
            key, equals, value = tag.partition("=") if "\\" not in tag else _tag(tag)
            if not equals or not key:
                raise LineError(f"tag {tag!r} is not key=value")
            tags[unescape(key)] = unescape(value)
        source = tags.pop("source", None) or tags.pop("host", None) or DEFAULT_SOURCE
        for key, value in self.extra.items():
            tags.setdefault(key, value)
        return _Series(measurement, normalise_source(source), normalise_labels(tags), {})

    def _stamp(self, text: str) -> datetime:
        stamp = self.stamps.get(text)
        if stamp is None:
            try:
                nanoseconds = int(text) * self.multiplier
            except ValueError:
                raise LineError(f"invalid timestamp {text!r}") from None
            try:
                stamp = self.stamps[text] = from_epoch_ns(nanoseconds)
            except ValueError as error:
                raise LineError(str(error)) from None
        return stamp


def _tag(text: str) -> tuple[str, str, str]:
    parts = _split(text, "=", limit=1)
    return (parts[0], "=", parts[1]) if len(parts) == 2 else (parts[0], "", "")


def decode(text: str, precision: str = "ns", extra_labels: dict[str, str] | None = None) -> Decoded:
    """Points of a line-protocol body; each bad line is rejected alone (``line`` set).

    ``precision`` is one of ``NANOSECONDS``; ``extra_labels`` (a database, bucket or
    org) are added to every point unless the line has a tag of the same name.
    """
    parser = _Parser(NANOSECONDS[precision], extra_labels or {})
    points: list[Point] = []
    rejected: list[Rejected] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line or line[0] == "#":
            continue
        try:
            parser.line(line, points)
        except LineError as error:
            shown = line if len(line) <= 120 else line[:117] + "..."
            rejected.append(Rejected(f"unable to parse '{shown}': {error}", line=number))
    return Decoded(points, rejected, parser.skipped)
