"""What differs between the engines the models run on: DuckDB (the default) and Spark.

The models are written once, in DuckDB's dialect; SQLMesh transpiles them to the engine's. What
transpiling cannot carry over is decided here, by the gateway variable `engine` (config.yaml sets
`engine: spark` on the spark gateway; without it the engine is DuckDB). A variable, not the
engine adapter, because the model kinds are rendered while SQLMesh loads the project, when there
is no engine yet.

**Key-grain models on Spark.** On DuckDB, the models kept one row per key (an order, a customer,
a day, a month) are INCREMENTAL_BY_PARTITION on that key: a run replaces the rows of the keys it
touched (a DELETE of those keys, then an INSERT) and deletes emptied keys' markers afterwards.
Spark's plain Parquet tables replace whole Hive partitions (INSERT OVERWRITE), one folder per
partition value, and have no DELETE or MERGE (those need Delta or Iceberg, whose jars come from
Maven): a partition per order is not feasible. On Spark these models are therefore FULL, rebuilt
whole on every run, with `@rebuilding()` TRUE. The ledger and the version models stay
incremental on both engines: they are partitioned by lake export, a few hundred a year.
"""

from __future__ import annotations

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator, RuntimeStage

SPARK = "spark"


def engine_of(evaluator: MacroEvaluator) -> str:
    """The engine the models run on: `duckdb`, or `spark` on the spark gateway. SQLMesh's unit
    tests run in DuckDB whatever the gateway (config.yaml: default_test_connection)."""
    if evaluator.runtime_stage == RuntimeStage.TESTING.value:
        return "duckdb"
    return evaluator.var("engine") or "duckdb"


def rebuilds_keyed_models(evaluator: MacroEvaluator) -> bool:
    """Whether the key-grain models are FULL (rebuilt whole) rather than incremental by key."""
    return engine_of(evaluator) == SPARK


@macro()
def incremental_by_key(evaluator: MacroEvaluator) -> exp.Expression:
    """`kind @incremental_by_key()`: INCREMENTAL_BY_PARTITION on DuckDB, FULL on Spark."""
    return exp.var("FULL" if rebuilds_keyed_models(evaluator) else "INCREMENTAL_BY_PARTITION")


@macro()
def key_partition(evaluator: MacroEvaluator, *columns: exp.Expression) -> exp.Expression:
    """`partitioned_by @key_partition(order_id)`: the key columns on DuckDB; on Spark none (the
    model is FULL there, and a Hive partition per key is not feasible)."""
    if rebuilds_keyed_models(evaluator):
        return exp.Tuple(expressions=[])
    return columns[0] if len(columns) == 1 else exp.Tuple(expressions=list(columns))


@macro()
def decimal_of(
    evaluator: MacroEvaluator,
    value: exp.Expression,
    precision: exp.Expression,
    scale: exp.Expression,
) -> exp.Expression:
    """`@decimal_of(revenue / NULLIF(order_count, 0), 12, 2)`: a quotient or an average as
    DECIMAL(precision, scale), rounded as DuckDB rounds it on both engines.

    DuckDB divides and averages in DOUBLE and rounds the double, times 10^scale, half away from
    zero (149.765 is the double 149.76499999..., so 149.76). Spark divides DECIMALs exactly and
    rounds the exact quotient (149.77). On Spark the divisions are therefore made in DOUBLE and
    the double rounded the same way: ROUND of a double rounds half up there too.
    """
    decimal = f"DECIMAL({int(precision.name)}, {int(scale.name)})"
    if engine_of(evaluator) != SPARK:
        return exp.cast(value, exp.DataType.build(decimal))
    double = exp.DataType.build("DOUBLE")

    def in_double(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Div):
            return exp.Div(
                this=exp.cast(node.this, double), expression=exp.cast(node.expression, double)
            )
        return node

    in_doubles = value.copy().transform(in_double).sql(dialect=evaluator.dialect)
    factor = 10 ** int(scale.name)
    return exp.maybe_parse(
        f"CAST(CAST(ROUND(CAST({in_doubles} AS DOUBLE) * {factor}) AS DECIMAL(38, 0)) "
        f"/ {factor} AS {decimal})",
        dialect=evaluator.dialect,
    )
