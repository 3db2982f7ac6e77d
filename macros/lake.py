"""Where the bronze lake is and how to read it: the only code that knows the lake is Parquet.

The lake (written by `olist export`) holds one folder per bronze table, `<lake>/<table>/`, of
Parquet files. Each export appends the rows that are new or changed since the last one, so a key
can have several versions; the latest is the one with the greatest `_dlt_load_id`.

Models read a bronze table with `FROM @read_lake('orders')` and keep the latest version of each
key with `QUALIFY @is_latest_version(order_id)`.
"""

from __future__ import annotations

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator, RuntimeStage

# SQLMesh unit tests can only stand in for tables, not for files: under test, a lake read becomes
# this schema's table of the same name, which the test's `inputs` provide (`bronze.orders`).
UNIT_TEST_SCHEMA = "bronze"


def lake_folder(lake_url: str, table: str) -> str:
    """The folder of one bronze table: `<lake>/<table>`.

    A relative local lake stays relative: DuckDB reads it from the working directory, as `olist`
    writes it and as SQLMesh opens a relative warehouse path. Making it absolute here would put
    the checkout's location into every staging model's fingerprint, so two checkouts (or a
    container) sharing state would see changes nobody made.
    """
    return f"{lake_url.removeprefix('file://').rstrip('/')}/{table}"


@macro()
def lake_path(evaluator: MacroEvaluator, table: str) -> exp.Literal:
    """`@lake_path('orders')`: the lake folder of a bronze table, from the `lake_url` variable."""
    return exp.Literal.string(lake_folder(evaluator.var("lake_url"), table))


@macro()
def read_lake(evaluator: MacroEvaluator, table: str) -> exp.Expression:
    """`FROM @read_lake('orders')`: every row version of a bronze table in the lake."""
    if evaluator.runtime_stage == RuntimeStage.TESTING.value:
        return exp.to_table(f"{UNIT_TEST_SCHEMA}.{table}")
    files = exp.Literal.string(f"{lake_folder(evaluator.var('lake_url'), table)}/*.parquet")
    return exp.func("read_parquet", files)


@macro()
def is_latest_version(evaluator: MacroEvaluator, *key: exp.Expression) -> exp.Expression:
    """`QUALIFY @is_latest_version(order_id)`: true for the latest version of each key.

    Load ids are dlt's load start times as text (`1795701766.7155151`); they are compared as
    numbers, because as text '999999999.9' would sort after '1000000000.0'. DOUBLE is exact here:
    dlt writes the id from a Python float, so the text round-trips to the same double. (DECIMAL
    would be exact too but makes the window sort ~60x slower: 12 s instead of 0.2 s on 1 M rows.)
    """
    partition = ", ".join(column.sql(dialect=evaluator.dialect) for column in key)
    return exp.maybe_parse(
        f"ROW_NUMBER() OVER (PARTITION BY {partition} "
        "ORDER BY CAST(_dlt_load_id AS DOUBLE) DESC) = 1",
        dialect=evaluator.dialect,
    )
