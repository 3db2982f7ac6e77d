"""The same models on a real local Spark (the `spark` gateway) give DuckDB's results.

One Spark process for the whole module (tests/helpers/spark_driver.py), on `local[2]` with two
shuffle partitions, on the replays' lake of daily exports of the real sample
(helpers.replay.daily_lake, built once per test run):

1. the exports up to the old-orders day are planned into prod on Spark and on DuckDB: every
   staging, intermediate and mart table holds the same rows on both (exact decimals, the same
   timestamps), the run stamps aside;
2. the old-orders day's export (orders moved to another day and person, canceled, items and
   payments changed) is taken in by a run on Spark, as `olist run` does: the tables equal a
   DuckDB warehouse planned from scratch on the whole lake.
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
from helpers.warehouse import clean_environment, run_sqlmesh

pytestmark = pytest.mark.slow

DRIVER = Path(__file__).parents[1] / "helpers" / "spark_driver.py"


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
    ]
    (work / "steps.json").write_text(json.dumps(steps))
    result = subprocess.run(
        [sys.executable, str(DRIVER), str(work / "steps.json"), str(work / "results.json")],
        env=clean_environment(_spark_env(work, lake)),
        cwd=work,
        capture_output=True,
        text=True,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"the Spark driver failed:\n{output[-20000:]}"
    results = json.loads((work / "results.json").read_text())
    assert [r.get("failed") for r in results if "failed" in r] == [False, False], results
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
