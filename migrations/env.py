"""Alembic environment: migrates the database named by the app's DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from dashapp.settings import load_settings
from db.engine import build_engine
from db.migrate import SCHEMA, include_name

config = context.config
target_metadata = SCHEMA


def database_url() -> str:
    """The URL given by the caller (``dashapp db upgrade``), else the environment's."""
    return config.attributes.get("database_url") or load_settings().database_url


def configure(connection: Connection) -> None:
    """Options shared by online migrations and ``alembic check``."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
        user_module_prefix="db.types.",
        include_name=include_name,
    )


def run_migrations_online() -> None:
    """Run migrations on a live connection (the caller's, or a new engine's)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = build_engine(database_url())
    with engine.connect() as connection:
        configure(connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
