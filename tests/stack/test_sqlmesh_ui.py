"""`sqlmesh ui` on a built warehouse: it serves its page and the project, and locks the warehouse.

The UI (SQLMesh's web IDE, a uvicorn server) serves this repository's project, as
`.venv/bin/sqlmesh ui` run from the root does, on a copy of the session's `local_warehouse`:
once the UI has read SQLMesh's state it keeps the DuckDB file open for writing, and DuckDB then
refuses every other process, readers included, so the UI needs a file of its own. The UI is
stopped after this module's tests, and a failed start stops it too: no server outlives the tests.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest
from helpers.scenarios import PROJECT_MODELS
from helpers.servers import find_free_port
from helpers.warehouse import (
    REPO_ROOT,
    VENV_BIN,
    Warehouse,
    clean_environment,
    output_of,
    run_sqlmesh,
)

# Each of these builds a warehouse, runs the pipeline end to end or starts a stack.
pytestmark = pytest.mark.slow

HOST = "127.0.0.1"
# The first request loads the project (a few seconds); a busy 2-core CI machine needs margin.
STARTUP_TIMEOUT_SECONDS = 90
REQUEST_TIMEOUT_SECONDS = 60
SHUTDOWN_TIMEOUT_SECONDS = 15
MARTS = ("marts.fct_orders", "marts.daily_sales_summary", "marts.top_customers")
# What DuckDB says to a second process opening a file another process holds for writing.
LOCK_CONFLICT = "Could not set lock on file"


@dataclass(frozen=True)
class RunningUi:
    """A `sqlmesh ui` process serving `url`, on the warehouse `env` points at."""

    url: str
    env: dict[str, str]
    warehouse: Path
    process: subprocess.Popen[bytes]
    log: Path

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.url + path, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            return response.read()

    def get_json(self, path: str) -> Any:
        return json.loads(self.get(path))

    def fetch_table(self, sql: str) -> pa.Table:
        """The rows of `sql` as the UI's query editor gets them: an Arrow stream."""
        request = urllib.request.Request(
            self.url + "/api/commands/fetchdf",
            data=json.dumps({"sql": sql}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_SECONDS) as response:
            return pa.ipc.open_stream(response.read()).read_all()


def _wait_until_serving(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    # uvicorn logs this line only once its own bind worked, so /health is then answered by the UI
    # and not by another process that took the port in the meantime.
    started_line = f"Uvicorn running on {url}"
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"sqlmesh ui exited with code {process.returncode} before serving {url}:\n"
                f"{log.read_text(errors='replace')}"
            )
        if started_line in log.read_text(errors="replace"):
            with urllib.request.urlopen(f"{url}/health", timeout=REQUEST_TIMEOUT_SECONDS) as health:
                assert health.read() == b'"ok"'
            return
        time.sleep(0.2)
    pytest.fail(
        f"sqlmesh ui did not serve {url} within {STARTUP_TIMEOUT_SECONDS}s:\n"
        f"{log.read_text(errors='replace')}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the UI's process group (uvicorn shuts down cleanly), SIGKILL if it hangs."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=SHUTDOWN_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    # Anything the UI started in its group must be gone too (killpg fails once the group is empty).
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


@contextmanager
def sqlmesh_ui(env: Mapping[str, str], workdir: Path) -> Iterator[RunningUi]:
    """`sqlmesh ui --host 127.0.0.1 --port <free port>` on this repository with `env`'s settings.

    Like warehouse_helpers.run_sqlmesh, an empty `--dotenv` file keeps a developer's .env out.
    The UI runs in a process group of its own, stopped when the block ends, however it ends.
    """
    port = find_free_port(HOST)
    url = f"http://{HOST}:{port}"
    no_dotenv = workdir / "empty.env"
    no_dotenv.touch()
    command = [str(VENV_BIN / "sqlmesh"), "-p", str(REPO_ROOT), "--dotenv", str(no_dotenv)]
    command += ["ui", "--host", HOST, "--port", str(port)]
    log = workdir / "sqlmesh-ui.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=clean_environment(env),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_serving(process, url, log)
        yield RunningUi(
            url=url,
            env=dict(env),
            warehouse=Path(env["OLIST_WAREHOUSE_PATH"]),
            process=process,
            log=log,
        )
    finally:
        _stop(process)


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory, local_warehouse: Warehouse) -> Iterator[RunningUi]:
    """The UI on a copy of the session's local warehouse (same file name: SQLMesh's catalog)."""
    workdir = tmp_path_factory.mktemp("sqlmesh-ui")
    warehouse = workdir / local_warehouse.path.name
    shutil.copy2(local_warehouse.path, warehouse)
    env = {**local_warehouse.env, "OLIST_WAREHOUSE_PATH": str(warehouse)}
    with sqlmesh_ui(env, workdir) as running:
        yield running


def test_sqlmesh_ui_serves_its_web_page(ui: RunningUi):
    page = ui.get("/").decode()
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert "<title>SQLMesh" in page


def test_sqlmesh_ui_lists_every_model_of_the_project_including_the_marts(ui: RunningUi):
    names = [model["name"] for model in ui.get_json("/api/models")]
    assert set(MARTS) <= set(names)
    assert sorted(names) == PROJECT_MODELS


def test_sqlmesh_ui_shows_prod_as_built_in_the_warehouse(ui: RunningUi):
    # The model list comes from the project's files; prod's snapshots come from SQLMesh's state
    # in the warehouse file, so this proves the UI reads the warehouse it was given.
    models = ui.get_json("/api/models")
    prod = ui.get_json("/api/environments")["environments"]["prod"]
    assert {snapshot["name"] for snapshot in prod["snapshots"]} == {m["fqn"] for m in models}


def test_sqlmesh_ui_queries_the_marts(ui: RunningUi, local_warehouse: Warehouse):
    sql = "SELECT count(*) AS orders FROM marts.fct_orders"
    with local_warehouse.connect() as con:
        (expected,) = con.execute(sql).fetchone()
    assert expected > 0
    assert ui.fetch_table(sql).column("orders").to_pylist() == [expected]


def test_warehouse_is_locked_for_other_processes_while_the_ui_runs(ui: RunningUi, tmp_path: Path):
    # The UI opens the warehouse when it first reads SQLMesh's state (its page does on load).
    ui.get("/api/environments")
    for read_only in (False, True):
        with pytest.raises(duckdb.IOException, match=LOCK_CONFLICT):
            duckdb.connect(str(ui.warehouse), read_only=read_only).close()
    plan = run_sqlmesh(ui.env, "plan", "--auto-apply", "--no-prompts", cwd=tmp_path)
    assert plan.returncode != 0
    assert LOCK_CONFLICT in output_of(plan)
    assert f"(PID {ui.process.pid})" in output_of(plan)
