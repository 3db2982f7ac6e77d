"""Where the bronze lake is and how to read it: the only code that knows the lake is Parquet.

The lake (written by `olist export`) holds one folder per bronze table, `<lake>/<table>/`, of
Parquet files. Each export adds the rows that are new or changed since the last one, so a key
can have several versions; the latest is the one with the greatest `_dlt_load_id`.

A run reads only what is new: the ledger model `staging.lake_files` takes in the files of the
complete exports it has not seen (`FROM @new_lake_files()`), and each
`staging.stg_<table>_versions` model reads the files of its table that the ledger took in after
its watermark (`FROM @read_new_loads('orders')`), keeping the latest version of each key within
an export with `QUALIFY @is_latest_version(order_id, _lake_load_id)`. macros/incremental.py says
how a run knows what it has not processed; ingest/lake_layout.py, where the files are.

Modules outside this folder are imported inside the functions: SQLMesh stores a macro's
module-level names by value with the model, and a module of the `olist` or `ingest` package would
be stored by value or as an import depending on where the project was loaded from, changing every
model's fingerprint.
"""

from __future__ import annotations

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator, RuntimeStage
from sqlmesh.utils.errors import SQLMeshError

from macros.engine import SPARK, engine_of
from macros.incremental import LEDGER, evaluating, is_rebuilding, watermark_of
from macros.sql import fetchall, string_literal

# SQLMesh unit tests can only stand in for tables, not for files: under test, a lake read becomes
# this schema's table of the same name, which the test's `inputs` provide (`bronze.orders`).
UNIT_TEST_SCHEMA = "bronze"

LISTING_COLUMNS = [("lake_load_id", "VARCHAR"), ("lake_table", "VARCHAR"), ("file", "VARCHAR")]
FILE_COLUMNS = [("file", "VARCHAR"), ("lake_load_id", "VARCHAR"), ("batch", "INT")]


def complete_exports(evaluator: MacroEvaluator) -> list[str]:
    """The load ids of the exports that finished writing (an export still running is not seen)."""
    from ingest.lake_layout import completed_exports_pattern, export_load_id
    from olist.warehouse.lake_listing import list_files

    pattern = completed_exports_pattern(evaluator.var("lake_url"))
    (listing,) = list_files(evaluator.engine_adapter, [pattern])
    return sorted(export_load_id(file) for file in listing)


def lake_files_of_exports(
    evaluator: MacroEvaluator, exports: list[str]
) -> list[tuple[str, str, str]]:
    """(export load id, table, file) of every Parquet file the given exports wrote: one listing
    of a file-name prefix per export and table (ingest/lake_layout.py), no file opened."""
    from ingest.lake_layout import export_files_pattern
    from ingest.tables import TABLES
    from olist.warehouse.lake_listing import list_files

    lake_url = evaluator.var("lake_url")
    tables = sorted(table.name for table in TABLES)
    pairs = [(export, table) for export in exports for table in tables]
    patterns = [export_files_pattern(lake_url, table, export) for export, table in pairs]
    listings = list_files(evaluator.engine_adapter, patterns)
    return [
        (export, table, file)
        for (export, table), files in zip(pairs, listings, strict=True)
        for file in files
    ]


@macro()
def new_lake_files(evaluator: MacroEvaluator) -> exp.Expression:
    """`FROM @new_lake_files() AS listing`: the files of the complete exports not yet in the
    ledger (`staging.lake_files`, the model this is used in), as rows (lake_load_id, lake_table,
    file). Under test, the `bronze.lake_listing` table of the test's inputs."""
    if evaluator.runtime_stage == RuntimeStage.TESTING.value:
        return exp.to_table(f"{UNIT_TEST_SCHEMA}.lake_listing")
    if not evaluating(evaluator):
        return _empty_relation(evaluator, LISTING_COLUMNS)
    exports = complete_exports(evaluator)
    if is_rebuilding(evaluator):
        if not exports:
            from ingest.lake_layout import completed_exports_pattern

            raise SQLMeshError(
                "The lake holds no complete export (nothing matches "
                f"{completed_exports_pattern(evaluator.var('lake_url'))}): export to it first "
                "(`olist export`, or `olist run`), or point OLIST_LAKE_URL at the lake."
            )
    else:
        known = fetchall(evaluator, f"SELECT DISTINCT lake_load_id FROM {evaluator.this_model}")
        exports = sorted(set(exports) - {load_id for (load_id,) in known})
    files = lake_files_of_exports(evaluator, exports)
    if not files:
        return _empty_relation(evaluator, LISTING_COLUMNS)
    return _values(evaluator, files, LISTING_COLUMNS)


@macro()
def read_new_loads(evaluator: MacroEvaluator, table: exp.Expression) -> exp.Expression:
    """`FROM @read_new_loads('orders') AS bronze`: the rows of the lake files of a bronze table
    that the ledger took in after this model's watermark, with the export's load id
    (`_lake_load_id`) and the ledger's batch (`_batch`). DuckDB opens only those files; with none,
    an empty relation of the table's columns. Under test, the `bronze.<table>` table of the
    test's inputs."""
    name = table.name
    if evaluator.runtime_stage == RuntimeStage.TESTING.value:
        return exp.to_table(f"{UNIT_TEST_SCHEMA}.{name}")
    columns = _bronze_columns(name)
    if not evaluating(evaluator):
        return _empty_relation(evaluator, columns)
    files = fetchall(
        evaluator,
        f"SELECT file, lake_load_id, batch FROM {evaluator.resolve_table(LEDGER)} "
        f"WHERE lake_table = {string_literal(name, evaluator.dialect)} "
        f"AND batch > {watermark_of(evaluator)} ORDER BY file",
    )
    if not files:
        return _empty_relation(evaluator, columns)
    if engine_of(evaluator) == SPARK:
        return _read_files_one_by_one(evaluator, files, columns)
    file_list = ", ".join(string_literal(file, evaluator.dialect) for file, _, _ in files)
    file_batches = _values(evaluator, files, FILE_COLUMNS).sql(dialect=evaluator.dialect)
    return exp.maybe_parse(
        "(SELECT parquet.*, files.lake_load_id AS _lake_load_id, files.batch AS _batch "
        f"FROM read_parquet([{file_list}], filename := TRUE, union_by_name := TRUE) AS parquet "
        f"INNER JOIN {file_batches} AS files "
        "ON parquet.filename = files.file)",
        dialect=evaluator.dialect,
    )


def _read_files_one_by_one(
    evaluator: MacroEvaluator, files, columns: list[tuple[str, str]]
) -> exp.Expression:
    """The files as a UNION ALL of one `read_parquet('<file>')` each, the form sqlglot turns into
    Spark's `parquet.`<file>`` (it drops a list of files and read_parquet's options), with the
    export's load id and the batch as literals. The columns are selected by name, as DuckDB's
    union_by_name matches them."""
    dialect = evaluator.dialect
    selected = ", ".join(name for name, _ in columns if name not in ("_lake_load_id", "_batch"))
    reads = [
        f"SELECT {selected}, {string_literal(lake_load_id, dialect)} AS _lake_load_id, "
        f"{int(batch)} AS _batch FROM read_parquet({string_literal(file, dialect)})"
        for file, lake_load_id, batch in files
    ]
    return exp.maybe_parse(f"({' UNION ALL '.join(reads)})", dialect=dialect)


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


def _bronze_columns(table: str) -> list[tuple[str, str]]:
    """(name, DuckDB type) of a bronze table's columns in the lake, with the load columns."""
    from ingest.tables import DUCKDB_TYPES, ROW_KEY, TABLES

    source = next(t for t in TABLES if t.name == table)
    columns = [(c.name, DUCKDB_TYPES[c.kind]) for c in source.columns]
    if not source.primary_key:
        columns.append((ROW_KEY, "VARCHAR"))
    return [*columns, ("_dlt_load_id", "VARCHAR"), ("_lake_load_id", "VARCHAR"), ("_batch", "INT")]


def _empty_relation(evaluator: MacroEvaluator, columns: list[tuple[str, str]]) -> exp.Expression:
    """A subquery with the given typed columns and no row."""
    select = ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in columns)
    return exp.maybe_parse(f"(SELECT {select} WHERE FALSE)", dialect=evaluator.dialect)


def _values(evaluator: MacroEvaluator, rows, columns: list[tuple[str, str]]) -> exp.Expression:
    """A subquery of string and number rows with the given column names."""
    values = ", ".join(
        "("
        + ", ".join(
            string_literal(v, evaluator.dialect) if isinstance(v, str) else str(int(v)) for v in row
        )
        + ")"
        for row in rows
    )
    names = ", ".join(name for name, _ in columns)
    return exp.maybe_parse(
        f"(SELECT * FROM (VALUES {values}) AS rows({names}))", dialect=evaluator.dialect
    )
