"""Units: one formatter for every number a panel prints (values, axis ticks, tooltips,
gauge dials, tables, CSV headers).

Unit ids are Grafana's (``bytes``, ``decbytes``, ``s``, ``ms``, ``percentunit``,
``reqps``, ``Bps``, ``currencyUSD``, ...), so imported dashboards keep theirs; this
app's older names (``seconds``) stay aliases. Custom units follow Grafana too:
``suffix:rpm``, ``prefix:≈``, ``si:W`` (SI-scaled), ``count:jobs``, ``currency:CHF``.
Pure functions only: layouts turn the results into plotly settings.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

NO_VALUE = "\u2013"  # an en dash, as dashboards print a missing number
Step = tuple[float, str]  # (factor, text after the number at that factor)


@dataclass(frozen=True)
class UnitDef:
    """How one unit prints: a multiplier to its base, the steps of its scale (factor and
    the text after the number), text before the number, and words for labels."""

    label: str
    steps: tuple[Step, ...] = ((1.0, ""),)
    prefix: str = ""
    multiplier: float = 1.0
    scales_down: bool = False  # durations: 0.004 s is 4 ms; bytes never go below 1 B
    header: str = ""  # how a CSV header names the raw values ("bytes", "ms")
    group: str = "misc"


def _powers(base: float, names: Sequence[str], symbol: str, space: str = " ") -> tuple[Step, ...]:
    return tuple((base**power, f"{space}{name}{symbol}") for power, name in enumerate(names))


_SI = ("", "k", "M", "G", "T", "P")
_IEC = ("", "Ki", "Mi", "Gi", "Ti", "Pi")
_SHORT = ((1.0, ""), (1e3, "k"), (1e6, "M"), (1e9, "G"), (1e12, "T"))
_MONEY = ((1.0, ""), (1e3, "K"), (1e6, "M"), (1e9, "B"), (1e12, "T"))
_TIME = (
    (1e-9, " ns"), (1e-6, " µs"), (1e-3, " ms"), (1.0, " s"),
    (60.0, " min"), (3600.0, " h"), (86400.0, " d"),
)  # fmt: skip


def _rate(suffix: str) -> tuple[Step, ...]:
    return tuple((factor, f"{text} {suffix}") for factor, text in _SHORT)


def _duration(label: str, multiplier: float, header: str) -> UnitDef:
    return UnitDef(label, _TIME, multiplier=multiplier, scales_down=True, header=header,
                   group="time")  # fmt: skip


# fmt: off
UNITS: dict[str, UnitDef] = {
    "none": UnitDef("none (the number as it is)", group="misc"),
    "short": UnitDef("short (1.2k, 3.4M)", _SHORT, group="misc"),
    "percent": UnitDef("percent (0-100)", ((1.0, "%"),), header="percent 0-100", group="misc"),
    "percentunit": UnitDef(
        "percent (0.0-1.0)", ((1.0, "%"),), multiplier=100.0, header="ratio 0-1", group="misc"
    ),
    "bytes": UnitDef(
        "bytes (IEC: KiB, MiB, GiB)", _powers(1024, _IEC, "B"), header="bytes", group="data"
    ),
    "decbytes": UnitDef(
        "bytes (SI: kB, MB, GB)", _powers(1000, _SI, "B"), header="bytes", group="data"
    ),
    "kbytes": UnitDef(
        "kibibytes", _powers(1024, _IEC, "B"), multiplier=1024.0, header="KiB", group="data"
    ),
    "mbytes": UnitDef(
        "mebibytes", _powers(1024, _IEC, "B"), multiplier=1024.0**2, header="MiB", group="data"
    ),
    "gbytes": UnitDef(
        "gibibytes", _powers(1024, _IEC, "B"), multiplier=1024.0**3, header="GiB", group="data"
    ),
    "bits": UnitDef("bits (IEC: Kib, Mib)", _powers(1024, _IEC, "b"), header="bits", group="data"),
    "decbits": UnitDef("bits (SI: kb, Mb)", _powers(1000, _SI, "b"), header="bits", group="data"),
    "Bps": UnitDef(
        "bytes/s (SI: kB/s, MB/s)", _powers(1000, _SI, "B/s"), header="bytes/s", group="data rate"
    ),
    "binBps": UnitDef(
        "bytes/s (IEC: KiB/s)", _powers(1024, _IEC, "B/s"), header="bytes/s", group="data rate"
    ),
    "bps": UnitDef(
        "bits/s (SI: kb/s, Mb/s)", _powers(1000, _SI, "b/s"), header="bits/s", group="data rate"
    ),
    "s": _duration("seconds", 1.0, "s"),
    "ms": _duration("milliseconds", 1e-3, "ms"),
    "us": _duration("microseconds", 1e-6, "µs"),
    "ns": _duration("nanoseconds", 1e-9, "ns"),
    "m": _duration("minutes", 60.0, "min"),
    "h": _duration("hours", 3600.0, "h"),
    "d": _duration("days", 86400.0, "d"),
    "hertz": UnitDef(
        "hertz (Hz, kHz, MHz)", _powers(1000, _SI, "Hz"), header="Hz", group="misc"
    ),
    "reqps": UnitDef("requests/s", _rate("req/s"), header="req/s", group="throughput"),
    "ops": UnitDef("operations/s", _rate("ops/s"), header="ops/s", group="throughput"),
    "rps": UnitDef("reads/s", _rate("rd/s"), header="reads/s", group="throughput"),
    "wps": UnitDef("writes/s", _rate("wr/s"), header="writes/s", group="throughput"),
    "iops": UnitDef("I/O operations/s", _rate("io/s"), header="io/s", group="throughput"),
    "celsius": UnitDef("degrees Celsius", ((1.0, " °C"),), header="°C", group="temperature"),
    "fahrenheit": UnitDef(
        "degrees Fahrenheit", ((1.0, " °F"),), header="°F", group="temperature"
    ),
    "currencyUSD": UnitDef("dollars ($)", _MONEY, prefix="$", header="USD", group="currency"),
    "currencyEUR": UnitDef("euros (€)", _MONEY, prefix="€", header="EUR", group="currency"),
    "currencyGBP": UnitDef("pounds (£)", _MONEY, prefix="£", header="GBP", group="currency"),
}
# fmt: on
ALIASES = {"seconds": "s", "µs": "us", "Hz": "hertz"}
"""Other names of a unit: this app's older names, and spellings Grafana accepts."""
# No markup or template characters: the text lands in plotly labels and tooltips.
CUSTOM = re.compile(r"^(suffix|prefix|si|count|currency):([^<>&%{}\\]{1,20})$")


def is_unit(unit: str) -> bool:
    """Whether ``unit`` is a unit id, an alias of one, or a custom ``kind:text`` unit."""
    return unit in UNITS or unit in ALIASES or CUSTOM.match(unit) is not None


def unit_def(unit: str | None) -> UnitDef:
    """The definition of a unit id, alias or custom unit (unknown: as ``none``)."""
    unit = unit or "none"
    known = UNITS.get(ALIASES.get(unit, unit))
    if known is not None:
        return known
    custom = CUSTOM.match(unit)
    if custom is None:
        return UNITS["none"]
    kind, text = custom.groups()
    if kind == "suffix":
        return UnitDef(f"custom: … {text}", ((1.0, text),), header=text.strip())
    if kind == "prefix":
        return UnitDef(f"custom: {text} …", prefix=text, header=text.strip())
    if kind == "si":
        return UnitDef(f"custom SI: {text}", _powers(1000, _SI, text), header=text)
    if kind == "count":
        return UnitDef(f"custom count: {text}", _rate(text), header=text)
    return UnitDef(f"custom currency: {text}", _MONEY, prefix=text, header=text)


def unit_header(unit: str | None) -> str:
    """How a column of raw values in ``unit`` is named: ``value (bytes)``-style words, or
    empty for plain numbers."""
    return unit_def(unit).header


@cache
def _base_step(definition: UnitDef) -> Step:
    """The step a zero (or a value below the scale) prints in: 0 ms reads "0 ms"."""
    own = definition.multiplier if definition.scales_down else 1.0
    return next((s for s in definition.steps if math.isclose(s[0], own)), definition.steps[0])


def _step_for(definition: UnitDef, magnitude: float) -> Step:
    """The largest step of the unit's scale at or below ``magnitude``."""
    steps = definition.steps
    if magnitude == 0 or (magnitude < 1.0 and not definition.scales_down):
        return _base_step(definition)
    chosen = steps[0]
    for step in steps:
        if magnitude < step[0] * (1 - 1e-12):
            break
        chosen = step
    return chosen


def number_text(value: float, decimals: int | None = None) -> str:
    """A number with as many decimals as its size deserves (``decimals`` when given)."""
    if decimals is not None:
        return f"{value:.{decimals}f}"
    magnitude = abs(value)
    if magnitude >= 100 or value == int(value):
        return f"{value:.0f}"
    if magnitude >= 10:
        text = f"{value:.1f}"
        return f"{value:.0f}" if abs(float(text)) >= 100 else text  # 99.99 -> 100, not 100.0
    if magnitude < 1:
        return f"{value:.3g}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _render(
    definition: UnitDef, scaled: float, step: Step, decimals: int | None, trim: bool = False
) -> str:
    sign = "-" if scaled < 0 else ""
    number = number_text(abs(scaled), decimals)
    if trim and "." in number:  # ticks: 0.5 h, 1 h, 1.5 h
        number = number.rstrip("0").rstrip(".")
    return f"{sign}{definition.prefix}{number}{step[1]}"


def format_value(value: float | None, unit: str | None, decimals: int | None = None) -> str:
    """A value as people read it in ``unit``: ``7.22 GB``, ``6.72 GiB``, ``93.2%``,
    ``250 ms``, ``1.2k req/s``, ``$1.5K``; a missing value is an en dash."""
    return _format(unit_def(unit), value, decimals)


def _format(definition: UnitDef, value: float | None, decimals: int | None) -> str:
    if value is None or not math.isfinite(value):
        return NO_VALUE
    base = value * definition.multiplier
    step = _step_for(definition, abs(base))
    scaled = base / step[0]
    steps = definition.steps
    if decimals is None and abs(scaled) >= 999.5 and step != steps[-1]:
        bigger = steps[steps.index(step) + 1]  # 1023.9 KiB rounds to 1024: 1 MiB reads better
        if abs(base) / bigger[0] >= 0.9995:
            step, scaled = bigger, base / bigger[0]
    return _render(definition, scaled, step, decimals)


def format_values(values: Iterable[float | None], unit: str | None) -> list[str]:
    """:func:`format_value` of each value (the tooltips of a whole series)."""
    definition = unit_def(unit)
    return [_format(definition, value, None) for value in values]


def _nice(raw: float) -> float:
    """1, 2, 2.5 or 5 times a power of ten, at or above ``raw``."""
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power * (1 + 1e-9):
            return factor * power
    return 10 * power


def axis_ticks(
    unit: str | None, low: float, high: float, count: int = 6, log: bool = False
) -> tuple[list[float], list[str]]:
    """Tick positions (raw values) covering ``low``..``high`` at round numbers of the
    unit's own scale (2 GiB steps for bytes, 100 ms for durations), and their labels in
    the same words :func:`format_value` uses, so an axis reads like the values on it."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [], []
    if log:
        return _log_ticks(unit, low, high)
    low, high = min(low, high), max(low, high)
    if low == high:
        low, high = (low - 1, high + 1) if low == 0 else (low - abs(low) / 2, high + abs(high) / 2)
    definition = unit_def(unit)
    multiplier = definition.multiplier
    scale = _step_for(definition, max(abs(low), abs(high)) * multiplier)
    factor = scale[0] / multiplier  # raw units per scaled unit
    step = _nice((high - low) / factor / max(1, count - 1))
    first, last = math.floor(low / factor / step), math.ceil(high / factor / step)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) + (1 if step / 10 ** math.floor(
        math.log10(step) + 1e-9) == 2.5 else 0)  # fmt: skip
    values, texts = [], []
    for index in range(first, last + 1):
        scaled = round(index * step, 12)
        values.append(scaled * factor)
        texts.append(_render(definition, scaled, scale, decimals, trim=True))
    return values, texts


def labels_at(unit: str | None, values: Sequence[float]) -> list[str]:
    """Labels for evenly spaced values (a heatmap's bins) in one scale of ``unit``, with
    just the decimals that keep neighbours apart."""
    if not values:
        return []
    definition = unit_def(unit)
    multiplier = definition.multiplier
    scale = _step_for(definition, max(abs(v) for v in values) * multiplier)
    factor = scale[0] / multiplier
    gaps = [abs(b - a) / factor for a, b in itertools.pairwise(values) if b != a]
    decimals = max(0, -math.floor(math.log10(min(gaps)))) if gaps else 0
    return [_render(definition, v / factor, scale, decimals, trim=True) for v in values]


def _log_ticks(unit: str | None, low: float, high: float) -> tuple[list[float], list[str]]:
    """1, 10 and 100 of each step of the unit's scale (1 KiB, 10 KiB, 100 KiB, 1 MiB),
    or powers of ten for units without one, from just below ``low`` to above ``high``."""
    low, high = max(min(low, high), 1e-12), max(low, high, 1e-12)
    definition = unit_def(unit)
    factors = [f for f, _ in definition.steps]
    candidates = sorted(
        {f * m / definition.multiplier for i, f in enumerate(factors) for m in (1, 10, 100)
         if i + 1 == len(factors) or f * m < factors[i + 1]}
    )  # fmt: skip
    if len(factors) == 1:
        candidates = [10.0**p for p in range(math.floor(math.log10(low)),
                                             math.ceil(math.log10(high)) + 1)]  # fmt: skip
    below = [c for c in candidates if c <= low][-1:]
    above = [c for c in candidates if c >= high][:1]
    values = below + [c for c in candidates if low < c < high] + above
    return values, [format_value(v, unit) for v in values]


def nice_ceiling(unit: str | None, value: float | None) -> float:
    """A round top for a dial showing ``value``: 100 for percent, 1 for a ratio, else the
    first round tick of the unit's scale at or above the value."""
    name = ALIASES.get(unit or "", unit or "")
    if name == "percent":
        return 100.0
    if name == "percentunit":
        return 1.0
    if value is None or not math.isfinite(value) or value <= 0:
        return 100.0
    ticks, _ = axis_ticks(unit, 0, value, count=5)
    return next(t for t in ticks if t >= value)


def unit_choices() -> list[tuple[str, str]]:
    """(id, label) of every known unit, grouped as an editor lists them."""
    order = ["misc", "data", "data rate", "time", "throughput", "currency", "temperature"]
    ids = sorted(UNITS, key=lambda name: order.index(UNITS[name].group))
    return [(name, f"{UNITS[name].label}") for name in ids]
