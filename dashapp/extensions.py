"""Module-level extension singletons, bound to an app by ``init_app`` in ``create_app``."""

from __future__ import annotations

from db.cache import cache
from db.engine import database

__all__ = ["cache", "database"]
