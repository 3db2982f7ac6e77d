"""Read bronze tables out of the staging database as Arrow batches.

The export reads the rows of loads it has not exported yet; the ingest reads the keys and row
hashes already loaded, to skip unchanged rows. PostgreSQL is read through connectorx (binary
protocol straight into Arrow, the fastest reader measured here), DuckDB through its own Arrow
interface; either way the caller gets batches of at most BATCH_ROWS rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol

import pyarrow as pa

from ingest.destinations import STAGING_DATASET
from ingest.postgres_errors import is_connection_lost, postgres_server
from olist.config import Settings
from olist.errors import StagingDatabaseError
from olist.sql import sql_string

BATCH_ROWS = 256 * 1024
LOADS_TABLE = f"{STAGING_DATASET}._dlt_loads"  # dlt's record of completed loads (status 0)
FIRST_LOAD_QUERY = f"SELECT min(load_id) FROM {LOADS_TABLE} WHERE status = 0"


class StagingReader(Protocol):
    def table_exists(self, table: str) -> bool: ...

    def row_count(self, table: str) -> int: ...

    def first_load_id(self) -> str | None:
        """The first completed load's id: it tells this staging database from any other."""
        ...

    def row_counts(self, tables: Sequence[str]) -> dict[str, int]:
        """Rows of each of `tables` that exists, over one connection (the site's quality page)."""
        ...

    def read(
        self, table: str, columns: Sequence[str] = (), after_load_id: str | None = None
    ) -> Iterator[pa.RecordBatch]:
        """Rows of a bronze table (all columns unless named), from loads after the given one."""
        ...


def _select_query(table: str, columns: Sequence[str], after_load_id: str | None) -> str:
    selected = ", ".join(f'"{c}"' for c in columns) or "*"
    # Load ids are dlt's numeric-looking strings ("1795691668.6532552"); every id has the same
    # number of integer digits, so comparing them as text orders them in time.
    where = ""
    if after_load_id is not None:
        where = f" WHERE _dlt_load_id > {sql_string(after_load_id)}"
    return f'SELECT {selected} FROM {STAGING_DATASET}."{table}"{where}'


class PostgresReader:
    def __init__(self, url: str) -> None:
        self._url = url

    def table_exists(self, table: str) -> bool:
        import psycopg

        with psycopg.connect(self._url) as con:
            row = con.execute(
                "SELECT to_regclass(%s) IS NOT NULL", (f'{STAGING_DATASET}."{table}"',)
            ).fetchone()
        return bool(row and row[0])

    def row_count(self, table: str) -> int:
        import psycopg

        with psycopg.connect(self._url) as con:
            return con.execute(f'SELECT count(*) FROM {STAGING_DATASET}."{table}"').fetchone()[0]

    def first_load_id(self) -> str | None:
        import psycopg

        with psycopg.connect(self._url) as con:
            if not con.execute("SELECT to_regclass(%s) IS NOT NULL", (LOADS_TABLE,)).fetchone()[0]:
                return None
            return con.execute(FIRST_LOAD_QUERY).fetchone()[0]

    def row_counts(self, tables: Sequence[str]) -> dict[str, int]:
        import psycopg

        counts = {}
        with psycopg.connect(self._url) as con:
            for table in tables:
                name = f'{STAGING_DATASET}."{table}"'
                if con.execute("SELECT to_regclass(%s) IS NOT NULL", (name,)).fetchone()[0]:
                    counts[table] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        return counts

    def read(
        self, table: str, columns: Sequence[str] = (), after_load_id: str | None = None
    ) -> Iterator[pa.RecordBatch]:
        import connectorx

        try:
            reader = connectorx.read_sql(
                self._url,
                _select_query(table, columns, after_load_id),
                return_type="arrow_stream",
                batch_size=BATCH_ROWS,
            )
            yield from reader
        except BaseException as error:
            # connectorx reports a connection lost mid-read as a Rust panic (pyo3's
            # PanicException, a BaseException nothing above would catch) and a server that
            # cannot be reached as a RuntimeError.
            panic = type(error).__name__ == "PanicException"
            if not (isinstance(error, Exception) or panic) or not is_connection_lost(str(error)):
                raise
            cause = str(error).strip().splitlines()[0]
            raise StagingDatabaseError(
                f"Reading {STAGING_DATASET}.{table} from the staging database "
                f"{postgres_server(self._url)} failed: the connection was lost ({cause}). Once "
                "the server answers again (check OLIST_STAGING_URL), rerun."
            ) from None


class DuckDBReader:
    def __init__(self, path: str) -> None:
        self._path = path

    def _connect(self):
        import duckdb

        return duckdb.connect(self._path, read_only=True)

    def table_exists(self, table: str) -> bool:
        with self._connect() as con:
            row = con.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = ? AND table_name = ?",
                [STAGING_DATASET, table],
            ).fetchone()
        return bool(row and row[0])

    def row_count(self, table: str) -> int:
        with self._connect() as con:
            return con.execute(f'SELECT count(*) FROM {STAGING_DATASET}."{table}"').fetchone()[0]

    def first_load_id(self) -> str | None:
        if not self.table_exists("_dlt_loads"):
            return None
        with self._connect() as con:
            return con.execute(FIRST_LOAD_QUERY).fetchone()[0]

    def row_counts(self, tables: Sequence[str]) -> dict[str, int]:
        with self._connect() as con:
            existing = {
                name
                for (name,) in con.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
                    [STAGING_DATASET],
                ).fetchall()
            }
            return {
                table: con.execute(f'SELECT count(*) FROM {STAGING_DATASET}."{table}"').fetchone()[
                    0
                ]
                for table in tables
                if table in existing
            }

    def read(
        self, table: str, columns: Sequence[str] = (), after_load_id: str | None = None
    ) -> Iterator[pa.RecordBatch]:
        with self._connect() as con:
            result = con.execute(_select_query(table, columns, after_load_id))
            yield from result.to_arrow_reader(BATCH_ROWS)


def staging_reader(settings: Settings) -> StagingReader:
    if settings.staging_is_postgres:
        return PostgresReader(settings.staging_url)
    return DuckDBReader(str(settings.duckdb_staging_path))
