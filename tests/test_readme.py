"""The README documents every setting exactly once (datasette's habit)."""

from __future__ import annotations

import re
from pathlib import Path

from dashapp.settings import Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def settings_table() -> list[str]:
    """The variable names in the first column of the README's Configuration table."""
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    names = []
    for line in section.splitlines():
        if line.startswith("| `"):
            names += re.findall(r"`([A-Z_]+)`", line.split("|")[1])
    return names


def test_the_settings_table_lists_every_setting_exactly_once() -> None:
    names = settings_table()
    fields = {name.upper() for name in Settings.model_fields}
    twice = sorted({name for name in names if names.count(name) > 1})
    assert not twice, f"listed twice: {twice}"
    assert fields <= set(names), f"missing from the README: {sorted(fields - set(names))}"
    others = set(names) - fields
    served = {
        "WEB_CONCURRENCY",
        "GUNICORN_WORKER_CLASS",
        "GUNICORN_CONNECTIONS",
    }  # gunicorn.conf.py
    assert others <= served, f"documented but not settings: {sorted(others)}"
