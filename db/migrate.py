"""Alembic, driven from Python: ``dashapp db upgrade`` and the drift check in the tests."""

from __future__ import annotations

import re
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, MetaData

from db import models
from db.base import Base
from db.tsdb import models as storage_models

SCHEMA: MetaData = Base.metadata
"""Every table Alembic migrates: the app's (:mod:`db.models`) and the storage engine's
(:mod:`db.tsdb.models`), which both modules register on one metadata."""
TABLE_MODULES = (models, storage_models)
"""Imported for their tables: importing a module of models registers them on :data:`SCHEMA`."""

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"


def alembic_config(database_url: str) -> Config:
    """An Alembic Config pointing at dashapp's migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


def is_unmigrated(error: BaseException) -> bool:
    """Whether a database error means dashapp's tables do not exist (run migrations)."""
    text = str(getattr(error, "orig", error)).lower()
    return "no such table" in text or ("relation" in text and "does not exist" in text)


PARTITION = re.compile(r"^metric_points_(p\d{8}|default)$")


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Leave the daily partitions of ``metric_points`` (:mod:`db.tsdb.partitions`) out of
    comparisons."""
    return not (type_ == "table" and name is not None and PARTITION.match(name))


def drift(engine: Engine) -> list[tuple[object, ...]]:
    """Differences between the migrated schema and the models (empty means no drift)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        return compare_metadata(context, SCHEMA)
