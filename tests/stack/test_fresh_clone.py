"""`make setup` and `make run` on a fresh clone, as a newcomer runs them: nothing from this
checkout or this user.

The repository is cloned at its HEAD commit (uncommitted changes are not in the clone: this
protects what is committed). `make setup` runs in the clone with only PATH and an empty HOME in
its environment, so the clone installs its own uv and .venv and downloads every package from the
registry into an empty uv cache (the lock file must resolve as it is, about 25 s here), through
the TLS-intercepting proxy with nothing but the system's certificate store. `make run
DEMO_SF=0.01` then writes everything under the clone's own data/, and a second `make run` must
find nothing to do.

Needs the package registry (PyPI) and writes about 2.5 GB (uv cache and .venv), deleted after
the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from helpers.scenarios import PROJECT_MODELS, WIDE_CONSOLE

from ingest.tables import TABLES

# Each of these builds a warehouse, runs the pipeline end to end or starts a stack.
pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
# `olist generate --sf 0.01` writes 994 orders (README: what fast tests use).
DEMO_ORDERS = 994
MARTS = sorted(
    model.removeprefix("marts.") for model in PROJECT_MODELS if model.startswith("marts.")
)


def newcomer_environment(home: Path) -> dict[str, str]:
    """Only PATH and an empty `home`, as `env -i PATH="$PATH" HOME=$(mktemp -d)` gives.

    Nothing else of this process reaches the clone: no `OLIST_*` settings, no activated
    virtualenv, no uv or pip settings or caches, no certificate variables (`SSL_CERT_FILE`,
    `PIP_CERT`): `make setup` must find the package registry through a TLS-intercepting proxy
    with the system's certificate store alone, as pip does. PATH loses every entry inside this
    checkout or an activated virtualenv, so `python3` is the machine's.
    """
    excluded = [Path(folder) for folder in (REPO_ROOT, os.environ.get("VIRTUAL_ENV")) if folder]
    path = os.pathsep.join(
        entry
        for entry in os.environ.get("PATH", "").split(os.pathsep)
        if entry and not any(Path(entry).is_relative_to(folder) for folder in excluded)
    )
    return {"PATH": path, "HOME": str(home)}


def run(command: list[str], cwd: Path, env: dict[str, str]) -> str:
    """`command`'s output (stdout and stderr together); fails the test if it fails."""
    result = subprocess.run(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert result.returncode == 0, f"{' '.join(command)} failed in {cwd}:\n{result.stdout}"
    return result.stdout


def marts_rows(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
        ).fetchall()
        return {
            name: con.execute(f"SELECT count(*) FROM marts.{name}").fetchone()[0]
            for (name,) in names
        }


@pytest.fixture
def workdir(tmp_path: Path) -> Iterator[Path]:
    """A temporary folder, deleted after the test: the clone's .venv and uv cache are large."""
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_make_run_on_a_fresh_clone_with_an_empty_home_builds_the_marts_then_does_nothing(
    workdir: Path,
):
    home = workdir / "home"
    home.mkdir()
    env = newcomer_environment(home)
    clone = workdir / "olist-pipeline"
    run(["git", "clone", "--quiet", str(REPO_ROOT), str(clone)], cwd=workdir, env=env)

    setup = run(["make", "--no-print-directory", "setup"], cwd=clone, env=env)
    # The clone set itself up: its own uv in .tools/, its own .venv, packages into the empty HOME.
    assert "setup: installing uv" in setup
    assert "Creating virtual environment at: .venv" in setup
    assert any((home / ".cache/uv").iterdir())

    make_run = ["make", "--no-print-directory", "run", "DEMO_SF=0.01"]
    env = {**env, **WIDE_CONSOLE}
    first = run(make_run, cwd=clone, env=env)
    # It ends with the summary, after the demo data set was generated, loaded and exported.
    assert "olist generate → data/demo (scale 0.01" in first
    summary = first.split("olist run: rows per layer", 1)[1]
    assert "Warehouse built;" in summary
    assert f"Warehouse file: {clone / 'data/warehouse.duckdb'}" in summary
    rows = marts_rows(clone / "data/warehouse.duckdb")
    assert sorted(rows) == MARTS
    assert rows["fct_orders"] == DEMO_ORDERS
    assert all(count > 0 for count in rows.values()), rows
    # Its last line says where the site is, which the same run built.
    site = clone / "data/site/index.html"
    assert first.strip().splitlines()[-1].startswith(f"Site: {site} (")
    assert site.is_file()

    second = run(make_run, cwd=clone, env=env)
    assert "olist generate" not in second
    assert second.count("file unchanged, skipped") == len(TABLES)
    assert "Nothing new since the last export: no files written." in second
    summary = second.split("olist run: rows per layer", 1)[1]
    assert "Warehouse up to date" in summary and "nothing to compute" in summary
    assert marts_rows(clone / "data/warehouse.duckdb") == rows
