"""Measure a folder of Olist CSV files: the figures the generator is calibrated on, and its quirks.

Computed with DuckDB straight from the files, the same way for the real sample and for generated
data, so the calibration test compares like with like.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from ingest.tables import DUCKDB_TYPES, TABLES

QUANTILES = (0.1, 0.25, 0.5, 0.75, 0.9)


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one view per Olist file, typed as the bronze layer types it."""
    con = duckdb.connect()
    for table in TABLES:
        path = str(folder / table.file_name).replace("'", "''")
        columns = ", ".join(f"'{c.name}': '{DUCKDB_TYPES[c.kind]}'" for c in table.columns)
        con.execute(
            f"CREATE VIEW {table.name} AS SELECT * FROM read_csv('{path}', header = true, "
            f"columns = {{{columns}}})"
        )
    return con


def shares(con: duckdb.DuckDBPyConnection, sql: str) -> dict[object, float]:
    """{value: share of rows} for a query returning one column."""
    rows = con.sql(f"SELECT v, count(*) / sum(count(*)) OVER () FROM ({sql}) t(v) GROUP BY v")
    return dict(rows.fetchall())


def quantiles(con: duckdb.DuckDBPyConnection, sql: str) -> list[float]:
    levels = ", ".join(str(q) for q in QUANTILES)
    return con.sql(f"SELECT quantile_cont(v, [{levels}]) FROM ({sql}) t(v)").fetchone()[0]


def calibration_figures(folder: Path) -> dict[str, object]:
    """Every figure the calibration test compares, by name."""
    con = connect(folder)
    delivered = "FROM orders WHERE order_delivered_customer_date IS NOT NULL"
    return {
        "status shares": shares(con, "SELECT order_status FROM orders"),
        "items per order": shares(
            con, "SELECT least(count(*), 4) FROM order_items GROUP BY order_id"
        ),
        "payment type shares": shares(con, "SELECT payment_type FROM order_payments"),
        "card installments": shares(
            con,
            "SELECT least(payment_installments, 10) FROM order_payments "
            "WHERE payment_type = 'credit_card'",
        ),
        "review score shares": shares(con, "SELECT review_score FROM order_reviews"),
        "price quantiles": quantiles(con, "SELECT price FROM order_items"),
        "freight quantiles": quantiles(con, "SELECT freight_value FROM order_items"),
        "days to delivery quantiles": quantiles(
            con,
            "SELECT epoch(order_delivered_customer_date - order_purchase_timestamp) / 86400 "
            + delivered,
        ),
        "days early quantiles": quantiles(
            con,
            "SELECT epoch(order_estimated_delivery_date - order_delivered_customer_date) / 86400 "
            + delivered,
        ),
        "late share": con.sql(
            "SELECT avg((order_delivered_customer_date > order_estimated_delivery_date)::INT) "
            + delivered
        ).fetchone()[0],
        "purchases per month": shares(
            con, "SELECT strftime(order_purchase_timestamp, '%Y-%m') FROM orders"
        ),
    }


# Each quirk of the real data: a query counting the rows that show it.
QUIRKS = {
    "orders with no items": "SELECT count(*) FROM orders o WHERE NOT EXISTS "
    "(SELECT 1 FROM order_items i WHERE i.order_id = o.order_id)",
    "unavailable or canceled orders with no items": "SELECT count(*) FROM orders o "
    "WHERE order_status IN ('unavailable', 'canceled') AND NOT EXISTS "
    "(SELECT 1 FROM order_items i WHERE i.order_id = o.order_id)",
    "orders with no review": "SELECT count(*) FROM orders o WHERE NOT EXISTS "
    "(SELECT 1 FROM order_reviews r WHERE r.order_id = o.order_id)",
    "orders with no payment": "SELECT count(*) FROM orders o WHERE NOT EXISTS "
    "(SELECT 1 FROM order_payments p WHERE p.order_id = o.order_id)",
    "review ids on several orders": "SELECT count(*) FROM (SELECT review_id FROM order_reviews "
    "GROUP BY review_id HAVING count(DISTINCT order_id) > 1)",
    "orders reviewed twice": "SELECT count(*) FROM (SELECT order_id FROM order_reviews "
    "GROUP BY order_id HAVING count(*) > 1)",
    "repeat buyers": "SELECT count(*) FROM (SELECT customer_unique_id FROM customers "
    "GROUP BY customer_unique_id HAVING count(*) > 1)",
    "late deliveries": "SELECT count(*) FROM orders "
    "WHERE order_delivered_customer_date > order_estimated_delivery_date",
    "carrier before approval": "SELECT count(*) FROM orders "
    "WHERE order_delivered_carrier_date < order_approved_at",
    "shipping limit a year ahead": "SELECT count(*) FROM order_items i JOIN orders o USING "
    "(order_id) WHERE shipping_limit_date > order_purchase_timestamp + INTERVAL 365 DAY",
    "products with no category": "SELECT count(*) FROM products "
    "WHERE product_category_name IS NULL",
    "categories with no translation": "SELECT count(DISTINCT p.product_category_name) "
    "FROM products p ANTI JOIN product_category_name_translation t USING "
    "(product_category_name) WHERE p.product_category_name IS NOT NULL",
    "seller city with a state suffix": "SELECT count(*) FROM sellers "
    "WHERE regexp_matches(seller_city, '[/\\\\]| - ')",
    "seller city with accents": "SELECT count(*) FROM sellers "
    "WHERE seller_city <> strip_accents(seller_city)",
    "seller city in capitals": "SELECT count(*) FROM sellers "
    "WHERE seller_city <> lower(seller_city)",
    "zip prefixes with a leading zero": "SELECT count(*) FROM customers "
    "WHERE customer_zip_code_prefix LIKE '0%'",
    "multi-line review text": "SELECT count(*) FROM order_reviews "
    "WHERE review_comment_message LIKE '%' || chr(10) || '%'",
    "exact duplicate geolocation rows": "SELECT count(*) - count(DISTINCT geolocation) "
    "FROM geolocation",
}
for _status in ("delivered", "shipped", "canceled", "unavailable", "invoiced", "processing",
                "created", "approved"):  # fmt: skip
    QUIRKS[f"status {_status}"] = f"SELECT count(*) FROM orders WHERE order_status = '{_status}'"


def quirk_counts(folder: Path) -> dict[str, int]:
    con = connect(folder)
    return {name: con.sql(sql).fetchone()[0] for name, sql in QUIRKS.items()}


# Parent-child links that must always resolve (no orphan rows), as in the real data.
FOREIGN_KEYS = (
    ("orders", "customer_id", "customers", "customer_id"),
    ("order_items", "order_id", "orders", "order_id"),
    ("order_items", "product_id", "products", "product_id"),
    ("order_items", "seller_id", "sellers", "seller_id"),
    ("order_payments", "order_id", "orders", "order_id"),
    ("order_reviews", "order_id", "orders", "order_id"),
)


def orphan_counts(folder: Path) -> dict[str, int]:
    con = connect(folder)
    return {
        f"{child}.{column} -> {parent}": con.sql(
            f"SELECT count(*) FROM {child} c ANTI JOIN {parent} p ON c.{column} = p.{key}"
        ).fetchone()[0]
        for child, column, parent, key in FOREIGN_KEYS
    }
