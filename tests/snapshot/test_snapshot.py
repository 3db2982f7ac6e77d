"""`olist snapshot` on the real sample: the nine files as they looked at a cutoff.

What a snapshot must hold is worked out here a second time, independently of the code under test:
DuckDB SQL over the source CSVs applies the cutoff rules (comparing typed timestamps, where the
snapshot compares text), file hashes check byte fidelity, and the order lifecycle comes from
`olist.snapshot.cutoff.moves_forward`, the one place it is defined.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest
from helpers.bronze import current_settings, olist, staging_counts

from ingest.tables import TABLES, TABLES_BY_NAME
from olist.snapshot.cutoff import moves_forward

MONTH_ENDS = ("2017-03-31", "2017-09-30", "2018-03-31", "2018-08-31")
AFTER_LAST_EVENT = "2030-01-01"
SNAPSHOT_DATES = (*MONTH_ENDS, AFTER_LAST_EVENT)
STAGES = ("order_approved_at", "order_delivered_carrier_date", "order_delivered_customer_date")


def end_of_day(date: str) -> str:
    return f"{date} 23:59:59"


def schema_of(date: str) -> str:
    return "snap_" + date.replace("-", "_")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_tables(con: duckdb.DuckDBPyConnection, schema: str, folder: Path) -> None:
    """One table per CSV of the folder, every value as text (NULL when empty)."""
    con.execute(f"CREATE SCHEMA {schema}")
    for table in TABLES:
        path = str(folder / table.file_name).replace("'", "''")
        con.execute(
            f"CREATE TABLE {schema}.{table.name} AS "
            f"FROM read_csv('{path}', header = true, all_varchar = true)"
        )


def snapshot(source: Path, as_of: str, out: Path) -> int:
    return olist("snapshot", "--source", str(source), "--as-of", as_of, "--out", str(out))


def linked_source(sample_dir: Path, folder: Path, *, without: str = "") -> Path:
    """A source folder of symlinks to the sample files (all but `without`), to edit safely."""
    folder.mkdir()
    for table in TABLES:
        if table.name != without:
            (folder / table.file_name).symlink_to(sample_dir / table.file_name)
    return folder


def replace_with_edited_copy(folder: Path, table: str, edit: Callable[[bytes], bytes]) -> None:
    """Swap the symlink of `table` for a copy of the file's bytes as changed by `edit`."""
    path = folder / TABLES_BY_NAME[table].file_name
    data = path.read_bytes()
    edited = edit(data)
    assert edited != data, "the edit changed nothing"
    path.unlink()
    path.write_bytes(edited)


@pytest.fixture(scope="module")
def snapshots(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sample as of each date of SNAPSHOT_DATES, written once by the CLI for the module."""
    root = tmp_path_factory.mktemp("snapshots")
    for date in SNAPSHOT_DATES:
        assert snapshot(sample_dir, date, root / date) == 0
    return {date: root / date for date in SNAPSHOT_DATES}


@pytest.fixture(scope="module")
def con(sample_dir: Path, snapshots: dict[str, Path]) -> Iterator[duckdb.DuckDBPyConnection]:
    """Schema `src` over the sample, and one schema per snapshot (see `schema_of`)."""
    connection = duckdb.connect()
    load_tables(connection, "src", sample_dir)
    for date, folder in snapshots.items():
        load_tables(connection, schema_of(date), folder)
    yield connection
    connection.close()


# --------------------------------------------------------------------------------------------
# What a snapshot holds
# --------------------------------------------------------------------------------------------


def test_snapshot_after_last_event_is_byte_identical_to_source(snapshots, sample_dir):
    folder = snapshots[AFTER_LAST_EVENT]
    assert sorted(p.name for p in folder.iterdir()) == sorted(t.file_name for t in TABLES)
    for table in TABLES:
        assert sha256(folder / table.file_name) == sha256(sample_dir / table.file_name), table


def expected_rows(table: str, cutoff: str) -> str:
    """SQL for the source rows a snapshot at `cutoff` must hold, as text like the loaded tables."""
    c = f"TIMESTAMP '{cutoff}'"
    kept_orders = f"SELECT * FROM src.orders WHERE order_purchase_timestamp::TIMESTAMP <= {c}"
    if table == "orders":
        happened = ", ".join(f"{stage}::TIMESTAMP <= {c} AS {stage}_happened" for stage in STAGES)
        nothing_later = " AND ".join(f"coalesce({stage}_happened, true)" for stage in STAGES)
        return f"""
        WITH staged AS (SELECT *, {happened} FROM ({kept_orders}))
        SELECT order_id, customer_id,
            CASE WHEN {nothing_later} THEN order_status
                 WHEN order_delivered_customer_date_happened THEN 'delivered'
                 WHEN order_delivered_carrier_date_happened THEN 'shipped'
                 WHEN order_approved_at_happened THEN 'approved'
                 ELSE 'created' END,
            order_purchase_timestamp,
            {", ".join(f"CASE WHEN {stage}_happened THEN {stage} END" for stage in STAGES)},
            order_estimated_delivery_date
        FROM staged"""
    filters = {
        "order_items": "FROM kept_items",
        "order_payments": "FROM src.order_payments WHERE order_id IN (SELECT order_id FROM kept)",
        "order_reviews": "FROM src.order_reviews WHERE order_id IN (SELECT order_id FROM kept) "
        f"AND review_creation_date::TIMESTAMP <= {c}",
        "customers": "FROM src.customers WHERE customer_id IN (SELECT customer_id FROM kept)",
        "products": "FROM src.products WHERE product_id IN (SELECT product_id FROM kept_items)",
        "sellers": "FROM src.sellers WHERE seller_id IN (SELECT seller_id FROM kept_items)",
        "geolocation": "FROM src.geolocation",
        "product_category_name_translation": "FROM src.product_category_name_translation",
    }
    kept_items = "FROM src.order_items WHERE order_id IN (SELECT order_id FROM kept)"
    return f"WITH kept AS ({kept_orders}), kept_items AS ({kept_items}) {filters[table]}"


@pytest.mark.parametrize("date", MONTH_ENDS)
def test_snapshot_rows_equal_source_rows_filtered_by_the_cutoff_rules(con, date):
    schema = schema_of(date)
    for table in TABLES:
        expected = expected_rows(table.name, end_of_day(date))
        missing = con.sql(f"({expected}) EXCEPT ALL FROM {schema}.{table.name}").fetchmany(3)
        extra = con.sql(f"FROM {schema}.{table.name} EXCEPT ALL ({expected})").fetchmany(3)
        assert (missing, extra) == ([], []), f"{table.name}: missing {missing}, extra {extra}"
    rolled_back = con.sql(f"FROM {schema}.orders EXCEPT FROM src.orders").fetchall()
    assert rolled_back, "the cutoff should catch some orders before their last event"


@pytest.mark.parametrize("date", MONTH_ENDS)
def test_kept_records_are_the_source_bytes_in_source_order(snapshots, sample_dir, date):
    # Orders are left out: their rolled-back rows are re-serialised (checked by value above).
    for table in TABLES:
        if table.name == "orders":
            continue
        source_lines = iter((sample_dir / table.file_name).read_bytes().split(b"\n"))
        for line in (snapshots[date] / table.file_name).read_bytes().split(b"\n"):
            # Consuming the source iterator up to each match checks order as well as bytes.
            assert line in source_lines, f"{table.file_name}: {line[:80]!r} not in source order"


@pytest.mark.parametrize("date", MONTH_ENDS)
def test_no_kept_row_refers_to_a_missing_parent(con, date):
    s = schema_of(date)
    references = {
        "orders → customers": f"{s}.orders ANTI JOIN {s}.customers USING (customer_id)",
        "items → orders": f"{s}.order_items ANTI JOIN {s}.orders USING (order_id)",
        "items → products": f"{s}.order_items ANTI JOIN {s}.products USING (product_id)",
        "items → sellers": f"{s}.order_items ANTI JOIN {s}.sellers USING (seller_id)",
        "payments → orders": f"{s}.order_payments ANTI JOIN {s}.orders USING (order_id)",
        "reviews → orders": f"{s}.order_reviews ANTI JOIN {s}.orders USING (order_id)",
    }
    orphans = {
        name: con.sql(f"SELECT count(*) FROM {q}").fetchone()[0] for name, q in references.items()
    }
    assert orphans == dict.fromkeys(references, 0)


# Orders picked from the sample by what happened to them around 2018-03-31 23:59:59, and the
# status and blank timestamps each must have then: (which orders, status then, blanked columns).
AT = "TIMESTAMP '2018-03-31 23:59:59'"
STATUS_CASES = {
    "delivered after the cutoff": (
        f"order_status = 'delivered' AND order_delivered_carrier_date::TIMESTAMP <= {AT} "
        f"AND order_delivered_customer_date::TIMESTAMP > {AT}",
        "shipped",
        {"order_delivered_customer_date"},
    ),
    "picked up after the cutoff": (
        f"order_approved_at::TIMESTAMP <= {AT} AND order_delivered_carrier_date::TIMESTAMP > {AT} "
        f"AND order_delivered_customer_date::TIMESTAMP > {AT}",
        "approved",
        {"order_delivered_carrier_date", "order_delivered_customer_date"},
    ),
    "approved after the cutoff": (
        f"order_purchase_timestamp::TIMESTAMP <= {AT} AND order_approved_at::TIMESTAMP > {AT} "
        f"AND coalesce(order_delivered_carrier_date::TIMESTAMP > {AT}, true) "
        f"AND coalesce(order_delivered_customer_date::TIMESTAMP > {AT}, true)",
        "created",
        set(STAGES),
    ),
    "canceled by the cutoff": (
        f"order_status = 'canceled' AND order_purchase_timestamp::TIMESTAMP <= {AT} "
        + "".join(f"AND coalesce({stage}::TIMESTAMP <= {AT}, true) " for stage in STAGES),
        "canceled",
        set(),
    ),
}


@pytest.mark.parametrize("case", STATUS_CASES)
def test_order_status_at_cutoff_follows_the_latest_stage_reached(con, case):
    which, status_then, blanked = STATUS_CASES[case]
    picked = con.sql(f"FROM src.orders WHERE {which} ORDER BY order_id LIMIT 1").fetchone()
    assert picked, f"the sample has no order {case}"
    columns = [c[0] for c in con.sql("FROM src.orders LIMIT 0").description]
    source = dict(zip(columns, picked, strict=True))
    then = con.sql(
        f"FROM {schema_of('2018-03-31')}.orders WHERE order_id = ?", params=[source["order_id"]]
    ).fetchone()
    assert then, f"order {source['order_id']} was purchased by the cutoff but is missing"
    expected = {**source, "order_status": status_then, **dict.fromkeys(blanked)}
    assert dict(zip(columns, then, strict=True)) == expected


def test_as_of_date_keeps_the_whole_day_and_a_time_is_inclusive(snapshots, sample_dir, tmp_path):
    # Date alone = up to 23:59:59 of that day: same files as the explicit end of day.
    whole_day = snapshots["2017-03-31"]
    assert snapshot(sample_dir, end_of_day("2017-03-31"), tmp_path / "explicit") == 0
    for table in TABLES:
        assert sha256(tmp_path / "explicit" / table.file_name) == sha256(
            whole_day / table.file_name
        ), table
    # The day's last order: kept at its purchase instant, not one second before.
    with duckdb.connect() as db:
        load_tables(db, "src", sample_dir)
        order_id, purchased = db.sql(
            "SELECT order_id, order_purchase_timestamp FROM src.orders "
            "WHERE order_purchase_timestamp LIKE '2017-03-31 %' ORDER BY 2 DESC LIMIT 1"
        ).fetchone()
    timestamp_format = "%Y-%m-%d %H:%M:%S"
    one_second_before = (
        datetime.strptime(purchased, timestamp_format) - timedelta(seconds=1)
    ).strftime(timestamp_format)
    orders_file = TABLES_BY_NAME["orders"].file_name
    assert order_id.encode() in (whole_day / orders_file).read_bytes()
    assert snapshot(sample_dir, purchased, tmp_path / "at") == 0
    assert order_id.encode() in (tmp_path / "at" / orders_file).read_bytes()
    assert snapshot(sample_dir, one_second_before, tmp_path / "before") == 0
    assert order_id.encode() not in (tmp_path / "before" / orders_file).read_bytes()


# --------------------------------------------------------------------------------------------
# Successive snapshots only grow
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("earlier", "later"), list(pairwise(SNAPSHOT_DATES)))
def test_rows_other_than_orders_present_earlier_are_present_later_unchanged(con, earlier, later):
    for table in TABLES:
        if table.name == "orders":
            continue
        before, after = (f"{schema_of(date)}.{table.name}" for date in (earlier, later))
        gone = con.sql(f"FROM {before} EXCEPT ALL FROM {after}").fetchmany(3)
        assert gone == [], f"{table.name}: rows of {earlier} missing or changed in {later}"


@pytest.mark.parametrize(("earlier", "later"), list(pairwise(SNAPSHOT_DATES)))
def test_orders_keep_known_values_and_move_only_forward(con, earlier, later):
    known_time_changed = " OR ".join(
        f"(e.{stage} IS NOT NULL AND e.{stage} IS DISTINCT FROM l.{stage})" for stage in STAGES
    )
    broken = con.sql(f"""
        SELECT e.order_id FROM {schema_of(earlier)}.orders e
        LEFT JOIN {schema_of(later)}.orders l USING (order_id)
        WHERE l.order_id IS NULL
           OR e.customer_id IS DISTINCT FROM l.customer_id
           OR e.order_purchase_timestamp IS DISTINCT FROM l.order_purchase_timestamp
           OR e.order_estimated_delivery_date IS DISTINCT FROM l.order_estimated_delivery_date
           OR {known_time_changed}
    """).fetchmany(3)
    assert broken == [], f"orders of {earlier} missing or with changed known values in {later}"
    transitions = con.sql(f"""
        SELECT DISTINCT e.order_status, l.order_status FROM {schema_of(earlier)}.orders e
        JOIN {schema_of(later)}.orders l USING (order_id)
    """).fetchall()
    assert [t for t in transitions if not moves_forward(*t)] == []
    assert any(before != after for before, after in transitions), "no order moved at all"


# --------------------------------------------------------------------------------------------
# A snapshot is a valid source: the replay of month after month
# --------------------------------------------------------------------------------------------


@pytest.mark.slow  # the pipeline end to end on the real sample
def test_replaying_month_after_month_loads_without_quarantine_and_updates_orders(
    olist_env, sample_dir
):
    for date in ("2018-02-28", "2018-03-31"):
        folder = olist_env.workdir / f"as_of_{date}"
        assert snapshot(sample_dir, date, folder) == 0
        assert olist("ingest", "--source", str(folder)) == 0
        settings = current_settings()
        with duckdb.connect() as con:
            con.execute(f"ATTACH '{settings.duckdb_staging_path}' AS staging (READ_ONLY)")
            rejected_tables = con.sql(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'staging' "
                "AND schema_name = 'raw' AND table_name = 'rejected_rows'"
            ).fetchone()[0]
            if rejected_tables:
                assert con.sql("SELECT count(*) FROM staging.raw.rejected_rows").fetchone() == (0,)
            load_tables(con, "snap", folder)
            expected = {
                t.name: con.sql(f"SELECT count(*) FROM snap.{t.name}").fetchone()[0] for t in TABLES
            }
            # Staging holds the orders as they were then: status and delivery date included.
            differing = con.sql("""
                SELECT count(*) FROM staging.raw.orders o FULL JOIN snap.orders s USING (order_id)
                WHERE o.order_status IS DISTINCT FROM s.order_status
                   OR o.order_delivered_customer_date
                      IS DISTINCT FROM s.order_delivered_customer_date::TIMESTAMP
            """).fetchone()[0]
        assert differing == 0, date
        assert staging_counts(settings) == expected, date


# --------------------------------------------------------------------------------------------
# Errors and the output folder
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "as_of",
    [
        "2018-02-30",
        "31/03/2018",
        "2018-3-31",
        "2018-03-31T12:00:00",
        "2018-03-31 24:00:00",
        "2018-03-31 12:00",
    ],
)
def test_bad_as_of_is_refused_naming_the_expected_format(sample_dir, tmp_path, capsys, as_of):
    with pytest.raises(SystemExit) as exit_info:
        snapshot(sample_dir, as_of, tmp_path / "out")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--as-of" in err and "YYYY-MM-DD" in err and "HH:MM:SS" in err and as_of in err
    assert not (tmp_path / "out").exists()


def test_missing_source_file_stops_before_writing(sample_dir, tmp_path, capsys):
    source = linked_source(sample_dir, tmp_path / "source", without="order_reviews")
    assert snapshot(source, "2018-03-31", tmp_path / "out") == 1
    err = capsys.readouterr().err
    assert "olist_order_reviews_dataset.csv: file not found" in err
    assert "Traceback" not in err
    assert os.listdir(tmp_path) == ["source"]


def test_missing_column_is_named_with_its_file(sample_dir, tmp_path, capsys):
    source = linked_source(sample_dir, tmp_path / "source")
    replace_with_edited_copy(
        source, "orders", lambda data: data.replace(b"order_purchase_timestamp", b"purchased_at", 1)
    )
    assert snapshot(source, "2018-03-31", tmp_path / "out") == 1
    err = capsys.readouterr().err
    assert "olist_orders_dataset.csv, line 1 (header): no column 'order_purchase_timestamp'" in err
    assert not (tmp_path / "out").exists()


def test_out_equal_to_source_is_refused(sample_dir, tmp_path, capsys):
    source = linked_source(sample_dir, tmp_path / "source")
    assert snapshot(source, "2018-03-31", source / ".." / "source") == 1
    assert "is the source folder" in capsys.readouterr().err
    assert all(p.is_symlink() for p in source.iterdir())


def test_out_holding_other_files_is_refused_and_left_alone(sample_dir, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert snapshot(sample_dir, "2018-03-31", out) == 1
    assert "holds files that are not Olist files (notes.txt)" in capsys.readouterr().err
    assert os.listdir(out) == ["notes.txt"]


def test_failed_snapshot_leaves_the_previous_one_whole(sample_dir, tmp_path, capsys):
    out = tmp_path / "out"
    assert snapshot(sample_dir, "2017-09-30", out) == 0
    before = {p.name: sha256(p) for p in out.iterdir()}
    # The last review's creation date is broken: orders, items and payments are written by then.
    source = linked_source(sample_dir, tmp_path / "source")
    reviews = (sample_dir / TABLES_BY_NAME["order_reviews"].file_name).read_bytes()
    *_, last_line, after_last = reviews.split(b"\n")
    assert after_last == b"" and b'"' not in last_line, "expected a one-line last review"
    fields = last_line.split(b",")
    fields[-2] = b"31/08/2018"
    replace_with_edited_copy(
        source,
        "order_reviews",
        lambda data: data.removesuffix(last_line + b"\n") + b",".join(fields) + b"\n",
    )
    capsys.readouterr()

    assert snapshot(source, "2018-03-31", out) == 1

    err = capsys.readouterr().err
    last_line_number = reviews.count(b"\n")
    assert (
        f"olist_order_reviews_dataset.csv, line {last_line_number}: column review_creation_date: "
        "expected a timestamp YYYY-MM-DD HH:MM:SS, got '31/08/2018'"
    ) in err
    assert {p.name: sha256(p) for p in out.iterdir()} == before
    assert sorted(os.listdir(tmp_path)) == ["out", "source"], "a partial folder was left behind"


def test_out_holding_only_olist_files_is_replaced(snapshots, sample_dir, tmp_path):
    out = tmp_path / "out"
    assert snapshot(sample_dir, AFTER_LAST_EVENT, out) == 0
    assert snapshot(sample_dir, "2017-03-31", out) == 0
    for table in TABLES:
        assert sha256(out / table.file_name) == sha256(snapshots["2017-03-31"] / table.file_name)
    assert os.listdir(tmp_path) == ["out"]
