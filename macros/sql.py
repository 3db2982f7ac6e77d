"""SQL text for the macros that build queries as strings (no macro is defined here)."""

from __future__ import annotations

from sqlglot import exp


def string_literal(text: str, dialect: str) -> str:
    """`text` as a string literal of `dialect`, quoted by sqlglot (`'it''s'` in DuckDB)."""
    return exp.Literal.string(text).sql(dialect=dialect)
