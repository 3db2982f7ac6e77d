"""SQL text built from values: the one place a value becomes a SQL string literal."""

from __future__ import annotations


def sql_string(text: str) -> str:
    """`text` as a SQL string literal (`'it''s'`), for statements that take no parameters
    (DuckDB's `FORCE INSTALL`, table functions' arguments, SQLMesh's engine adapter)."""
    return "'" + text.replace("'", "''") + "'"
