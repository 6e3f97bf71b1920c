"""The results cache (flask-caching): one module-level extension, bound by ``init_app``;
and small memos kept in the process, per app."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_caching import Cache

cache = Cache()
MEMO_SIZE = 2000
"""Entries of a process-local memo before it is emptied."""


def process_memo(name: str) -> dict[Any, Any]:
    """A dict kept on the current app for this process (emptied past MEMO_SIZE): what a
    request would otherwise fetch from the cache again, each entry kept with whatever
    tells whether it is still valid (a counter, an expiry)."""
    memo = current_app.extensions.setdefault(name, {})
    if len(memo) > MEMO_SIZE:
        memo.clear()
    return memo
