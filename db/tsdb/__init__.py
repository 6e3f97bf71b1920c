"""The time-series storage engine: the series catalog, writes, the two tiers (hot rows and
compacted chunks), rollups, compaction, partitions, retention and the reads over them.

Everything outside this package calls it through this module's names (and its read
modules :mod:`db.tsdb.query` and :mod:`db.tsdb.histogram`, and the tables in
:mod:`db.tsdb.models`); its other modules are private, an import-linter contract keeps
them so. Functions take a Session and never commit: the caller's transaction does.

* catalog and writes: :func:`resolve_series`, :func:`write_points`,
  :func:`find_series`, :func:`get_series`, :func:`catalog`, :func:`catalog_summary`,
  :func:`label_values`, :func:`last_points`
* background work (``dashapp worker``): :func:`refresh_rollups`, :func:`compact`,
  :func:`maintain_partitions`, :func:`apply_retention`
* aggregated reads (panels, the REST query API): :mod:`db.tsdb.query`,
  :mod:`db.tsdb.histogram`
"""

from __future__ import annotations

from db.tsdb.chunks import window_of
from db.tsdb.compaction import POINTS_PER_TRANSACTION, compact
from db.tsdb.metrics import (
    CatalogCursor,
    PointTuple,
    catalog,
    catalog_summary,
    find_series,
    get_series,
    label_values,
    last_points,
    resolve_series,
    write_points,
)
from db.tsdb.partitions import maintain as maintain_partitions
from db.tsdb.retention import apply as apply_retention
from db.tsdb.retention import metric_names
from db.tsdb.rollups import HOUR
from db.tsdb.rollups import refresh as refresh_rollups

__all__ = [
    "HOUR",
    "POINTS_PER_TRANSACTION",
    "CatalogCursor",
    "PointTuple",
    "apply_retention",
    "catalog",
    "catalog_summary",
    "compact",
    "find_series",
    "get_series",
    "label_values",
    "last_points",
    "maintain_partitions",
    "metric_names",
    "refresh_rollups",
    "resolve_series",
    "window_of",
    "write_points",
]
