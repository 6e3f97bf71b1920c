"""Every module of the project sits in one of import-linter's layers, so none escapes them."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_dashapp_module_is_in_a_layer() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    listed = {name.strip() for layer in layers for name in layer.replace("|", ":").split(":")}
    modules = {f"dashapp.{path.stem}" for path in (ROOT / "dashapp").glob("*.py")}
    packages = {f"dashapp.{path.parent.name}" for path in (ROOT / "dashapp").glob("*/__init__.py")}
    missing = sorted((modules | packages) - listed - {"dashapp.__init__"})
    assert not missing, f"add these to a layer in pyproject.toml: {missing}"
