"""Issue 10 item 7: configuration mistakes read as one line naming the variable, an
unmigrated database says "run `dashapp db upgrade`", and commands that sign nothing
need no SECRET_KEY. The real console script runs, as an operator would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from dashapp.settings import ConfigError, load_settings
from tests.conftest import make_app
from tests.test_auth import csrf_from

DASHAPP = str(Path(sys.executable).with_name("dashapp"))
ROOT = Path(__file__).resolve().parents[1]


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``dashapp *args`` in production mode, without SECRET_KEY unless given."""
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")}  # fmt: skip
    environment.update(DASHAPP_ENV="production", **env)
    return subprocess.run(
        [DASHAPP, *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=120
    )


def one_line_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert all(word in lines[0] for word in words), lines[0]


def test_commands_that_sign_nothing_need_no_secret_key(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    unmigrated = run(tmp_path, "users", "list", DATABASE_URL=url)
    one_line_error(unmigrated, "dashapp db upgrade")
    assert run(tmp_path, "db", "upgrade", DATABASE_URL=url).returncode == 0
    created = run(tmp_path, "tokens", "create", "ci", "--scope", "ingest", DATABASE_URL=url)
    assert created.returncode == 0 and created.stdout.startswith("dsh_"), created.stderr
    assert run(tmp_path, "users", "list", DATABASE_URL=url).returncode == 0
    serving = run(tmp_path, "seed-demo", DATABASE_URL=url)  # runs the app's code: signs
    one_line_error(serving, "SECRET_KEY")


def test_an_empty_variable_means_unset(tmp_path: Path) -> None:
    # DATABASE_URL= falls back to the embedded default, relative to the working directory.
    result = run(tmp_path, "db", "upgrade", DATABASE_URL="", REDIS_URL="")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "instance" / "dashapp.db").exists()
    assert load_settings({"DATABASE_URL": "", "REDIS_URL": ""}).redis_url is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DATABASE_URL", "not a url"),
        ("DATABASE_URL", "mysql://root@localhost/x"),
        ("REDIS_URL", "http://localhost:6379"),
        ("REDIS_URL", "redis://localhost:99999/0"),
        ("STATEMENT_TIMEOUT_MS", "soon"),
    ],
)
def test_a_malformed_setting_is_one_line_naming_it(tmp_path: Path, variable: str, value: str):
    one_line_error(run(tmp_path, "db", "upgrade", **{variable: value}), variable)
    with pytest.raises(ConfigError, match=variable):
        load_settings({variable: value})


def test_the_wsgi_entry_point_says_one_line(tmp_path: Path) -> None:
    environment = {**os.environ, "DATABASE_URL": "nonsense://", "DASHAPP_ENV": "test"}
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    one_line_error(result, "DATABASE_URL")


def test_postgresql_urls_mean_psycopg() -> None:
    url = load_settings({"DATABASE_URL": "postgresql://u@h/db"}).database_url
    assert url == "postgresql+psycopg://u@h/db"


def test_the_app_on_an_unmigrated_database_says_run_db_upgrade(tmp_path: Path) -> None:
    app: Flask = make_app(f"sqlite:///{tmp_path / 'empty.db'}")
    client = app.test_client()
    response = client.get("/api/v1/dashboards")
    assert response.status_code == 503
    assert "dashapp db upgrade" in response.json["detail"]
    token = csrf_from(client)
    page = client.post("/login", data={"username": "a", "password": "b", "csrf_token": token})
    assert page.status_code == 503 and "dashapp db upgrade" in page.get_data(as_text=True)
