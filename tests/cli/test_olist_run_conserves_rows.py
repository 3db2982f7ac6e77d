"""`olist run` on the real sample with hostile rows added: every source row is loaded or
quarantined, and every row that reaches bronze reaches the marts whose grain is its key.

The hostile rows target what ingest refuses (dates outside the data set's era, money with three
decimals, NUL bytes, wrong field counts, repeated keys with other content, bad ids) and what the
models could join or filter away (an order whose customer record is missing, an order with no
items, payments or review, an order whose status Olist never used, items, payments and reviews
of an order that is not in the file, a customer and a product nobody ordered). The run is the
real CLI, in-process, on the embedded default (DuckDB staging, local lake, local gateway).

Identities checked, with expected figures worked out here from the bytes written:
- per source table: data records (Python's csv module) = bronze rows + rows in
  `raw.rejected_rows`, and the lake's `_rejected/` holds the same quarantined rows;
- orders: distinct order_id in bronze = rows of marts.fct_orders, same keys;
- order items: bronze (order_id, order_item_id) of the items whose order is in bronze = rows of
  marts.fct_order_items, same keys. An item whose order is not in bronze (never sent, or
  quarantined) has no purchase time or status and is not there (the model's header says so); it
  still counts in dim_products and dim_sellers;
- people: distinct persons of the bronze orders (their customer record's customer_unique_id, or
  the order's customer_id when the record is missing) = rows of marts.dim_customers;
- products and sellers: listed in bronze or sold by a bronze item = rows of dim_products and
  dim_sellers.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import duckdb
import pytest
from helpers.bronze import olist

from ingest.tables import TABLES

pytestmark = pytest.mark.slow


def _id(n: int) -> str:
    """A valid id no sample row has (the sample's are MD5 hashes)."""
    return f"{n:032x}"


CUSTOMER, OTHER_CUSTOMER, LONELY_CUSTOMER, MISSING_CUSTOMER = _id(1), _id(2), _id(3), _id(4)
PRODUCT, SELLER = _id(10), _id(11)
# Orders that reach bronze.
NO_CUSTOMER_RECORD, NO_PARTS, SHOUTED_STATUS, EARLIEST, SMALL_ITEM = (_id(n) for n in range(20, 25))
# Orders that are quarantined whole, and an id no order has.
IN_1900, IN_2100, WITH_NUL, SHORT, LONG, BAD_DATE, ODD_STATUS, NOT_IN_FILE = (
    _id(n) for n in range(30, 38)
)
TS = "2018-03-01 10:00:00"
DUE = "2018-03-20 00:00:00"

HOSTILE_ROWS: dict[str, list[str]] = {
    "customers": [
        f"{CUSTOMER},{_id(100)},01001,sao paulo,SP",
        f"{OTHER_CUSTOMER},{_id(101)},20040,rio de janeiro,RJ",
        f"{LONELY_CUSTOMER},{_id(102)},30110,belo horizonte,MG",  # places no order
        f"{CUSTOMER},{_id(103)},01001,sao paulo,SP",  # same key, other person: quarantined
        f"{_id(5)},{_id(104)},1001,sao paulo,SP",  # 4-digit zip: quarantined
    ],
    "orders": [
        f"{NO_CUSTOMER_RECORD},{MISSING_CUSTOMER},delivered,{TS},{TS},{TS},{TS},{DUE}",
        f"{NO_PARTS},{CUSTOMER},canceled,{TS},,,,{DUE}",
        f"{SMALL_ITEM},{OTHER_CUSTOMER},invoiced,{TS},{TS},,,{DUE}",
        f"{SHOUTED_STATUS},{OTHER_CUSTOMER}, Delivered ,{TS},{TS},,,{DUE}",
        f"{EARLIEST},{OTHER_CUSTOMER},delivered,2000-01-01 00:00:00,,,,2000-01-20 00:00:00",
        f"{NO_PARTS},{CUSTOMER},delivered,{TS},,,,{DUE}",  # repeated key
        f"{IN_1900},{CUSTOMER},delivered,1900-01-01 00:00:00,,,,1900-01-20 00:00:00",
        f"{IN_2100},{CUSTOMER},delivered,2100-01-01 00:00:00,,,,2100-01-20 00:00:00",
        f"{WITH_NUL},{CUSTOMER},deli\x00vered,{TS},,,,{DUE}",
        f"{SHORT},{CUSTOMER},delivered,{TS},,,{DUE}",
        f"{LONG},{CUSTOMER},delivered,{TS},,,,,{DUE}",
        f"{BAD_DATE},{CUSTOMER},delivered,2018-02-30 10:00:00,,,,{DUE}",
        f"{ODD_STATUS},{CUSTOMER},returned,{TS},{TS},{TS},{TS},{DUE}",
        f"{_id(0xABC).upper()},{CUSTOMER},delivered,{TS},,,,{DUE}",
    ],
    "order_items": [
        f"{NO_CUSTOMER_RECORD},1,{PRODUCT},{SELLER},{TS},10.00,1.50",  # unknown product, seller
        f"{SMALL_ITEM},1,{PRODUCT},{SELLER},{TS},12.300,0",
        f"{NOT_IN_FILE},1,{PRODUCT},{SELLER},{TS},5.00,1.00",  # its order is nowhere
        f"{IN_1900},1,{PRODUCT},{SELLER},{TS},5.00,1.00",  # its order is quarantined
        f"{NO_CUSTOMER_RECORD},2,{PRODUCT},{SELLER},{TS},1.234,1.00",  # 3 decimals
        f"{NO_CUSTOMER_RECORD},3,{PRODUCT},{SELLER},{TS},-1.00,1.00",  # negative
        f"{NO_CUSTOMER_RECORD},1,{PRODUCT},{SELLER},{TS},11.00,1.50",  # repeated key
    ],
    "order_payments": [
        f"{NO_CUSTOMER_RECORD},1,credit_card,1,11.50",
        f"{NOT_IN_FILE},1,voucher,1,6.00",
        f"{SMALL_ITEM},1,credit_card,1,1e3",  # not a plain decimal
        f"{SMALL_ITEM},2,pix,1,12.30",  # a payment type Olist never used
        f"{SMALL_ITEM},3, Boleto ,1,12.30",  # cleaned by the staging model
    ],
    "order_reviews": [
        f"{_id(50)},{NO_CUSTOMER_RECORD},5,,,2018-03-05 00:00:00,2018-03-06 10:00:00",
        f"{_id(51)},{NOT_IN_FILE},4,,,2018-03-05 00:00:00,2018-03-06 10:00:00",
        f"{_id(52)},{SMALL_ITEM},6,,,2018-03-05 00:00:00,2018-03-06 10:00:00",  # score 6
    ],
    "products": [f"{_id(12)},pc_gamer,10,100,1,500,10,10,10"],  # listed, never sold
    "sellers": [f"{_id(13)},01001,sao paulo,SP"],  # listed, never sold
}
# Of the above, the rows ingest must quarantine.
QUARANTINED = {
    "customers": 2,
    "orders": 9,
    "order_items": 3,
    "order_payments": 2,
    "order_reviews": 1,
    "products": 0,
    "sellers": 0,
}


@pytest.fixture
def hostile_source(sample_dir: Path, tmp_path: Path) -> Path:
    """The sample, with HOSTILE_ROWS appended to its files (a copy: the sample is read-only)."""
    source = tmp_path / "source"
    source.mkdir()
    for table in TABLES:
        path = source / table.file_name
        shutil.copyfile(sample_dir / table.file_name, path)
        rows = HOSTILE_ROWS.get(table.name, [])
        with path.open("ab") as handle:
            handle.write("".join(f"{row}\n" for row in rows).encode())
    return source


@pytest.fixture
def run_env(olist_env):
    work = olist_env.workdir
    olist_env.set(
        OLIST_STAGING_URL=f"duckdb:///{work}/staging.duckdb",
        OLIST_LAKE_URL="lake",
        OLIST_DATA_DIR=work / "data",
        OLIST_WAREHOUSE_PATH=work / "warehouse.duckdb",
    )
    return olist_env


def _data_records(path: Path) -> int:
    """Data records of a CSV file as Python's csv module reads it (blank lines skipped)."""
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    return sum(1 for row in csv.reader(io.StringIO(text, newline="")) if row) - 1


def _keys(con: duckdb.DuckDBPyConnection, query: str) -> set[tuple]:
    return set(con.sql(query).fetchall())


def test_every_source_row_is_quarantined_or_reaches_the_marts_of_its_grain(
    run_env, hostile_source, capsys
):
    assert olist("run", "--source", str(hostile_source)) == 0, capsys.readouterr().err
    capsys.readouterr()
    work = run_env.workdir

    with duckdb.connect(str(work / "staging.duckdb"), read_only=True) as staging:
        quarantined = dict(
            staging.sql("SELECT table_name, count(*) FROM raw.rejected_rows GROUP BY 1").fetchall()
        )
        for table in TABLES:
            source_rows = _data_records(hostile_source / table.file_name)
            key = ", ".join(table.merge_key)
            bronze_rows, bronze_keys = staging.sql(
                f"SELECT count(*), count(DISTINCT ({key})) FROM raw.{table.name}"
            ).fetchone()
            assert bronze_rows == bronze_keys, f"{table.name}: a key twice in bronze"
            assert bronze_rows + quarantined.get(table.name, 0) == source_rows, table.name
            assert quarantined.get(table.name, 0) == QUARANTINED.get(table.name, 0), table.name
        bronze_orders = _keys(staging, "SELECT order_id FROM raw.orders")
        bronze_items = _keys(
            staging,
            "SELECT order_id, order_item_id FROM raw.order_items "
            "WHERE order_id IN (SELECT order_id FROM raw.orders)",
        )
        orphan_items = _keys(
            staging,
            "SELECT order_id FROM raw.order_items "
            "WHERE order_id NOT IN (SELECT order_id FROM raw.orders)",
        )
        persons = _keys(
            staging,
            "SELECT DISTINCT coalesce(c.customer_unique_id, o.customer_id) FROM raw.orders o "
            "LEFT JOIN raw.customers c USING (customer_id)",
        )
        products = _keys(
            staging,
            "SELECT product_id FROM raw.products UNION SELECT product_id FROM raw.order_items",
        )
        sellers = _keys(
            staging,
            "SELECT seller_id FROM raw.sellers UNION SELECT seller_id FROM raw.order_items",
        )

    assert orphan_items == {(NOT_IN_FILE,), (IN_1900,)}

    # The lake's quarantine holds what staging's does.
    with duckdb.connect() as lake:
        in_lake = dict(
            lake.sql(
                f"SELECT table_name, count(*) FROM read_parquet('{work}/lake/_rejected/*.parquet') "
                "GROUP BY 1"
            ).fetchall()
        )
    assert in_lake == quarantined

    with duckdb.connect(str(work / "warehouse.duckdb"), read_only=True) as warehouse:
        assert _keys(warehouse, "SELECT order_id FROM marts.fct_orders") == bronze_orders
        assert warehouse.sql("SELECT count(*) FROM marts.fct_orders").fetchone()[0] == len(
            bronze_orders
        )
        assert (
            _keys(warehouse, "SELECT order_id, order_item_id FROM marts.fct_order_items")
            == bronze_items
        )
        assert _keys(warehouse, "SELECT customer_unique_id FROM marts.dim_customers") == persons
        assert _keys(warehouse, "SELECT product_id FROM marts.dim_products") == products
        assert _keys(warehouse, "SELECT seller_id FROM marts.dim_sellers") == sellers
        # The hostile orders that reached bronze, as fct_orders shows them.
        kept = {
            order_id: rest
            for order_id, *rest in warehouse.sql(
                "SELECT order_id, customer_unique_id, item_count, payment_count, order_status "
                "FROM marts.fct_orders WHERE order_id IN ?",
                params=[[NO_CUSTOMER_RECORD, NO_PARTS, SHOUTED_STATUS, EARLIEST, SMALL_ITEM]],
            ).fetchall()
        }
    assert kept == {
        NO_CUSTOMER_RECORD: [MISSING_CUSTOMER, 1, 1, "delivered"],
        NO_PARTS: [_id(100), 0, 0, "canceled"],
        SHOUTED_STATUS: [_id(101), 0, 0, "delivered"],
        EARLIEST: [_id(101), 0, 0, "delivered"],
        SMALL_ITEM: [_id(101), 1, 1, "invoiced"],
    }
