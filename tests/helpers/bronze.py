"""Helpers the bronze tests share: run the CLI, count rows in staging and in the lake."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import duckdb
import psycopg

from ingest.tables import TABLES
from olist.cli import main
from olist.config import Settings, load_settings
from olist.sql import sql_string

# Row counts of ../shared/data/olist/sample, from its SOURCE.md.
SAMPLE_ROWS = {
    "customers": 20_864,
    "geolocation": 50_000,
    "order_items": 23_670,
    "order_payments": 21_850,
    "order_reviews": 20_795,
    "orders": 20_864,
    "products": 11_698,
    "sellers": 2_119,
    "product_category_name_translation": 71,
}
BRONZE_TABLES = [t.name for t in TABLES]


def olist(*args: str) -> int:
    return main(list(args))


def staging_counts(settings: Settings, tables: Sequence[str] = BRONZE_TABLES) -> dict[str, int]:
    query = "SELECT count(*) FROM raw.{}"
    if settings.staging_is_postgres:
        with psycopg.connect(settings.staging_url) as con:
            return {t: con.execute(query.format(t)).fetchone()[0] for t in tables}
    with duckdb.connect(str(settings.duckdb_staging_path), read_only=True) as con:
        return {t: con.execute(query.format(t)).fetchone()[0] for t in tables}


@contextmanager
def lake_connection(settings: Settings) -> Iterator[duckdb.DuckDBPyConnection]:
    """DuckDB reading the lake the way the silver layer does (httpfs for S3)."""
    con = duckdb.connect()
    if settings.s3 is not None:
        s3 = settings.s3
        endpoint = (s3.endpoint_url or "").removeprefix("http://").removeprefix("https://")
        con.execute("LOAD httpfs")
        con.execute(
            "CREATE SECRET lake (TYPE s3, KEY_ID ?, SECRET ?, ENDPOINT ?, URL_STYLE 'path', "
            "USE_SSL ?, REGION ?)",
            [
                s3.access_key_id,
                s3.secret_access_key,
                endpoint,
                bool(s3.endpoint_url and s3.endpoint_url.startswith("https")),
                s3.region,
            ],
        )
    try:
        yield con
    finally:
        con.close()


def lake_glob(settings: Settings, folder: str) -> str:
    return f"{settings.lake_url}/{folder}/*.parquet"


def lake_counts(
    settings: Settings, tables: Sequence[str] = BRONZE_TABLES, latest_only: bool = False
) -> dict[str, int]:
    """Rows per lake folder; with `latest_only`, rows left after keeping each key's latest load."""
    from ingest.tables import TABLES_BY_NAME

    counts = {}
    with lake_connection(settings) as con:
        for name in tables:
            source = f"read_parquet({sql_string(lake_glob(settings, name))})"
            if latest_only:
                key = ", ".join(TABLES_BY_NAME[name].merge_key)
                source = (
                    f"(SELECT * FROM {source} QUALIFY row_number() OVER "
                    f"(PARTITION BY {key} ORDER BY _dlt_load_id DESC) = 1)"
                )
            counts[name] = con.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
    return counts


def current_settings() -> Settings:
    return load_settings(Path(".env"))
