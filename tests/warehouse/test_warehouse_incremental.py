"""Incremental runs on the real sample: a month of new data costs the new days and the lookback.

The scenario, on each gateway (`local`: DuckDB state, local lake; `full`: lake in S3, state in
PostgreSQL), drives SQLMesh's clock with `olist snapshot`:

1. the sample as of the end of June 2018 (month M) is ingested, exported, and planned into prod
   with `sqlmesh plan --execution-time 2018-07-01`: every model built up to the end of June;
2. the sample as of the end of July 2018 (M+1) is ingested and exported: 1,299 new orders, and
   369 orders placed in May and June whose status moved on in July (368 delivered);
3. `sqlmesh run --end 2018-07-31` brings prod up to the end of July.

`sqlmesh run` has no `--execution-time` (0.236); `--end` bounds the intervals it processes, and
the daily cron needs no `--ignore-cron` since the real clock is years past the end. The tests
then read what the run processed (its per-model output lines) and compare every mart with a
warehouse rebuilt from scratch on the same July lake.

The rebuilt warehouse is built once, by the local gateway from the local lake. The S3 lake holds
the same rows (the same snapshots through the same `olist ingest` and `olist export`), and the
marts carry no load ids, so it is the full rebuild for both gateways.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from helpers.bronze import lake_connection, lake_glob
from helpers.scenarios import (
    GATEWAYS,
    PROJECT_MODELS,
    WIDE_CONSOLE,
    evaluated_batches,
    gateway_env,
    succeeded,
)
from helpers.servers import TEST_BUCKET_PREFIX, S3Server
from helpers.warehouse import (
    SampleLake,
    output_of,
    run_olist,
    run_sqlmesh,
)

from olist.config import S3Settings, Settings

# Each of these builds a warehouse, runs the pipeline end to end or starts a stack.
pytestmark = pytest.mark.slow

MONTH_M_LAST_DAY = date(2018, 6, 30)
NEXT_MONTH_LAST_DAY = date(2018, 7, 31)
NEXT_MONTH_FIRST_DAY = MONTH_M_LAST_DAY + timedelta(days=1)

# The incremental marts and their lookback (their MODEL blocks explain the 240 days).
INCREMENTAL_MARTS = ("marts.daily_sales_summary", "marts.fct_order_items", "marts.fct_orders")
LOOKBACK = timedelta(days=240)

MARTS = [model for model in PROJECT_MODELS if model.startswith("marts.")]

# `--skip-tests`: the YAML unit tests have their own test (test_warehouse_staging.py); running
# them again before every plan here would only add time.
PLAN_PROD = ("plan", "--auto-apply", "--no-prompts", "--skip-tests")


@dataclass(frozen=True)
class IncrementalWarehouse:
    """A prod warehouse planned at the end of month M, then run at the end of M+1."""

    path: Path
    lake: SampleLake
    run: subprocess.CompletedProcess[str]


def new_lake(request: pytest.FixtureRequest, gateway: str, work: Path) -> SampleLake:
    """An empty lake for `gateway` (a local folder, or a new S3 bucket) and its own staging."""
    s3: S3Settings | None = None
    lake_url = str(work / "lake")
    if gateway == "full":
        server: S3Server = request.getfixturevalue("s3_server")
        bucket = server.create_bucket(f"{TEST_BUCKET_PREFIX}{secrets.token_hex(6)}")
        lake_url = f"{bucket}/lake"
        s3 = S3Settings(
            endpoint_url=server.endpoint_url,
            access_key_id=server.access_key_id,
            secret_access_key=server.secret_access_key,
            region=server.region,
        )
    settings = Settings(
        staging_url=f"duckdb:///{work}/staging.duckdb",
        lake_url=lake_url,
        data_dir=work / "data",
        s3=s3,
    )
    env = {
        "OLIST_STAGING_URL": settings.staging_url,
        "OLIST_LAKE_URL": settings.lake_url,
        "OLIST_DATA_DIR": str(settings.data_dir),
    }
    if s3 is not None:
        env |= {
            "OLIST_S3_ENDPOINT_URL": s3.endpoint_url or "",
            "OLIST_S3_ACCESS_KEY_ID": s3.access_key_id,
            "OLIST_S3_SECRET_ACCESS_KEY": s3.secret_access_key,
            "OLIST_S3_REGION": s3.region,
        }
    return SampleLake(settings=settings, env=env)


def load_into_lake(lake: SampleLake, source: Path, cwd: Path) -> None:
    run_olist(lake.env, "ingest", "--source", str(source), cwd=cwd)
    run_olist(lake.env, "export", cwd=cwd)


# ---------------------------------------------------------------------------------------------
# Module fixtures: the two snapshots, each gateway's month-by-month warehouse, one full rebuild
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def month_snapshots(
    tmp_path_factory: pytest.TempPathFactory, sample_dir: Path
) -> tuple[Path, Path]:
    """The sample as of the end of month M and as of the end of M+1 (`olist snapshot`)."""
    work = tmp_path_factory.mktemp("snapshots")
    folders = []
    for last_day in (MONTH_M_LAST_DAY, NEXT_MONTH_LAST_DAY):
        as_of = last_day.isoformat()
        out = work / as_of
        arguments = ("--source", str(sample_dir), "--as-of", as_of, "--out", str(out))
        run_olist({}, "snapshot", *arguments, cwd=work)
        folders.append(out)
    return folders[0], folders[1]


def month_by_month(
    request: pytest.FixtureRequest, gateway: str, snapshots: tuple[Path, Path], work: Path
) -> Iterator[IncrementalWarehouse]:
    """Month M planned into prod, then month M+1 loaded and run, on `gateway`, in `work`."""
    month_m, next_month = snapshots
    lake = new_lake(request, gateway, work)
    path = work / "incremental.duckdb"
    with gateway_env(request, gateway, lake, path) as env:
        env |= WIDE_CONSOLE
        load_into_lake(lake, month_m, cwd=work)
        execution_time = NEXT_MONTH_FIRST_DAY.isoformat()
        succeeded(run_sqlmesh(env, *PLAN_PROD, "--execution-time", execution_time, cwd=work))

        load_into_lake(lake, next_month, cwd=work)
        run = succeeded(run_sqlmesh(env, "run", "--end", NEXT_MONTH_LAST_DAY.isoformat(), cwd=work))
        yield IncrementalWarehouse(path=path, lake=lake, run=run)


@pytest.fixture(scope="module")
def local_month_by_month(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    month_snapshots: tuple[Path, Path],
) -> Iterator[IncrementalWarehouse]:
    work = tmp_path_factory.mktemp("incremental-local")
    yield from month_by_month(request, "local", month_snapshots, work)


@pytest.fixture(scope="module")
def full_month_by_month(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    month_snapshots: tuple[Path, Path],
) -> Iterator[IncrementalWarehouse]:
    work = tmp_path_factory.mktemp("incremental-full")
    yield from month_by_month(request, "full", month_snapshots, work)


@pytest.fixture(scope="module", params=GATEWAYS)
def incremental(request: pytest.FixtureRequest) -> IncrementalWarehouse:
    """Each gateway's warehouse after the month-by-month scenario."""
    return request.getfixturevalue(f"{request.param}_month_by_month")


@pytest.fixture(scope="module")
def rebuilt(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    local_month_by_month: IncrementalWarehouse,
) -> Iterator[Path]:
    """A warehouse planned from scratch on the local lake as it is after month M+1."""
    work = tmp_path_factory.mktemp("rebuilt")
    path = work / "rebuilt.duckdb"
    with gateway_env(request, "local", local_month_by_month.lake, path) as env:
        after_next_month = (NEXT_MONTH_LAST_DAY + timedelta(days=1)).isoformat()
        succeeded(run_sqlmesh(env, *PLAN_PROD, "--execution-time", after_next_month, cwd=work))
        yield path


# ---------------------------------------------------------------------------------------------
# Tests
# ---------------------------------------------------------------------------------------------


def test_next_month_brings_new_orders_and_new_versions_of_orders_already_in_prod(incremental):
    """Without late status changes the lookback would have nothing to catch."""
    lake = incremental.lake.settings
    with lake_connection(lake) as con:
        orders_with_a_new_status, new_orders = con.execute(
            f"""
            WITH versions AS (
                SELECT order_id, order_status, _dlt_load_id::DOUBLE AS load_id
                FROM read_parquet('{lake_glob(lake, "orders")}')
            ), orders AS (
                SELECT order_id, count(DISTINCT order_status) AS statuses,
                       min(load_id) AS first_load_id
                FROM versions
                GROUP BY order_id
            )
            SELECT
                count(*) FILTER (WHERE statuses > 1),
                count(*) FILTER (WHERE first_load_id > (SELECT min(load_id) FROM versions))
            FROM orders
            """
        ).fetchone()
    assert orders_with_a_new_status > 0
    assert new_orders > 0


def test_run_inserts_only_the_new_month_and_the_lookback_into_incremental_marts(incremental):
    lookback_start = NEXT_MONTH_FIRST_DAY - LOOKBACK  # 2017-11-03, not 2016
    expected = f"insert {lookback_start} - {NEXT_MONTH_LAST_DAY}"

    batches = evaluated_batches(incremental.run)

    assert {mart: batches.get(mart) for mart in INCREMENTAL_MARTS} == {
        mart: [expected] for mart in INCREMENTAL_MARTS
    }, output_of(incremental.run)


def test_run_recreates_staging_views_and_rebuilds_every_other_model_whole(incremental):
    """SQLMesh re-evaluates every model whose daily cron came due: a FULL model is rebuilt
    whole (cheap at this size), a view is re-created; only the incremental marts are partial."""
    batches = evaluated_batches(incremental.run)
    others = [model for model in PROJECT_MODELS if model not in INCREMENTAL_MARTS]

    assert {model: batches.get(model) for model in others} == {
        model: ["recreate view" if model.startswith("staging.") else "full refresh"]
        for model in others
    }, output_of(incremental.run)


@pytest.mark.parametrize("mart", MARTS)
def test_mart_after_the_run_equals_a_full_rebuild_row_for_row(incremental, rebuilt, mart):
    with duckdb.connect() as con:
        # Attached under their file names: the catalog SQLMesh's views refer to.
        for path in (incremental.path, rebuilt):
            con.execute(f"ATTACH '{path}' AS {path.stem} (READ_ONLY)")
        run, full = f"{incremental.path.stem}.{mart}", f"{rebuilt.stem}.{mart}"
        rows = con.execute(f"SELECT count(*) FROM {full}").fetchone()[0]
        only_in_run = con.execute(f"SELECT * FROM {run} EXCEPT ALL SELECT * FROM {full}").fetchall()
        only_in_rebuild = con.execute(
            f"SELECT * FROM {full} EXCEPT ALL SELECT * FROM {run}"
        ).fetchall()

    assert rows > 0, f"{mart} is empty: comparing it proves nothing"
    assert only_in_run == [], (
        f"{len(only_in_run)} rows of {mart} are not in the full rebuild, e.g. {only_in_run[:3]}"
    )
    assert only_in_rebuild == [], (
        f"{len(only_in_rebuild)} rows of the full rebuild are not in {mart}, "
        f"e.g. {only_in_rebuild[:3]}"
    )


def test_every_mart_of_the_project_is_compared(rebuilt):
    with duckdb.connect(str(rebuilt), read_only=True) as con:
        views = con.execute(
            "SELECT 'marts.' || view_name FROM duckdb_views() WHERE schema_name = 'marts'"
        ).fetchall()
    assert MARTS, "no models found under models/marts/"
    assert sorted(view for (view,) in views) == MARTS
