"""One lake mirrors one staging database, and an export writes nothing outside the lake's prefix.

A second staging database exporting into a lake would write every row again, or nothing (the
export's cursor is the other database's last load): it is refused before anything is written.
Several hosts (data directories) exporting the same staging database share the lake exactly.
Real servers: PostgreSQL, the S3 server, DuckDB files; the CLI in-process or as subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.bronze import current_settings, lake_counts, olist, staging_counts

from ingest.lake_owner import OWNER_FILE

TABLES = ["customers", "orders", "order_items"]
OLIST = [sys.executable, "-m", "olist.cli"]


def _ingest(source: Path, *tables: str) -> None:
    assert olist("ingest", "--source", str(source), "--tables", ",".join(tables or TABLES)) == 0


def _lake_files(s3_server, lake_url: str) -> dict[str, int]:
    """Every object under the lake's bucket (or local parent folder), with its size."""
    if lake_url.startswith("s3://"):
        bucket = lake_url.removeprefix("s3://").split("/", 1)[0]
        fs = s3_server.filesystem()
        return {path: fs.size(path) for path in fs.find(bucket)}
    parent = Path(lake_url).parent
    return {str(p.relative_to(parent)): p.stat().st_size for p in parent.rglob("*") if p.is_file()}


@pytest.fixture(params=["local", "s3"])
def lake_url(request, olist_env, tmp_path) -> str:
    if request.param == "local":
        (tmp_path / "lakes").mkdir()
        return str(tmp_path / "lakes" / "lake")
    s3_server = request.getfixturevalue("s3_server")
    olist_env.set(
        OLIST_S3_ENDPOINT_URL=s3_server.endpoint_url,
        OLIST_S3_ACCESS_KEY_ID=s3_server.access_key_id,
        OLIST_S3_SECRET_ACCESS_KEY=s3_server.secret_access_key,
    )
    return f"{request.getfixturevalue('s3_bucket')}/lakes/lake"


def test_a_second_staging_database_is_refused_by_a_lake_that_mirrors_another_writing_nothing(
    olist_env, lake_url, postgres_url, sample_dir, capsys, request
):
    s3_server = request.getfixturevalue("s3_server") if lake_url.startswith("s3") else None
    work = olist_env.workdir
    olist_env.set(OLIST_LAKE_URL=lake_url, OLIST_STAGING_URL=f"duckdb:///{work}/first.duckdb")
    _ingest(sample_dir)
    assert olist("export") == 0
    lake_before = _lake_files(s3_server, lake_url)
    # Only the lake's own prefix: dlt once also wrote `<lake>_staging/` beside it.
    prefix = "lake/" if s3_server is None else f"{lake_url.removeprefix('s3://')}/"
    assert all(path.startswith(prefix) for path in lake_before), sorted(lake_before)
    assert any(path.endswith(OWNER_FILE) for path in lake_before)

    olist_env.set(OLIST_STAGING_URL=postgres_url)
    _ingest(sample_dir)
    capsys.readouterr()
    assert olist("export") == 1

    err = capsys.readouterr().err
    [line] = [text for text in err.splitlines() if text.startswith("error:")]
    assert f"The lake {lake_url} holds the exports of another staging database" in line
    assert f"duckdb:///{work}/first.duckdb" in line and "127.0.0.1" in line
    assert "OLIST_LAKE_URL" in line and "Nothing was written" in line
    assert "Traceback" not in err
    assert _lake_files(s3_server, lake_url) == lake_before

    # The lake's own staging database still exports into it.
    olist_env.set(OLIST_STAGING_URL=f"duckdb:///{work}/first.duckdb")
    _ingest(sample_dir, "sellers")
    assert olist("export") == 0
    settings = current_settings()
    assert lake_counts(settings, [*TABLES, "sellers"]) == staging_counts(
        settings, [*TABLES, "sellers"]
    )


def test_two_hosts_sharing_one_staging_database_and_lake_export_every_row_once(
    olist_env, full_stack, sample_dir
):
    host_a, host_b = olist_env.workdir / "host-a", olist_env.workdir / "host-b"
    for host, tables in [(host_a, ["customers"]), (host_b, ["orders"]), (host_a, ["sellers"])]:
        olist_env.set(OLIST_DATA_DIR=host)  # each host has its own dlt working folders
        _ingest(sample_dir, *tables)
        assert olist("export") == 0

    olist_env.set(OLIST_DATA_DIR=host_b)  # its cursor is behind the lake's: it must not rewrite
    assert olist("export") == 0
    settings = current_settings()
    tables = ["customers", "orders", "sellers"]
    assert lake_counts(settings, tables) == staging_counts(settings, tables)


def test_two_first_exports_at_once_from_two_staging_databases_leave_one_owner(
    olist_env, tmp_path, sample_dir
):
    lake = tmp_path / "shared-lake"
    hosts = [olist_env.workdir / name for name in ("host-a", "host-b")]
    for host in hosts:
        olist_env.set(
            OLIST_STAGING_URL=f"duckdb:///{host}/staging.duckdb", OLIST_DATA_DIR=host / "data"
        )
        _ingest(sample_dir, "sellers")

    exports = [
        subprocess.Popen(
            [*OLIST, "export"],
            cwd=host,
            env={
                **os.environ,
                "OLIST_LAKE_URL": str(lake),
                "OLIST_STAGING_URL": f"duckdb:///{host}/staging.duckdb",
                "OLIST_DATA_DIR": str(host / "data"),
                "COLUMNS": "1000",
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for host in hosts
    ]
    results = [(run.wait(timeout=300), run.communicate()[1]) for run in exports]

    assert sorted(code for code, _ in results) == [0, 1], results
    [refusal] = [err for code, err in results if code == 1]
    assert "holds the exports of another staging database" in refusal
    assert "Traceback" not in refusal
    olist_env.set(OLIST_LAKE_URL=str(lake))
    assert lake_counts(current_settings(), ["sellers"]) == {"sellers": 2_119}
