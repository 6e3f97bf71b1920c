"""The dashboard spec: pydantic models for the JSON stored in ``dashboards.spec``.

Every write validates against :class:`DashboardSpec`; errors name the field
(``panels.2.grid.w``). ``schema_version`` lets old exports be upgraded on import.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import webcolors
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from dashapp.core import units
from dashapp.core.timerange import check_time, parse_duration
from dashapp.core.zones import BROWSER, zone_info

SCHEMA_VERSION = 2
REFRESH_CHOICES = ("off", "5s", "10s", "30s", "1m", "5m")
GRID_COLUMNS = 24

Aggregation = Literal["avg", "min", "max", "sum", "count", "last", "rate", "p50", "p90", "p99"]


def _known_unit(value: str) -> str:
    if not units.is_unit(value):
        raise ValueError(
            f"{value!r} is not a unit: use one of {', '.join(units.UNITS)}, or a custom "
            "suffix:TEXT, prefix:TEXT, si:SYMBOL, count:TEXT or currency:SYMBOL"
        )
    return value


Unit = Annotated[
    str,
    AfterValidator(_known_unit),
    WithJsonSchema(
        {
            "anyOf": [
                {"enum": [*units.UNITS, *units.ALIASES]},
                {"type": "string", "pattern": units.CUSTOM.pattern},
            ],
            "description": "a unit id (Grafana's: bytes, decbytes, s, ms, percentunit, reqps, "
            "...) or a custom suffix:TEXT, prefix:TEXT, si:SYMBOL, count:TEXT, currency:SYMBOL",
        }
    ),
]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
LabelKey = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_.\-]{0,99}$")]
HEX_COLOR = re.compile(r"^#([0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


def stored(info: ValidationInfo) -> bool:
    """Whether a document already stored is being read (``parse_spec(..., stored=True)``):
    rules added since it was saved must not lock anyone out of it, so they are skipped."""
    return bool(info.context and info.context.get("stored"))


def _real_color(value: str, info: ValidationInfo) -> str:
    if stored(info) or HEX_COLOR.match(value):
        return value
    try:
        webcolors.name_to_hex(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a colour: use a CSS colour name (red, teal, slategray) "
            "or #rgb / #rrggbb"
        ) from None
    return value


Color = Annotated[
    str,
    StringConstraints(pattern=r"^(#[0-9a-fA-F]{3,8}|[a-z]{3,20})$"),
    AfterValidator(_real_color),
    Field(description="a CSS colour name (red, teal) or #rgb, #rgba, #rrggbb, #rrggbbaa"),
]
# Per-panel colour overrides: series name (as the legend shows it) -> colour.
SeriesColors = Annotated[
    dict[Annotated[str, StringConstraints(min_length=1, max_length=200)], Color],
    Field(max_length=50, description="series name -> colour, overriding the automatic one"),
]
VARIABLE_REF = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")


class Model(BaseModel):
    """Base for spec models: unknown fields are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TimeSpec(Model):
    """The view a dashboard opens with: its range (relative like ``now-6h``, or absolute)
    and how often it refreshes (``off``, ``5s``, ``1m``, ...)."""

    from_: str = Field(default="now-6h", alias="from")
    to: str = "now"
    refresh: str = "off"
    timezone: str = Field(
        default="browser", max_length=64, description="browser, UTC or an IANA zone name"
    )

    @field_validator("timezone")
    @classmethod
    def _valid_zone(cls, value: str) -> str:
        if value != BROWSER:
            zone_info(value)
        return value

    @field_validator("from_", "to")
    @classmethod
    def _valid_time(cls, value: str) -> str:
        check_time(value)
        return value

    @field_validator("refresh")
    @classmethod
    def _valid_refresh(cls, value: str) -> str:
        value = value or "off"
        if value not in REFRESH_CHOICES:
            raise ValueError(f"refresh must be one of {', '.join(REFRESH_CHOICES)}")
        return value


class GridPos(Model):
    """Position on the 24-column grid, in columns and rows."""

    x: int = Field(default=0, ge=0, lt=GRID_COLUMNS)
    y: int = Field(default=0, ge=0)
    w: int = Field(default=12, ge=1, le=GRID_COLUMNS)
    h: int = Field(default=8, ge=2, le=60)

    @model_validator(mode="after")
    def _fits(self) -> GridPos:
        if self.x + self.w > GRID_COLUMNS:
            raise ValueError(f"x + w must be at most {GRID_COLUMNS} (got {self.x + self.w})")
        return self


class Query(Model):
    """Which series a panel shows and how they are aggregated into buckets.

    ``source`` may use ``*`` wildcards; label values and ``source`` may be a
    dashboard variable reference such as ``$source``.
    """

    metric: Name
    source: str | None = Field(default=None, max_length=200)
    labels: dict[LabelKey, Annotated[str, StringConstraints(max_length=200)]] = {}
    agg: Aggregation = "avg"
    group_by: list[LabelKey] = Field(default_factory=list, max_length=5)
    interval: str = "auto"
    mode: Literal["auto", "m4", "buckets"] = "auto"
    alias: str | None = Field(default=None, max_length=200)

    @field_validator("interval")
    @classmethod
    def _valid_interval(cls, value: str) -> str:
        if value != "auto":
            parse_duration(value)
        return value


class Threshold(Model):
    """A value from which a colour applies (lines/bands on charts, colour of stats)."""

    value: float
    color: Color = "red"


class TimeseriesOptions(Model):
    """Visual options of a timeseries panel."""

    unit: Unit = "short"
    style: Literal["line", "area", "stacked", "bars", "points"] = "line"
    thresholds: list[Threshold] = Field(default_factory=list, max_length=10)
    threshold_style: Literal["line", "band"] = "line"
    y_min: float | None = None
    y_max: float | None = None
    log_scale: bool = False
    legend: bool = True
    series_limit: int = Field(default=20, ge=1, le=200)
    colors: SeriesColors = Field(default_factory=dict)

    @field_validator("y_max")
    @classmethod
    def _above_y_min(cls, value: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("y_min")
        if value is not None and low is not None and value <= low and not stored(info):
            raise ValueError(f"Y max must be above Y min ({low:g})")
        return value


class StatOptions(Model):
    """Visual options of a stat panel."""

    unit: Unit = "short"
    reduce: Literal["last", "avg", "max", "min", "sum"] = "last"
    thresholds: list[Threshold] = Field(default_factory=list, max_length=10)
    sparkline: bool = True
    show_change: bool = True
    stale_after: int = Field(default=5, ge=1, description="intervals without data = stale")
    decimals: int | None = Field(default=None, ge=0, le=6)


class GaugeOptions(Model):
    """Visual options of a gauge panel."""

    unit: Unit = "short"
    reduce: Literal["last", "avg", "max", "min"] = "last"
    min: float = 0
    max: float | None = Field(
        default=None,
        description="top of the dial; empty: 100 for percent, 1 for percentunit, "
        "else a round number of the unit above the value",
    )
    thresholds: list[Threshold] = Field(default_factory=list, max_length=10)
    stale_after: int = Field(default=5, ge=1, description="intervals without data = stale")

    @field_validator("max")
    @classmethod
    def _above_min(cls, value: float | None, info: ValidationInfo) -> float | None:
        low = info.data.get("min")
        if value is not None and low is not None and value <= low and not stored(info):
            raise ValueError(f"Max must be above Min ({low:g})")
        return value


class BarOptions(Model):
    """Visual options of a bar panel (one bar per series or group)."""

    unit: Unit = "short"
    reduce: Literal["last", "avg", "max", "min", "sum"] = "avg"
    orientation: Literal["vertical", "horizontal"] = "vertical"
    series_limit: int = Field(default=20, ge=1, le=200)
    colors: SeriesColors = Field(default_factory=dict)


class TableOptions(Model):
    """Visual options of a table panel (one row per series)."""

    unit: Unit = "short"
    series_limit: int = Field(default=50, ge=1, le=500)


class HeatmapOptions(Model):
    """Visual options of a heatmap panel (time x value distribution)."""

    unit: Unit = "short"
    buckets: int = Field(default=20, ge=2, le=100)
    colorscale: Literal["Viridis", "Inferno", "Blues", "YlOrRd"] = "Viridis"


class TextOptions(Model):
    """Content of a text panel: markdown, rendered without raw HTML."""

    content: str = Field(default="", max_length=20_000)


class PanelBase(Model):
    """Fields every panel has."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,40}$")]
    title: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=2000)
    grid: GridPos = GridPos()
    queries: list[Query] = Field(default_factory=list, max_length=10)


class TimeseriesPanel(PanelBase):
    """Lines, areas or bars over time."""

    type: Literal["timeseries"] = "timeseries"
    options: TimeseriesOptions = TimeseriesOptions()


class StatPanel(PanelBase):
    """One big number with a sparkline and the change vs the previous period."""

    type: Literal["stat"] = "stat"
    options: StatOptions = StatOptions()


class GaugePanel(PanelBase):
    """A value on a dial between min and max."""

    type: Literal["gauge"] = "gauge"
    options: GaugeOptions = GaugeOptions()


class BarPanel(PanelBase):
    """One bar per series or group, reduced over the range."""

    type: Literal["bar"] = "bar"
    options: BarOptions = BarOptions()


class TablePanel(PanelBase):
    """One row per series with last, min, max and avg."""

    type: Literal["table"] = "table"
    options: TableOptions = TableOptions()


class HeatmapPanel(PanelBase):
    """Distribution of values over time."""

    type: Literal["heatmap"] = "heatmap"
    options: HeatmapOptions = HeatmapOptions()


class TextPanel(PanelBase):
    """Markdown text; needs no query."""

    type: Literal["text"] = "text"
    options: TextOptions = TextOptions()


Panel = Annotated[
    TimeseriesPanel | StatPanel | GaugePanel | BarPanel | TablePanel | HeatmapPanel | TextPanel,
    Field(discriminator="type"),
]
PANEL_TYPES = ("timeseries", "stat", "gauge", "bar", "table", "heatmap", "text")


class Variable(Model):
    """A dashboard-wide filter; queries refer to it as ``$name``."""

    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,39}$")]
    label: str = Field(default="", max_length=100)
    metric: Name | None = None
    key: LabelKey = "source"
    multi: bool = True
    include_all: bool = True
    default: list[str] = Field(default_factory=list)


class DashboardSpec(Model):
    """A whole dashboard: the document validated on every write."""

    schema_version: Literal[2] = SCHEMA_VERSION
    title: Name
    description: str = Field(default="", max_length=2000)
    time: TimeSpec = TimeSpec()
    tags: list[Annotated[str, StringConstraints(min_length=1, max_length=40)]] = Field(
        default_factory=list, max_length=20
    )
    variables: list[Variable] = Field(default_factory=list, max_length=10)
    panels: list[Panel] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _unique_ids(self) -> DashboardSpec:
        ids = [panel.id for panel in self.panels]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"panel ids must be unique; repeated: {', '.join(duplicates)}")
        names = [variable.name for variable in self.variables]
        if len(set(names)) != len(names):
            raise ValueError("variable names must be unique")
        return self


class SpecError(ValueError):
    """A spec failed validation; ``errors`` lists ``{"field", "message"}`` items."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))


def field_errors(error: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """Flatten a pydantic ValidationError into ``{"field": "panels.0.grid.w", "message"}``."""
    items = []
    for detail in error.errors(include_url=False):
        path = ".".join(str(part) for part in detail["loc"])
        items.append({"field": f"{prefix}{path}" or "(root)", "message": detail["msg"]})
    return items


def parse_spec(document: Any, stored: bool = False) -> DashboardSpec:
    """Validate a JSON-like document (upgrading older schema versions) into a DashboardSpec.

    Every write validates in full; ``stored`` reads a document saved before today's rules
    (a colour name or an axis range refused since) as it was saved.
    """
    if isinstance(document, dict):
        document = upgrade(document)
    try:
        return DashboardSpec.model_validate(document, context={"stored": stored})
    except ValidationError as error:
        raise SpecError(field_errors(error)) from None


def _v1_to_v2(document: dict[str, Any]) -> dict[str, Any]:
    """Version 2 keeps the default refresh with the default range, in ``time``."""
    upgraded = {key: value for key, value in document.items() if key != "refresh"}
    time = dict(document.get("time") or {})
    time["refresh"] = document.get("refresh") or "off"
    return {**upgraded, "time": time, "schema_version": 2}


UPGRADES = {1: _v1_to_v2}
"""Version N -> N+1 converters, applied in order on import and on read."""


def upgrade(document: dict[str, Any]) -> dict[str, Any]:
    """Bring an older spec document up to :data:`SCHEMA_VERSION`.

    A document without ``schema_version`` is taken to be current; one newer than this
    code knows is left for validation to refuse.
    """
    version = document.get("schema_version", SCHEMA_VERSION)
    while isinstance(version, int) and version in UPGRADES:
        document = UPGRADES[version](document)
        version = document["schema_version"]
    return document


def dump_spec(spec: DashboardSpec) -> dict[str, Any]:
    """The JSON document stored for a spec (aliases applied, defaults kept)."""
    return spec.model_dump(mode="json", by_alias=True)
