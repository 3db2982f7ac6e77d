"""The same models on a real local Spark (the `spark` gateway) give DuckDB's results.

One Spark process for the whole module (tests/helpers/spark_driver.py), on `local[2]` with two
shuffle partitions, on the replays' lake of daily exports of the real sample
(helpers.replay.daily_lake, built once per test run):

1. the exports up to the old-orders day are planned into prod on Spark and on DuckDB: every
   staging, intermediate and mart table holds the same rows on both (exact decimals, the same
   timestamps), the run stamps aside;
2. the old-orders day's export (orders moved to another day and person, canceled, items and
   payments changed) is taken in by a run on Spark, as `olist run` does: the tables equal a
   DuckDB warehouse planned from scratch on the whole lake;
3. daily_sales_summary is broken on purpose (it double-counts revenue) and prod planned again on
   Spark: the audit that checks it against fct_orders fails there, and the plan with it.

Spark works on a copy of the project, which the last step edits.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from helpers.replay import OLD_ORDERS_STEP, PLAN_PROD, RUN_STAMPS, DailyLake
from helpers.scenarios import succeeded
from helpers.warehouse import REPO_ROOT, clean_environment, run_sqlmesh

pytestmark = pytest.mark.slow

DRIVER = Path(__file__).parents[1] / "helpers" / "spark_driver.py"
# What a SQLMesh project is made of (the linter wants the unit tests too).
PROJECT_PARTS = ("config.yaml", "models", "macros", "audits", "tests/models", "tests/macros")
BROKEN_MODEL = "models/marts/daily_sales_summary.sql"
BROKEN_AUDIT = "daily_sales_summary_matches_fct_orders"


def _spark_env(work: Path, lake: Path) -> dict[str, str]:
    return {
        "OLIST_GATEWAY": "spark",
        "OLIST_LAKE_URL": str(lake),
        "OLIST_SPARK_DIR": str(work / "spark"),
        "OLIST_SPARK_MASTER": "local[2]",
        "OLIST_SPARK_SHUFFLE_PARTITIONS": "2",
    }


def _duckdb_build(lake: Path, warehouse: Path) -> None:
    env = {"OLIST_LAKE_URL": str(lake), "OLIST_WAREHOUSE_PATH": str(warehouse)}
    succeeded(run_sqlmesh(env, *PLAN_PROD, cwd=warehouse.parent))


def _project_copy(folder: Path) -> Path:
    for part in PROJECT_PARTS:
        source, target = REPO_ROOT / part, folder / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
    return folder


@pytest.fixture(scope="module")
def spark_build(tmp_path_factory: pytest.TempPathFactory, daily_lake: DailyLake) -> Path:
    """The folder of the Spark tables' dumps and the DuckDB warehouses of the steps above, built
    once for the module."""
    work = tmp_path_factory.mktemp("spark")
    lake = work / "lake"
    names = [step.name for step in daily_lake.steps]
    day = names.index(OLD_ORDERS_STEP)
    for step in daily_lake.steps[:day]:
        for file in step.files:
            (lake / file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(daily_lake.lake / file, lake / file)
    (work / "duckdb-before").mkdir()
    _duckdb_build(lake, work / "duckdb-before" / "before.duckdb")
    (work / "spark").mkdir()
    steps = [
        {"do": "plan"},
        {"do": "dump", "to": str(work / "spark-before")},
        {
            "do": "run",
            "add": [
                [str(daily_lake.lake / file), str(lake / file)]
                for file in daily_lake.steps[day].files
            ],
        },
        {"do": "dump", "to": str(work / "spark-after")},
        {
            "do": "edit",
            "file": BROKEN_MODEL,
            "replace": ["SUM(revenue) AS revenue", "SUM(revenue) * 2 AS revenue"],
        },
        {"do": "plan"},
    ]
    (work / "steps.json").write_text(json.dumps(steps))
    result = subprocess.run(
        [
            sys.executable,
            str(DRIVER),
            str(_project_copy(work / "project")),
            str(work / "steps.json"),
            str(work / "results.json"),
        ],
        env=clean_environment(_spark_env(work, lake)),
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"the Spark driver failed:\n{output[-20000:]}"
    results = json.loads((work / "results.json").read_text())
    assert [r.get("failed") for r in results[:3] if "failed" in r] == [False, False], results
    (work / "broken-plan.json").write_text(json.dumps({**results[-1], "output": output}))
    (work / "duckdb-after").mkdir()
    _duckdb_build(lake, work / "duckdb-after" / "after.duckdb")
    return work


def spark_differences(warehouse: Path, dump: Path) -> dict[str, tuple[int, int]]:
    """Per table of the DuckDB `warehouse`, (rows only in DuckDB, rows only in Spark's dump),
    for the tables that differ or are missing from the dump; the run stamps aside.

    Spark's columns are read as DuckDB's types (its Parquet timestamps are instants, read in
    UTC, its session time zone); a type that does not cast fails the comparison.
    """
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"ATTACH '{warehouse}' AS {warehouse.stem} (READ_ONLY)")
    con.execute(f"USE {warehouse.stem}")
    columns = con.sql(
        "SELECT table_schema || '.' || table_name, column_name, data_type "
        "FROM information_schema.columns WHERE table_schema IN ('staging', 'intermediate', "
        "'marts') ORDER BY table_schema, table_name, ordinal_position"
    ).fetchall()
    tables: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in columns:
        if column not in RUN_STAMPS:
            tables.setdefault(table, []).append((column, kind))
    assert len(tables) >= 30, f"expected every model's table in {warehouse}, found {tables}"
    found = {}
    for table, typed in tables.items():
        files = dump / f"{table}.parquet"
        if not files.exists():
            found[table] = (-1, -1)
            continue
        ours = ", ".join(f'"{c}"' for c, _ in typed)
        theirs = ", ".join(f'CAST("{c}" AS {kind}) AS "{c}"' for c, kind in typed)
        spark = f"(SELECT {theirs} FROM read_parquet('{files}/*.parquet'))"
        only = tuple(
            con.sql(f"SELECT count(*) FROM ({a} EXCEPT ALL {b})").fetchone()[0]
            for a, b in (
                (f"SELECT {ours} FROM {table}", f"SELECT * FROM {spark}"),
                (f"SELECT * FROM {spark}", f"SELECT {ours} FROM {table}"),
            )
        )
        if any(only):
            found[table] = only
    con.close()
    return found


def test_every_table_built_on_spark_equals_the_duckdb_build(spark_build: Path) -> None:
    warehouse = spark_build / "duckdb-before" / "before.duckdb"
    assert spark_differences(warehouse, spark_build / "spark-before") == {}


def test_a_daily_run_on_spark_equals_a_full_duckdb_rebuild(spark_build: Path) -> None:
    warehouse = spark_build / "duckdb-after" / "after.duckdb"
    assert spark_differences(warehouse, spark_build / "spark-after") == {}
    # The run took something in: the two DuckDB builds differ, so the comparison could fail.
    before = spark_build / "duckdb-before" / "before.duckdb"
    assert spark_differences(before, spark_build / "spark-after") != {}


def test_a_model_broken_on_purpose_fails_its_audit_on_spark(spark_build: Path) -> None:
    broken = json.loads((spark_build / "broken-plan.json").read_text())
    assert broken["failed"], "the plan of a daily_sales_summary that double-counts revenue passed"
    # SQLMesh's report of the failed model names the audit that found its rows.
    assert f"'{BROKEN_AUDIT}' audit error" in broken["output"], broken["error"]
