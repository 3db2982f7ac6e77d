"""What each warehouse model holds, and what the last update took in and wrote, for the summary.

Every incremental model stamps the rows it writes with the batch of the run that wrote them
(`_batch`; macros/incremental.py), so after a run:

- rows written = the model's rows stamped with the run's batch (a FULL model rewrites them all);
- new rows in = the rows its parents wrote in the same run; for a version model, the rows of
  the run's new lake files (counted from their Parquet footers); for the ledger, the files.

The counts are kept in the warehouse (`_olist.row_counts`, which disappears with it) with the
plan and ledger batch they were taken at: a later `olist run` with nothing to do shows them
without counting again, and a ledger that moved on since says the last update did not finish.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from olist.sql import sql_string

LEDGER = "staging.lake_files"
LEDGER_BATCH = "batch"  # the ledger's batch column; every other model's is `_batch`
BATCH = "_batch"
ROW_COUNTS_TABLE = "_olist.row_counts"
# What earlier versions of `olist run` kept: the exports or loads the warehouse was built from.
_OLD_MARKER_TABLES = ("_olist.built_from_lake_exports", "_olist.built_from_lake_loads")

# Each bronze table's current-state staging model; `staging.<model>_versions` holds its versions.
STAGING_MODELS = {
    "customers": "stg_customers",
    "geolocation": "stg_geolocation",
    "order_items": "stg_order_items",
    "order_payments": "stg_order_payments",
    "order_reviews": "stg_order_reviews",
    "orders": "stg_orders",
    "products": "stg_products",
    "sellers": "stg_sellers",
    "product_category_name_translation": "stg_product_category_translations",
}


@dataclass(frozen=True)
class ModelRows:
    """One model's table: its rows, and what the update that just ran did to it (None when the
    model was not computed)."""

    rows: int
    rows_in: int | None = None
    rows_written: int | None = None


@dataclass(frozen=True)
class Recorded:
    """The counts kept at the end of the last complete update."""

    prod_plan_id: str
    batch: int
    models: dict[str, ModelRows]


def ledger_batch(adapter) -> int:
    """The ledger's greatest batch: the warehouse run that last took in lake exports."""
    if not adapter.table_exists(LEDGER):
        return 0
    return int(_fetchone(adapter, f"SELECT COALESCE(MAX({LEDGER_BATCH}), 0) FROM {LEDGER}")[0])


def count_rows(context, computed: set[str]) -> dict[str, ModelRows]:
    """Every model's rows, with rows in and written for the `computed` ones, in the order the
    summary shows them (staging, intermediate, marts; by name)."""
    adapter = context.engine_adapter
    batch = ledger_batch(adapter)
    written: dict[str, int] = {}
    totals: dict[str, int] = {}
    for name in sorted(_model_names(context), key=_layer_order):
        table = _view_name(name)
        totals[name] = _fetchone(adapter, f"SELECT count(*) FROM {table}")[0]
        if name not in computed:
            continue
        columns = adapter.columns(_query(table, into=exp.Table))
        stamp = LEDGER_BATCH if name == LEDGER else BATCH if BATCH in columns else None
        written[name] = (
            _fetchone(adapter, f"SELECT count(*) FROM {table} WHERE {stamp} = {batch}")[0]
            if stamp
            else totals[name]
        )
    counts = {}
    for name, rows in totals.items():
        if name not in computed:
            counts[name] = ModelRows(rows=rows)
            continue
        # Every incremental model lists the ledger as a parent for its batch number only.
        parents = _parents(context, name) - {LEDGER}
        if name == LEDGER:
            rows_in = written[name]  # the files it listed
        elif not parents:
            rows_in = _lake_rows(adapter, name, batch)
        else:
            rows_in = sum(written.get(parent, 0) for parent in parents)
        counts[name] = ModelRows(rows=rows, rows_in=rows_in, rows_written=written[name])
    return counts


def record(adapter, models: dict[str, ModelRows], prod_plan_id: str) -> None:
    """Keep the counts with the plan that made prod and the ledger batch it was brought up to."""
    adapter.execute("CREATE SCHEMA IF NOT EXISTS _olist")
    for table in _OLD_MARKER_TABLES:
        adapter.execute(f"DROP TABLE IF EXISTS {table}")
    # Dropped and created rather than CREATE OR REPLACE, which Spark's Parquet tables lack.
    adapter.execute(f"DROP TABLE IF EXISTS {ROW_COUNTS_TABLE}")
    adapter.execute(
        _query(
            f"CREATE TABLE {ROW_COUNTS_TABLE} (model TEXT NOT NULL, row_count BIGINT NOT NULL, "
            "prod_plan_id TEXT NOT NULL, batch INT NOT NULL)"
        )
    )
    batch = ledger_batch(adapter)
    values = ", ".join(
        f"({sql_string(name)}, {model.rows}, {sql_string(prod_plan_id)}, {batch})"
        for name, model in models.items()
    )
    if values:
        adapter.execute(_query(f"INSERT INTO {ROW_COUNTS_TABLE} VALUES {values}"))


def recorded(adapter) -> Recorded | None:
    """The counts of the last complete update; None when there are none (a warehouse built by
    hand with `sqlmesh plan`, or by an earlier version of `olist run`)."""
    if not adapter.table_exists(ROW_COUNTS_TABLE) or "batch" not in adapter.columns(
        ROW_COUNTS_TABLE
    ):
        return None
    rows = adapter.fetchall(
        _query(
            f"SELECT model, row_count, prod_plan_id, batch FROM {ROW_COUNTS_TABLE} ORDER BY model"
        )
    )
    if not rows:
        return None
    models = {model: ModelRows(rows=count) for model, count, _, _ in rows}
    ordered = {name: models[name] for name in sorted(models, key=_layer_order)}
    return Recorded(prod_plan_id=rows[0][2], batch=int(rows[0][3]), models=ordered)


def _model_names(context) -> list[str]:
    """`schema.model` of every model of the project."""
    return [model_name(model.fqn) for model in context.models.values()]


def _parents(context, name: str) -> set[str]:
    model = context.get_model(name)
    return {model_name(parent) for parent in model.depends_on}


def model_name(fqn: str) -> str:
    """`schema.model`, as the summary names a model: `"warehouse"."staging"."stg_orders"` →
    `staging.stg_orders`."""
    return ".".join(part.strip('"') for part in fqn.split(".")[-2:])


def _view_name(name: str) -> str:
    schema, table = name.split(".")
    return f'"{schema}"."{table}"'


def _layer_order(name: str) -> tuple[int, str]:
    layers = ("staging", "intermediate", "marts")
    return layers.index(name.split(".")[0]), name


def _lake_rows(adapter, model: str, batch: int) -> int:
    """The rows of the lake files the ledger took in with `batch` for a version model's table,
    from their Parquet footers (no data page is read)."""
    table = next(t for t, stg in STAGING_MODELS.items() if model == f"staging.{stg}_versions")
    files = adapter.fetchall(
        _query(
            f"SELECT file FROM {LEDGER} WHERE {LEDGER_BATCH} = {batch} "
            f"AND lake_table = {sql_string(table)}"
        )
    )
    if not files:
        return 0
    if adapter.dialect != "duckdb":  # Spark: the footers read here, DuckDB reads them itself
        return sum(_parquet_rows(file) for (file,) in files)
    file_list = ", ".join(sql_string(file) for (file,) in files)
    (rows,) = adapter.fetchone(
        f"SELECT COALESCE(SUM(num_rows), 0) FROM parquet_file_metadata([{file_list}])"
    )
    return int(rows)


def _parquet_rows(file: str) -> int:
    """The rows of a Parquet file, from its footer (a local path or an fsspec URL)."""
    import fsspec
    import pyarrow.parquet as pq

    with fsspec.open(file, "rb") as stream:
        return pq.ParquetFile(stream).metadata.num_rows


def _query(sql: str, into: type[exp.Expression] | None = None) -> exp.Expression:
    """`sql`, written in DuckDB's dialect as the models are, parsed: the engine adapter writes it
    in its engine's (Spark's identifiers are not in double quotes)."""
    return sqlglot.parse_one(sql, read="duckdb", into=into)


def _fetchone(adapter, sql: str) -> tuple:
    return adapter.fetchone(_query(sql))
