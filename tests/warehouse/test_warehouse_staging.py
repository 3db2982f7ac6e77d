"""The SQLMesh project on the real sample: both gateways build it, staging matches the lake.

The `local` gateway (DuckDB state, local lake) and the `full` gateway (lake in S3 through httpfs,
state in PostgreSQL) each plan every model into prod once per session (see warehouse_helpers);
the tests below read what they built. The plans run in a non-UTC session time zone, so the
timestamp test also proves staging does not depend on it.
"""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
import pytest
from helpers.scenarios import unit_test_files
from helpers.warehouse import (
    STAGING_GRAIN_IN_LAKE,
    Warehouse,
    distinct_lake_keys,
    output_of,
    plan_prod,
    run_sqlmesh,
)
from ruamel.yaml import YAML

# Each of these builds a warehouse, runs the pipeline end to end or starts a stack.
pytestmark = pytest.mark.slow

STAGING_MODELS = sorted(STAGING_GRAIN_IN_LAKE)


def assert_plan_passed(warehouse: Warehouse) -> None:
    output = output_of(warehouse.plan)
    assert warehouse.plan.returncode == 0, output
    assert "Virtual layer updated" in output, output
    assert "audits failed" not in output.lower(), output


def staging_counts_and_lake_keys(warehouse: Warehouse) -> tuple[dict, dict]:
    with warehouse.connect() as con:
        counts = {
            model: con.execute(f"SELECT count(*) FROM staging.{model}").fetchone()[0]
            for model in STAGING_MODELS
        }
        keys = {
            model: distinct_lake_keys(con, warehouse.lake.settings, model)
            for model in STAGING_MODELS
        }
    return counts, keys


def test_local_gateway_plans_every_model_with_all_audits_passing(local_warehouse):
    assert_plan_passed(local_warehouse)


def test_local_staging_has_one_row_per_distinct_key_in_the_lake(local_warehouse):
    counts, lake_keys = staging_counts_and_lake_keys(local_warehouse)
    assert counts == lake_keys
    assert counts["stg_orders"] == 20_864  # the sample's orders (SOURCE.md)


def test_local_gateway_keeps_sqlmesh_state_in_the_warehouse_file(local_warehouse):
    with local_warehouse.connect() as con:
        snapshots = con.execute("SELECT count(*) FROM sqlmesh._snapshots").fetchone()[0]
    assert snapshots >= len(STAGING_MODELS)


def test_staging_timestamps_are_the_csv_local_times_in_a_non_utc_session(
    local_warehouse, sample_dir
):
    csv = sample_dir / "olist_orders_dataset.csv"
    with local_warehouse.connect() as con:
        compared, mismatched = con.execute(
            f"""
            SELECT
                count(*),
                count(*) FILTER (
                    WHERE strftime(o.order_purchased_at, '%Y-%m-%d %H:%M:%S')
                              IS DISTINCT FROM nullif(c.order_purchase_timestamp, '')
                       OR strftime(o.order_delivered_customer_at, '%Y-%m-%d %H:%M:%S')
                              IS DISTINCT FROM nullif(c.order_delivered_customer_date, '')
                       OR strftime(o.order_estimated_delivery_date, '%Y-%m-%d')
                              IS DISTINCT FROM left(c.order_estimated_delivery_date, 10)
                )
            FROM staging.stg_orders AS o
            JOIN read_csv('{csv}', all_varchar = true) AS c USING (order_id)
            """
        ).fetchone()
    assert compared == 20_864
    assert mismatched == 0


def test_full_gateway_plans_every_model_from_the_s3_lake_with_all_audits_passing(
    full_warehouse,
):
    assert full_warehouse.lake.settings.lake_url.startswith("s3://")
    assert_plan_passed(full_warehouse)


def test_full_staging_has_one_row_per_distinct_key_in_the_s3_lake(full_warehouse):
    counts, lake_keys = staging_counts_and_lake_keys(full_warehouse)
    assert counts == lake_keys
    assert counts["stg_orders"] == 20_864


def test_full_gateway_keeps_sqlmesh_state_in_postgresql_not_in_the_warehouse(full_warehouse):
    env = full_warehouse.env
    with psycopg.connect(
        host=env["OLIST_STATE_HOST"],
        port=env["OLIST_STATE_PORT"],
        dbname=env["OLIST_STATE_DATABASE"],
        user=env["OLIST_STATE_USER"],
        password=env["OLIST_STATE_PASSWORD"],
    ) as pg:
        snapshots = pg.execute("SELECT count(*) FROM sqlmesh._snapshots").fetchone()[0]
    assert snapshots >= len(STAGING_MODELS)
    with full_warehouse.connect() as con:
        warehouse_schemas = con.execute(
            "SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database()"
        ).fetchall()
    assert ("staging",) in warehouse_schemas
    assert ("sqlmesh",) not in warehouse_schemas


def test_a_lake_without_exports_fails_the_plan_naming_where_it_looked(tmp_path: Path):
    # A lake nothing was exported to yet (or a wrong OLIST_LAKE_URL): no export recorded.
    lake = tmp_path / "lake"
    lake.mkdir()
    env = {"OLIST_LAKE_URL": str(lake), "OLIST_WAREHOUSE_PATH": str(tmp_path / "wh.duckdb")}

    result = plan_prod(env, cwd=tmp_path)

    output = output_of(result)
    assert result.returncode != 0
    # The console wraps long lines anywhere, even inside the path.
    unwrapped = "".join(output.split())
    assert f"nothingmatches{lake}/_dlt_loads/*" in unwrapped, output
    assert "`olistexport`" in unwrapped, output
    assert "Traceback" not in output


def unit_test_names() -> set[str]:
    """Every YAML unit test under tests/: the top-level keys of its test_*.yaml files."""
    yaml = YAML(typ="safe")
    names: set[str] = set()
    for path in unit_test_files():
        names.update(yaml.load(path.read_text(encoding="utf-8")))
    return names


def test_every_sqlmesh_unit_test_runs_and_passes(tmp_path: Path):
    expected = unit_test_names()
    assert expected, "no YAML unit tests found in tests/"

    # Unit tests run in their own in-memory DuckDB; the warehouse setting only keeps any file
    # SQLMesh might open out of the repository.
    env = {"OLIST_WAREHOUSE_PATH": str(tmp_path / "wh.duckdb")}
    result = run_sqlmesh(env, "test", cwd=tmp_path)

    output = output_of(result)
    assert result.returncode == 0, output
    ran = re.search(r"Successfully Ran `(\d+)` Tests", output)
    assert ran is not None, output
    assert int(ran.group(1)) == len(expected)
