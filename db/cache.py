"""The results cache (flask-caching): one module-level extension, bound by ``init_app``."""

from __future__ import annotations

from flask_caching import Cache

cache = Cache()
