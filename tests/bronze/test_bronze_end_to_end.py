"""The bronze layer end to end on the real sample: ingest into staging, export to the lake.

Both ways to run are covered with the same assertions: the embedded default (DuckDB file, local
folder) and the full stack (PostgreSQL, S3 served by rclone).
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest
from helpers.bronze import (
    SAMPLE_ROWS,
    current_settings,
    lake_connection,
    lake_counts,
    lake_glob,
    olist,
    staging_counts,
)

from ingest.tables import TABLES

# Each of these builds a warehouse, runs the pipeline end to end or starts a stack.
pytestmark = pytest.mark.slow


@pytest.fixture(params=["embedded", "full_stack"])
def configured(request: pytest.FixtureRequest, olist_env):
    """Configure one of the two ways to run; returns the mode's name."""
    if request.param == "full_stack":
        s3 = request.getfixturevalue("s3_server")
        bucket = request.getfixturevalue("s3_bucket")
        olist_env.set(
            OLIST_STAGING_URL=request.getfixturevalue("postgres_url"),
            OLIST_LAKE_URL=f"{bucket}/lake",
            OLIST_S3_ENDPOINT_URL=s3.endpoint_url,
            OLIST_S3_ACCESS_KEY_ID=s3.access_key_id,
            OLIST_S3_SECRET_ACCESS_KEY=s3.secret_access_key,
        )
    return request.param


def test_sample_arrives_with_exact_row_counts_in_staging_and_lake(configured, sample_dir):
    assert olist("ingest", "--source", str(sample_dir)) == 0
    assert olist("export") == 0
    settings = current_settings()
    assert staging_counts(settings) == SAMPLE_ROWS
    assert lake_counts(settings) == SAMPLE_ROWS


def test_data_files_and_folders_are_readable_by_their_owner_only(olist_env, sample_dir):
    os.umask(0o022)  # a usual shell's umask: olist must not rely on the user's
    assert olist("ingest", "--source", str(sample_dir), "--tables", "sellers") == 0
    assert olist("export") == 0

    created = [olist_env.workdir / "data", *(olist_env.workdir / "data").rglob("*")]
    assert len(created) > 10  # the staging database, the lake's Parquet files, dlt's state
    shared = [p for p in created if p.stat().st_mode & 0o077]
    assert shared == []


def test_lake_table_folders_hold_only_parquet(configured, sample_dir):
    assert olist("ingest", "--source", str(sample_dir)) == 0
    assert olist("export") == 0
    settings = current_settings()
    with lake_connection(settings) as con:
        for table in TABLES:
            files = con.execute(
                f"SELECT file FROM glob('{settings.lake_url}/{table.name}/*')"
            ).fetchall()
            assert files, f"no files for {table.name}"
            assert all(f.endswith(".parquet") for (f,) in files), files


def test_rerun_on_same_files_changes_nothing_and_exports_nothing(configured, sample_dir, capsys):
    assert olist("ingest", "--source", str(sample_dir)) == 0
    assert olist("export") == 0
    settings = current_settings()
    with lake_connection(settings) as con:
        files_before = con.execute(
            f"SELECT count(*) FROM glob('{settings.lake_url}/*/*')"
        ).fetchone()
    capsys.readouterr()

    assert olist("ingest", "--source", str(sample_dir)) == 0
    assert olist("export") == 0

    out = capsys.readouterr().out
    assert out.count("file unchanged, skipped") == len(TABLES)
    assert "Nothing new since the last export" in out
    assert staging_counts(settings) == SAMPLE_ROWS
    assert lake_counts(settings) == SAMPLE_ROWS
    with lake_connection(settings) as con:
        files_after = con.execute(
            f"SELECT count(*) FROM glob('{settings.lake_url}/*/*')"
        ).fetchone()
    assert files_after == files_before


def _rewrite_orders(source: Path, target: Path) -> tuple[str, str]:
    """Copy orders with the first shipped order delivered and one new order; return both ids."""
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    header, records = rows[0], rows[1:]
    status, delivered = header.index("order_status"), header.index("order_delivered_customer_date")
    shipped = next(r for r in records if r[status] == "shipped")
    shipped[status], shipped[delivered] = "delivered", "2018-09-01 10:00:00"
    new_order = list(records[0])
    new_order[0] = "f" * 32
    records.append(new_order)
    with target.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *records])
    return shipped[0], new_order[0]


def test_newer_file_updates_changed_rows_and_adds_new_ones(configured, sample_dir, tmp_path):
    source = tmp_path / "day1"
    source.mkdir()
    shutil.copy(sample_dir / "olist_orders_dataset.csv", source)
    assert olist("ingest", "--source", str(source), "--tables", "orders") == 0
    assert olist("export") == 0

    changed_id, new_id = _rewrite_orders(
        sample_dir / "olist_orders_dataset.csv", source / "olist_orders_dataset.csv"
    )
    assert olist("ingest", "--source", str(source), "--tables", "orders") == 0
    assert olist("export") == 0

    settings = current_settings()
    assert staging_counts(settings, ["orders"]) == {"orders": SAMPLE_ROWS["orders"] + 1}
    with lake_connection(settings) as con:
        glob = lake_glob(settings, "orders")
        total, loads = con.execute(
            f"SELECT count(*), count(DISTINCT _dlt_load_id) FROM read_parquet('{glob}')"
        ).fetchone()
        # The second export wrote only the changed and the new order.
        assert (total, loads) == (SAMPLE_ROWS["orders"] + 2, 2)
        latest = dict(
            con.execute(
                f"SELECT order_id, order_status FROM read_parquet('{glob}') "
                "WHERE order_id IN (?, ?) "
                "QUALIFY row_number() OVER (PARTITION BY order_id ORDER BY _dlt_load_id DESC) = 1",
                [changed_id, new_id],
            ).fetchall()
        )
    assert latest == {changed_id: "delivered", new_id: "delivered"}
    assert lake_counts(settings, ["orders"], latest_only=True) == {
        "orders": SAMPLE_ROWS["orders"] + 1
    }


def test_recreated_empty_staging_database_is_reloaded_even_when_files_are_unchanged(
    olist_env, sample_dir
):
    assert olist("ingest", "--source", str(sample_dir), "--tables", "sellers") == 0
    settings = current_settings()
    settings.duckdb_staging_path.unlink()  # dlt's local state still remembers the file

    assert olist("ingest", "--source", str(sample_dir), "--tables", "sellers") == 0

    assert staging_counts(settings, ["sellers"]) == {"sellers": SAMPLE_ROWS["sellers"]}


def test_a_lake_folder_named_with_a_hyphen_is_written_as_named(olist_env):
    """dlt would "normalize" the lake's folder name (lake-2024 → lake_2024) and write elsewhere."""
    from olist.synthetic.generate import generate

    work = olist_env.workdir
    generate(work / "source", 0.01)
    olist_env.set(OLIST_LAKE_URL=work / "lake-2024")
    assert olist("ingest", "--source", str(work / "source")) == 0
    assert olist("export") == 0
    assert list((work / "lake-2024" / "orders").glob("*.parquet"))
    assert not (work / "lake_2024").exists()
