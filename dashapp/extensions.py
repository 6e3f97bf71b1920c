"""Module-level extension singletons, bound to an app by ``init_app`` in ``create_app``."""

from __future__ import annotations

from flask_caching import Cache

from db.engine import database

cache = Cache()

__all__ = ["cache", "database"]
