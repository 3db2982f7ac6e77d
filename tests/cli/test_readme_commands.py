"""The README's commands work exactly as written: `make run`, `olist`, `dlt` and `sqlmesh`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from helpers.bronze import SAMPLE_ROWS, current_settings, lake_counts, staging_counts
from helpers.readme import readme_commands
from helpers.scenarios import copy_project, prod_copy_env, unit_test_file
from helpers.warehouse import SampleLake

from olist.reports import EXAMPLE_QUERIES
from olist.synthetic.generate import generate

# Each of these builds a warehouse, runs the pipeline end to end or starts a stack.
pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, cwd=cwd, env=os.environ.copy(), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _isolated_settings(olist_env) -> None:
    """Point every output of a `make run` in the repository at this test's folder."""
    work = olist_env.workdir
    olist_env.set(
        OLIST_STAGING_URL=f"duckdb:///{work}/staging.duckdb",
        OLIST_LAKE_URL=work / "lake",
        OLIST_DATA_DIR=work / "data",
        OLIST_WAREHOUSE_PATH=work / "warehouse.duckdb",
    )


def _marts_rows(warehouse: Path) -> dict[str, int]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = con.sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'"
        ).fetchall()
        return {n: con.sql(f"SELECT count(*) FROM marts.{n}").fetchone()[0] for (n,) in names}


def test_make_run_loads_the_source_and_a_rerun_does_nothing(olist_env, sample_dir):
    _isolated_settings(olist_env)
    make_run = ["make", "--no-print-directory", "run", f"SOURCE={sample_dir}"]

    first = _run(make_run, REPO_ROOT).stdout
    settings = current_settings()
    assert staging_counts(settings) == SAMPLE_ROWS
    assert lake_counts(settings) == SAMPLE_ROWS
    assert _marts_rows(olist_env.workdir / "warehouse.duckdb")["fct_orders"] == 20_864
    assert "Warehouse built" in first and "Quarantined rows: 0" in first

    rerun = _run(make_run, REPO_ROOT).stdout
    assert rerun.count("file unchanged, skipped") == len(SAMPLE_ROWS)
    assert "Nothing new since the last export" in rerun
    assert "Warehouse up to date" in rerun and "nothing to compute" in rerun


def test_dlt_pipeline_cli_commands_from_the_readme_work(olist_env, sample_dir):
    work = olist_env.workdir
    _run([str(VENV_BIN / "olist"), "ingest", "--source", str(sample_dir)], work)

    dlt = [str(VENV_BIN / "dlt"), "pipeline", "--pipelines-dir", "data/dlt", "olist_ingest"]
    info = _run([*dlt, "info"], work).stdout
    assert "Found pipeline olist_ingest" in info
    assert "dataset_name: raw" in info
    trace = _run([*dlt, "trace"], work).stdout
    assert "orders: 20864 row(s)" in trace
    package = _run([*dlt, "load-package"], work).stdout
    assert "is in LOADED state" in package


def _run_block(commands: list[str], cwd: Path) -> list[str]:
    """Run README lines as written (`.venv/bin/` → this venv) in `cwd`; their outputs."""
    return [
        _run(["bash", "-c", line.replace(".venv/bin/", f"{VENV_BIN}/")], cwd).stdout
        for line in commands
    ]


def test_synthetic_data_and_snapshot_commands_from_the_readme_work(olist_env):
    work = olist_env.workdir
    commands = readme_commands("## Synthetic data and snapshots")
    assert any(c.startswith(".venv/bin/olist generate") for c in commands)
    assert any(c.startswith(".venv/bin/olist snapshot") for c in commands)
    _run_block(commands, work)
    settings = current_settings()
    # The replay loaded February, then March: staging holds March's orders, the lake both loads.
    march_orders = sum(1 for _ in (work / "data/as_of/2018-03/olist_orders_dataset.csv").open()) - 1
    assert staging_counts(settings, ("orders",)) == {"orders": march_orders}
    assert (work / "data/sf1/olist_orders_dataset.csv").stat().st_size > 17_000_000


def test_make_run_without_seeds_generates_a_demo_data_set(olist_env):
    _isolated_settings(olist_env)
    output = _run(["make", "--no-print-directory", "run", "DEMO_SF=0.01"], REPO_ROOT).stdout
    assert "olist generate" in output and "(scale 0.01, seed 42)" in output
    assert staging_counts(current_settings(), ("orders",)) == {"orders": 994}
    assert _marts_rows(olist_env.workdir / "warehouse.duckdb")["fct_orders"] == 994


def test_warehouse_commands_from_the_readme_build_the_marts(olist_env, sample_lake: SampleLake):
    warehouse = olist_env.workdir / "warehouse.duckdb"
    olist_env.set(OLIST_LAKE_URL=sample_lake.env["OLIST_LAKE_URL"], OLIST_WAREHOUSE_PATH=warehouse)
    # The section's first block; its subsections' blocks have tests of their own.
    commands = readme_commands("## The warehouse (SQLMesh)")[:2]
    assert commands == [".venv/bin/sqlmesh plan --auto-apply", ".venv/bin/sqlmesh test"]
    _run_block(commands, REPO_ROOT)  # from the repository root, as the README says
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    queries = readme.split("```sql\n", 1)[1].split("```", 1)[0].strip().splitlines()
    with duckdb.connect(str(warehouse), read_only=True) as con:
        newest_days = con.sql(queries[0].rstrip(";")).fetchall()
        top = con.sql(queries[1].rstrip(";")).fetchall()
    assert len(newest_days) == 10 and len(top) == 20
    # The queries `olist run` suggests (and the README shows) work through `sqlmesh fetchdf`.
    for query, rows in zip(EXAMPLE_QUERIES, (10, 20), strict=True):
        assert f'.venv/bin/sqlmesh fetchdf "{query}"' in readme
        output = _run([str(VENV_BIN / "sqlmesh"), "fetchdf", query], REPO_ROOT).stdout
        assert f"[{rows} rows x" in output  # pandas' footer of the printed frame


def _project_copy(olist_env) -> Path:
    """A copy of the SQLMesh project in this test's folder: README lines run there as written
    (relative `data/...` paths included) without touching the repository's data/."""
    project = copy_project(olist_env.workdir / "project")
    (project / "data").mkdir()  # where `make run` would have put the warehouse
    return project


def _with_prod_on_the_sample(olist_env, request: pytest.FixtureRequest) -> Path:
    """A project copy whose default warehouse (data/warehouse.duckdb) is a copy of the session's
    prod on the sample lake, as `make run` on the sample would have left it."""
    project = _project_copy(olist_env)
    with prod_copy_env(request, "local", project / "data/warehouse.duckdb") as env:
        olist_env.set(OLIST_LAKE_URL=env["OLIST_LAKE_URL"])
    return project


def test_querying_commands_from_the_readme_work(olist_env, request: pytest.FixtureRequest):
    project = _with_prod_on_the_sample(olist_env, request)
    commands = readme_commands("## Querying the warehouse")
    assert [c.split()[0] for c in commands] == [
        ".venv/bin/duckdb",
        ".venv/bin/duckdb",
        ".venv/bin/python",
        ".venv/bin/sqlmesh",
    ]
    newest, top, statuses, fetched = _run_block(commands, project)
    assert newest.count("2018-") >= 10 and "order_purchase_date" in newest
    assert len(re.findall(r"│ [0-9a-f]{32} │", top)) == 20  # one customer_unique_id per row
    assert "delivered" in statuses
    assert "[20 rows x" in fetched


def test_daily_run_commands_from_the_readme_take_in_a_new_month(olist_env):
    project = _project_copy(olist_env)
    olist_env.set(OLIST_STAGING_URL="duckdb:///data/staging.duckdb")
    generate(project / "data/demo", 0.02)
    commands = readme_commands("### Daily runs: only the new exports, only what they touch")
    assert commands[-1].endswith("sqlmesh run --ignore-cron")
    outputs = _run_block(commands, project)
    run = " ".join(outputs[-1].split())
    assert "marts.fct_orders [insert partitions" in run, run
    july_orders = sum(1 for _ in (project / "data/july/olist_orders_dataset.csv").open()) - 1
    with duckdb.connect(str(project / "data/warehouse.duckdb"), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM marts.fct_orders").fetchone()[0] == july_orders
        # The run wrote July's new and changed orders, not the history.
        written, batch = con.sql(
            "SELECT count(*) FILTER (WHERE _batch = (SELECT max(_batch) FROM marts.fct_orders)), "
            "max(_batch) FROM marts.fct_orders"
        ).fetchone()
    assert batch == 2 and 0 < written < july_orders / 2


def test_dev_environment_commands_from_the_readme_work(olist_env, request: pytest.FixtureRequest):
    project = _with_prod_on_the_sample(olist_env, request)
    # The change a developer would make: the mart's city in capitals, and its unit test to match.
    mart = project / "models/marts/top_customers.sql"
    mart.write_text(mart.read_text().replace("customer_city::TEXT", "UPPER(customer_city)::TEXT"))
    unit_test = unit_test_file("marts.top_customers", project)
    expected = unit_test.read_text().split("\n  outputs:\n")
    assert len(expected) == 2, "the unit test's layout changed: adapt this edit"
    for city in ("sao paulo", "curitiba", "recife"):
        expected[1] = expected[1].replace(
            f"customer_city: {city},", f"customer_city: {city.upper()},"
        )
    unit_test.write_text("\n  outputs:\n".join(expected))
    commands = readme_commands("### Developing a change: dev environments")
    plan_dev, table_diff, table_name, promote = _run_block(commands, project)
    assert "Directly Modified" in plan_dev and "top_customers" in plan_dev
    assert "customer_city" in table_diff
    assert "marts__dev" not in table_name and "top_customers" in table_name
    assert "No physical layer updates to perform" in " ".join(promote.split())


def test_plan_diff_command_from_the_readme_writes_the_report(olist_env):
    commands = readme_commands("## Reviewing data changes: the plan diff")
    assert commands == ["make plan-diff BASE=main"]
    # As written, in the repository (it works in data/plan-diff/ there, never in data/ itself).
    report = _run(["bash", "-c", commands[0]], REPO_ROOT).stdout
    assert "<!-- olist-plan-diff -->" in report
    assert (REPO_ROOT / "data/plan-diff/report.md").read_text(encoding="utf-8") in report
