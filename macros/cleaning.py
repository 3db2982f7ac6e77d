"""Value cleaning shared by the staging models: one definition per rule, unit-tested once.

Each macro takes a column and returns the SQL expression of its cleaned value, e.g.
`@clean_city(customer_city) AS customer_city`.
"""

from __future__ import annotations

import unicodedata

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator

from macros.engine import SPARK, engine_of
from macros.sql import string_literal

# Brazil's 27 federative units: the state codes that trail some city names ("andira-pr").
STATE_CODES = "ac|al|am|ap|ba|ce|df|es|go|ma|mg|ms|mt|pa|pb|pe|pi|pr|rj|rn|ro|rr|rs|sc|se|sp|to"

# Typed for an apostrophe in some names ("santa barbara d\u00b4oeste"): acute accent, backtick.
APOSTROPHE_LOOKALIKES = "\u00b4`"
APOSTROPHES = "''"

# What follows a city name and is not part of it: "sp / sp", "sao paulo - sp", "pinhais/pr",
# "rio de janeiro \rio de janeiro", "rio de janeiro, rio de janeiro, brasil",
# "arraial d'ajuda (porto seguro)", "andira-pr". A hyphen inside a name stays ("mogi-guacu").
# (The class starts with `,`: `[/` would read as a closing tag to rich, which prints plan diffs.)
CITY_SUFFIX = rf"(\s*[,(/\\]|\s+-\s+).*$|-({STATE_CODES})$"

# Values that name no city: digits only, or an e-mail address typed into the city field.
NOT_A_CITY = r"^([0-9 ]*|.*@.*)$"


def _accented_letters() -> tuple[str, str]:
    """The Latin letters with diacritics (U+00C0 to U+024F) and the letters without them, in the
    same order: what DuckDB's STRIP_ACCENTS does to them (Unicode decomposition, marks dropped)."""
    accented, plain = [], []
    for code in range(0xC0, 0x250):
        letter = chr(code)
        base = unicodedata.normalize("NFD", letter)[0]
        if base != letter and base.isascii():
            accented.append(letter)
            plain.append(base)
    return "".join(accented), "".join(plain)


def _strip_accents(evaluator: MacroEvaluator, text: str) -> str:
    """`text` without diacritics: DuckDB's STRIP_ACCENTS; on Spark, which has no such function,
    a TRANSLATE of the accented Latin letters."""
    if engine_of(evaluator) != SPARK:
        return f"STRIP_ACCENTS({text})"
    accented, plain = (
        string_literal(letters, evaluator.dialect) for letters in _accented_letters()
    )
    return f"TRANSLATE({text}, {accented}, {plain})"


def _sql(evaluator: MacroEvaluator, template: str, column: exp.Expression) -> exp.Expression:
    return exp.maybe_parse(
        template.format(column=column.sql(dialect=evaluator.dialect)), dialect=evaluator.dialect
    )


@macro()
def clean_text(evaluator: MacroEvaluator, column: exp.Expression) -> exp.Expression:
    """Trimmed text, NULL when nothing is left."""
    return _sql(evaluator, "NULLIF(TRIM(CAST({column} AS TEXT)), '')", column)


@macro()
def clean_city(evaluator: MacroEvaluator, column: exp.Expression) -> exp.Expression:
    """A city name comparable across tables: lower case without accents ("sao paulo").

    A value that names no city (digits only, an e-mail address, nothing left) becomes NULL.
    """
    # Each step wraps the previous one, so the SQL reads inside out; here it reads top down.
    city = f"CAST({column.sql(dialect=evaluator.dialect)} AS TEXT)"
    city = _strip_accents(evaluator, f"LOWER({city})")
    lookalikes, apostrophes = (
        string_literal(text, evaluator.dialect) for text in (APOSTROPHE_LOOKALIKES, APOSTROPHES)
    )
    city = f"TRANSLATE({city}, {lookalikes}, {apostrophes})"
    city = f"REGEXP_REPLACE({city}, {string_literal(CITY_SUFFIX, evaluator.dialect)}, '')"
    city = f"TRIM(REGEXP_REPLACE({city}, '\\s+', ' ', 'g'))"  # inner whitespace collapsed
    not_a_city = string_literal(NOT_A_CITY, evaluator.dialect)
    city = f"NULLIF(REGEXP_REPLACE({city}, {not_a_city}, ''), '')"
    return exp.maybe_parse(city, dialect=evaluator.dialect)


@macro()
def clean_state(evaluator: MacroEvaluator, column: exp.Expression) -> exp.Expression:
    """A state code in upper case ("SP"), NULL when empty."""
    return _sql(evaluator, "NULLIF(UPPER(TRIM(CAST({column} AS TEXT))), '')", column)


@macro()
def zip_code_prefix(evaluator: MacroEvaluator, column: exp.Expression) -> exp.Expression:
    """The 5-digit zip code prefix as text, leading zeros restored ("1001" → "01001")."""
    return _sql(evaluator, "LPAD(TRIM(CAST({column} AS TEXT)), 5, '0')", column)


@macro()
def local_timestamp(evaluator: MacroEvaluator, column: exp.Expression) -> exp.Expression:
    """An Olist timestamp as the naive local time the source wrote.

    The lake stores Olist's zone-less times as TIMESTAMP WITH TIME ZONE in UTC. A plain cast to
    TIMESTAMP would shift them to the session's TimeZone setting; taking the wall-clock time in
    UTC returns exactly what the CSV said, whatever the session's zone.

    On Spark the instant itself: its session time zone is UTC (config.yaml), so the instant's
    wall-clock time there is the same, and Spark has no zone-less cast of an instant to UTC.
    """
    if engine_of(evaluator) == SPARK:
        return column
    return _sql(evaluator, "TIMEZONE('UTC', {column})", column)
