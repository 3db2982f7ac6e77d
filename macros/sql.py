"""SQL text for the macros that build queries as strings, and the queries they run while a model
renders (no macro is defined here).

Those queries are written in the models' dialect (DuckDB's) and handed to the engine adapter as
parsed expressions, which it writes in the engine's dialect: a raw string would reach Spark with
DuckDB's quoting.
"""

from __future__ import annotations

from sqlglot import exp
from sqlmesh.core.macros import MacroEvaluator


def string_literal(text: str, dialect: str) -> str:
    """`text` as a string literal of `dialect`, quoted by sqlglot (`'it''s'` in DuckDB)."""
    return exp.Literal.string(text).sql(dialect=dialect)


def fetchall(evaluator: MacroEvaluator, query: str) -> list[tuple]:
    """The rows of `query`, written in the models' dialect, run on the warehouse's engine."""
    return evaluator.engine_adapter.fetchall(exp.maybe_parse(query, dialect=evaluator.dialect))


def table_exists(evaluator: MacroEvaluator, table: str) -> bool:
    """Whether `table` (a name in the models' dialect, such as `evaluator.this_model`) exists."""
    return evaluator.engine_adapter.table_exists(exp.to_table(table, dialect=evaluator.dialect))
