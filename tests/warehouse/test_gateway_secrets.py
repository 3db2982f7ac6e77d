"""User values that reach SQL through config.yaml stay intact: an S3 secret with quotes in it.

SQLMesh writes the `full` gateway's DuckDB secret as `CREATE SECRET lake (secret '<value>', ...)`
without escaping, so config.yaml escapes the values itself. The test starts a real S3 server whose
secret holds both kinds of quote, loads config.yaml as SQLMesh does, and reads a Parquet file from
the server through the gateway's own connection.
"""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from helpers.servers import serve_s3
from sqlmesh.core.config import Config
from sqlmesh.core.config.loader import load_config_from_paths

PROJECT = Path(__file__).resolve().parents[2]
SECRET = "it's a \"quoted\" secret'' with -- and ; in it"


def test_an_s3_secret_holding_quotes_reaches_duckdb_intact(olist_env, tmp_path):
    with serve_s3(tmp_path, secret_access_key=SECRET) as server:
        bucket = server.create_bucket("quoted-secret")
        parquet = io.BytesIO()
        pq.write_table(pa.table({"n": [1, 2, 3]}), parquet)
        with server.filesystem().open(f"{bucket}/lake/t.parquet", "wb") as remote:
            remote.write(parquet.getvalue())
        olist_env.set(
            OLIST_GATEWAY="full",
            OLIST_LAKE_URL=f"{bucket}/lake",
            OLIST_S3_ENDPOINT_URL=server.endpoint_url,
            OLIST_S3_ACCESS_KEY_ID=server.access_key_id,
            OLIST_S3_SECRET_ACCESS_KEY=SECRET,
            OLIST_WAREHOUSE_PATH=tmp_path / "warehouse.duckdb",
        )
        config = load_config_from_paths(Config, project_paths=[PROJECT / "config.yaml"])
        adapter = config.get_connection("full").create_engine_adapter()
        try:
            rows = adapter.fetchone(f"SELECT sum(n) FROM read_parquet('{bucket}/lake/t.parquet')")
        finally:
            adapter.close()

    assert rows == (6,)
