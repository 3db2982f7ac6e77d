"""The nine Olist source files and the bronze schema each one loads into.

Bronze keeps the source's table and column names (misspellings included: `product_name_lenght`);
renaming is the staging models' job. Each column has a kind that fixes its database type and the
checks a value must pass before it is loaded; rows that fail go to quarantine with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import pyarrow as pa


class Kind(Enum):
    """What a column holds; decides its type in DuckDB/PostgreSQL and its validity check."""

    ID = "id"  # 32-character lowercase hex identifier
    ZIP = "zip"  # 5-digit zip code prefix kept as text (leading zeros matter: 04195)
    TEXT = "text"
    TIMESTAMP = "timestamp"  # a deadline or estimate, local time, no zone: YYYY-MM-DD HH:MM:SS
    EVENT_TIME = "event time"  # when something happened: a TIMESTAMP not after the file's time
    MONEY = "money"  # BRL, DECIMAL(12,2), never negative
    COUNT = "count"  # non-negative integer
    SCORE = "score"  # review score 1..5
    COORDINATE = "coordinate"  # latitude/longitude in degrees


DUCKDB_TYPES = {
    Kind.ID: "VARCHAR",
    Kind.ZIP: "VARCHAR",
    Kind.TEXT: "VARCHAR",
    Kind.TIMESTAMP: "TIMESTAMP",
    Kind.EVENT_TIME: "TIMESTAMP",
    Kind.MONEY: "DECIMAL(12,2)",
    Kind.COUNT: "INTEGER",
    Kind.SCORE: "INTEGER",
    Kind.COORDINATE: "DOUBLE",
}

# What a reader of a rejection needs to know about the expected value.
EXPECTED = {
    Kind.ID: "a 32-character lowercase hexadecimal id",
    Kind.ZIP: "a 5-digit zip code prefix (leading zeros kept, e.g. 04195)",
    Kind.TEXT: "text",
    Kind.TIMESTAMP: "a timestamp formatted YYYY-MM-DD HH:MM:SS, from 2000 to 2099",
    Kind.EVENT_TIME: (
        "a timestamp formatted YYYY-MM-DD HH:MM:SS, from 2000 to the day the file was written"
    ),
    Kind.MONEY: "a non-negative amount with at most 2 decimals, e.g. 129.90",
    Kind.COUNT: "a non-negative whole number",
    Kind.SCORE: "a whole number from 1 to 5",
    Kind.COORDINATE: "a decimal number of degrees, e.g. -23.5478",
}

# The types DuckDB's CSV reader parses each kind into. Money is read as text and checked before it
# is cast, because the reader rounds a third decimal away (1.234 -> 1.23) where it must be refused.
PARSED_AS = {**DUCKDB_TYPES, Kind.MONEY: "VARCHAR"}

# Timestamps outside the data set's era are typos or placeholders (1900-01-01, 2100-01-01), and an
# event cannot have happened after the file recording it was written (a day's grace for clocks).
EARLIEST_TIMESTAMP = "TIMESTAMP '2000-01-01'"

# SQL that is true when a non-null parsed value of the kind is valid; `{c}` is the quoted column,
# `{file_time}` the file's modification time (see EVENT_TIME).
VALID_WHEN = {
    Kind.ID: "regexp_full_match({c}, '[0-9a-f]{{32}}')",
    Kind.ZIP: "regexp_full_match({c}, '[0-9]{{5}}')",
    Kind.TIMESTAMP: f"{{c}} >= {EARLIEST_TIMESTAMP} AND {{c}} < TIMESTAMP '2100-01-01'",
    Kind.EVENT_TIME: f"{{c}} >= {EARLIEST_TIMESTAMP} AND {{c}} <= {{file_time}}",
    # Up to 10 digits and 2 decimals (DECIMAL(12,2)); zeros after them change nothing.
    Kind.MONEY: r"regexp_full_match({c}, '[0-9]{{1,10}}(\.[0-9]{{0,2}}0*)?')",
    Kind.COUNT: "{c} >= 0",
    Kind.SCORE: "{c} BETWEEN 1 AND 5",
    Kind.COORDINATE: "abs({c}) <= 180",
}

# Arrow types of validated batches. dlt derives the bronze column types from them, so this is the
# one declaration of the staging databases' types (naive timestamps stay naive, DECIMAL(12,2)...).
ARROW_TYPES = {
    Kind.ID: pa.string(),
    Kind.ZIP: pa.string(),
    Kind.TEXT: pa.string(),
    Kind.TIMESTAMP: pa.timestamp("us"),
    Kind.EVENT_TIME: pa.timestamp("us"),
    Kind.MONEY: pa.decimal128(12, 2),
    Kind.COUNT: pa.int32(),
    Kind.SCORE: pa.int32(),
    Kind.COORDINATE: pa.float64(),
}


def conform(data: pa.RecordBatch | pa.Table, schema: pa.Schema) -> pa.RecordBatch | pa.Table:
    """The data with exactly the schema's columns, in its order and with its types.

    Drivers differ in what they return (connectorx and DuckDB pick their own decimal, integer and
    nullability flavours); conforming every batch keeps bronze and the lake identical in both
    modes.
    """
    return data.select(schema.names).cast(schema)


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    nullable: bool = False
    # For a code such as a status: the values the warehouse knows, compared as the staging models
    # clean them (lower case, spaces trimmed). Any other value is quarantined with its reason:
    # the marts' accepted_values audits would otherwise stop the whole warehouse build.
    accepted: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceTable:
    """One Olist CSV file and the bronze table it loads into."""

    name: str
    file_name: str
    columns: tuple[Column, ...]
    # Empty for geolocation, which has no key: its rows are keyed by content (see ROW_KEY).
    primary_key: tuple[str, ...]

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def arrow_schema(self) -> pa.Schema:
        """The exact Arrow schema of a validated batch, so dlt sees the intended types."""
        fields = [pa.field(c.name, ARROW_TYPES[c.kind], c.nullable) for c in self.columns]
        if not self.primary_key:
            fields.append(pa.field(ROW_KEY, pa.string(), False))
        fields.append(pa.field(ROW_HASH, pa.int64(), False))
        return pa.schema(fields)

    @property
    def merge_key(self) -> tuple[str, ...]:
        return self.primary_key or (ROW_KEY,)


# Key of keyless tables: a hash of the row's values and its occurrence number among identical rows
# in the file, so reloading the same file changes nothing while exact duplicates are all kept.
ROW_KEY = "_row_key"

# Hash of a row's source values. A newer file's rows whose key and hash are already in staging are
# unchanged and skipped, so only new and changed rows get the new load id (and reach the lake).
ROW_HASH = "_row_hash"


def _cols(
    *specs: tuple[str, Kind] | tuple[str, Kind, bool] | tuple[str, Kind, bool, tuple[str, ...]],
) -> tuple[Column, ...]:
    return tuple(Column(*spec) for spec in specs)


# The codes Olist uses, as marts.fct_orders and marts.payment_mix accept them.
ORDER_STATUSES = (
    "created",
    "approved",
    "invoiced",
    "processing",
    "shipped",
    "delivered",
    "unavailable",
    "canceled",
)
PAYMENT_TYPES = ("credit_card", "boleto", "voucher", "debit_card", "not_defined")


TABLES: tuple[SourceTable, ...] = (
    SourceTable(
        name="customers",
        file_name="olist_customers_dataset.csv",
        columns=_cols(
            ("customer_id", Kind.ID),
            ("customer_unique_id", Kind.ID),
            ("customer_zip_code_prefix", Kind.ZIP),
            ("customer_city", Kind.TEXT),
            ("customer_state", Kind.TEXT),
        ),
        primary_key=("customer_id",),
    ),
    SourceTable(
        name="geolocation",
        file_name="olist_geolocation_dataset.csv",
        columns=_cols(
            ("geolocation_zip_code_prefix", Kind.ZIP),
            ("geolocation_lat", Kind.COORDINATE),
            ("geolocation_lng", Kind.COORDINATE),
            ("geolocation_city", Kind.TEXT),
            ("geolocation_state", Kind.TEXT),
        ),
        primary_key=(),
    ),
    SourceTable(
        name="order_items",
        file_name="olist_order_items_dataset.csv",
        columns=_cols(
            ("order_id", Kind.ID),
            ("order_item_id", Kind.COUNT),
            ("product_id", Kind.ID),
            ("seller_id", Kind.ID),
            ("shipping_limit_date", Kind.TIMESTAMP),
            ("price", Kind.MONEY),
            ("freight_value", Kind.MONEY),
        ),
        primary_key=("order_id", "order_item_id"),
    ),
    SourceTable(
        name="order_payments",
        file_name="olist_order_payments_dataset.csv",
        columns=_cols(
            ("order_id", Kind.ID),
            ("payment_sequential", Kind.COUNT),
            ("payment_type", Kind.TEXT, False, PAYMENT_TYPES),
            ("payment_installments", Kind.COUNT),
            ("payment_value", Kind.MONEY),
        ),
        primary_key=("order_id", "payment_sequential"),
    ),
    SourceTable(
        name="order_reviews",
        file_name="olist_order_reviews_dataset.csv",
        columns=_cols(
            ("review_id", Kind.ID),
            ("order_id", Kind.ID),
            ("review_score", Kind.SCORE),
            ("review_comment_title", Kind.TEXT, True),
            ("review_comment_message", Kind.TEXT, True),
            ("review_creation_date", Kind.EVENT_TIME),
            ("review_answer_timestamp", Kind.EVENT_TIME),
        ),
        # review_id repeats across orders in Olist: only the pair identifies a review row.
        primary_key=("review_id", "order_id"),
    ),
    SourceTable(
        name="orders",
        file_name="olist_orders_dataset.csv",
        columns=_cols(
            ("order_id", Kind.ID),
            ("customer_id", Kind.ID),
            ("order_status", Kind.TEXT, False, ORDER_STATUSES),
            ("order_purchase_timestamp", Kind.EVENT_TIME),
            ("order_approved_at", Kind.EVENT_TIME, True),
            ("order_delivered_carrier_date", Kind.EVENT_TIME, True),
            ("order_delivered_customer_date", Kind.EVENT_TIME, True),
            ("order_estimated_delivery_date", Kind.TIMESTAMP),
        ),
        primary_key=("order_id",),
    ),
    SourceTable(
        name="products",
        file_name="olist_products_dataset.csv",
        columns=_cols(
            ("product_id", Kind.ID),
            ("product_category_name", Kind.TEXT, True),
            ("product_name_lenght", Kind.COUNT, True),
            ("product_description_lenght", Kind.COUNT, True),
            ("product_photos_qty", Kind.COUNT, True),
            ("product_weight_g", Kind.COUNT, True),
            ("product_length_cm", Kind.COUNT, True),
            ("product_height_cm", Kind.COUNT, True),
            ("product_width_cm", Kind.COUNT, True),
        ),
        primary_key=("product_id",),
    ),
    SourceTable(
        name="sellers",
        file_name="olist_sellers_dataset.csv",
        columns=_cols(
            ("seller_id", Kind.ID),
            ("seller_zip_code_prefix", Kind.ZIP),
            ("seller_city", Kind.TEXT),
            ("seller_state", Kind.TEXT),
        ),
        primary_key=("seller_id",),
    ),
    SourceTable(
        name="product_category_name_translation",
        file_name="product_category_name_translation.csv",
        columns=_cols(
            ("product_category_name", Kind.TEXT),
            ("product_category_name_english", Kind.TEXT),
        ),
        primary_key=("product_category_name",),
    ),
)

TABLES_BY_NAME = {table.name: table for table in TABLES}
