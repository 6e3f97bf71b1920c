"""Alembic builds exactly the models' schema on both databases."""

from __future__ import annotations

from flask import Flask

from dashapp.extensions import database
from db import migrate


def test_migrated_schema_matches_the_models(app: Flask) -> None:
    with app.app_context():
        assert migrate.drift(database.engine) == []


def test_upgrade_is_idempotent(app: Flask, database_url: str) -> None:
    migrate.upgrade(database_url)
    with app.app_context():
        assert migrate.drift(database.engine) == []
