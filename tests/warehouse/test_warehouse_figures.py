"""The marts agree exactly with key figures computed straight from the sample's CSV files.

The independent side never touches the models, the lake or the macros: plain DuckDB reads the
sample's orders, customers and order items CSVs as text, and the business rules are restated
here from their documentation (macros/revenue.py, the marts' header comments). The marts side
is the warehouse each gateway built from those same CSVs through `olist ingest`, `olist export`
and `sqlmesh plan` (the session warehouses of warehouse_helpers). Each test runs on both
gateways.

The original project's two queries run unchanged and return exactly the independently computed
rows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from helpers.scenarios import GATEWAYS
from helpers.warehouse import Warehouse, output_of

# Each of these builds a warehouse, runs the pipeline end to end or starts a stack.
pytestmark = pytest.mark.slow

CENT = Decimal("0.01")
RATE_STEP = Decimal("0.0001")

# November 2017, the month of Black Friday, acquired the most customers in the sample, and some
# of them ordered again in later months; its retention curve has twelve months (to October 2018).
COHORT_MONTH = date(2017, 11, 1)

# The revenue rule of macros/revenue.py, restated: a sale is an order whose status is neither
# canceled nor unavailable; its revenue is the price plus the freight of its items (0 without
# items); any other order brings 0.
STATUSES_THAT_ARE_NO_SALE = ("canceled", "unavailable")


def restated_revenue_sql(sample_dir: Path) -> str:
    """One row per order of the CSVs: its customer, status, purchase time and revenue."""
    no_sale = ", ".join(f"'{status}'" for status in STATUSES_THAT_ARE_NO_SALE)
    return f"""
        CREATE VIEW csv_orders AS
        SELECT
            order_id,
            customer_id,
            order_status,
            CAST(order_purchase_timestamp AS TIMESTAMP) AS purchased_at,
            CAST(order_delivered_customer_date AS TIMESTAMP) AS delivered_at,
            CAST(order_estimated_delivery_date AS TIMESTAMP) AS estimated_delivery_at,
            order_status NOT IN ({no_sale}) AS is_sale
        FROM read_csv('{sample_dir}/olist_orders_dataset.csv', all_varchar = true);

        CREATE VIEW csv_customers AS
        SELECT customer_id, customer_unique_id, customer_city, customer_state
        FROM read_csv('{sample_dir}/olist_customers_dataset.csv', all_varchar = true);

        CREATE VIEW csv_items AS
        SELECT
            order_id,
            CAST(price AS DECIMAL(12, 2)) AS price,
            CAST(freight_value AS DECIMAL(12, 2)) AS freight_value
        FROM read_csv('{sample_dir}/olist_order_items_dataset.csv', all_varchar = true);

        CREATE VIEW order_revenue AS
        WITH item_totals AS (
            SELECT order_id, sum(price + freight_value) AS price_and_freight
            FROM csv_items
            GROUP BY order_id
        )
        SELECT
            o.order_id,
            o.customer_id,
            -- An order without a customer record would count as a customer of its own.
            coalesce(c.customer_unique_id, o.customer_id) AS customer_unique_id,
            o.order_status,
            o.purchased_at,
            o.is_sale,
            CASE WHEN o.is_sale THEN coalesce(t.price_and_freight, 0) ELSE 0 END AS revenue
        FROM csv_orders AS o
        LEFT JOIN csv_customers AS c USING (customer_id)
        LEFT JOIN item_totals AS t USING (order_id);
    """


@pytest.fixture(scope="module")
def csv(sample_dir: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """In-memory DuckDB over the sample CSVs, with the revenue rule restated as `order_revenue`."""
    with duckdb.connect() as con:
        con.execute(restated_revenue_sql(sample_dir))
        yield con


@pytest.fixture(scope="module", params=GATEWAYS)
def warehouse(request: pytest.FixtureRequest) -> Warehouse:
    """The session warehouse of each gateway, which must have planned without error."""
    built: Warehouse = request.getfixturevalue(f"{request.param}_warehouse")
    assert built.plan.returncode == 0, output_of(built.plan)
    return built


def records(con: duckdb.DuckDBPyConnection, query: str) -> list[dict[str, Any]]:
    """The rows of `query` as dicts keyed by column name, so a mismatch names its column."""
    cursor = con.execute(query)
    columns = [column[0] for column in cursor.description]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def per_order_value(total: Decimal, orders: int) -> Decimal | None:
    """An average in BRL, rounded half up to the cent; None when there is no order."""
    return (total / orders).quantize(CENT, ROUND_HALF_UP) if orders else None


def test_orders_per_status_match_the_csv(warehouse: Warehouse, csv: duckdb.DuckDBPyConnection):
    query = "SELECT order_status, count(*) FROM {} GROUP BY ALL"
    expected = dict(csv.execute(query.format("csv_orders")).fetchall())
    with warehouse.connect() as con:
        built = dict(con.execute(query.format("marts.fct_orders")).fetchall())
    assert built == expected
    assert sum(expected.values()) == 20_864  # every order of the sample (SOURCE.md)


def test_total_revenue_is_the_same_in_every_mart_and_matches_the_csv(
    warehouse: Warehouse, csv: duckdb.DuckDBPyConnection
):
    (total,) = csv.execute("SELECT sum(revenue) FROM order_revenue").fetchone()
    revenue_by_mart = {
        "fct_orders": "SELECT sum(revenue) FROM marts.fct_orders",
        "fct_order_items": "SELECT sum(revenue) FROM marts.fct_order_items",
        "daily_sales_summary": "SELECT sum(revenue) FROM marts.daily_sales_summary",
        "dim_customers": "SELECT sum(lifetime_value) FROM marts.dim_customers",
        "top_customers": "SELECT sum(lifetime_value) FROM marts.top_customers",
        "seller_performance": "SELECT sum(revenue) FROM marts.seller_performance",
        "product_category_sales": "SELECT sum(revenue) FROM marts.product_category_sales",
    }
    with warehouse.connect() as con:
        built = {mart: con.execute(query).fetchone()[0] for mart, query in revenue_by_mart.items()}
    assert built == dict.fromkeys(revenue_by_mart, total)
    # Canceled and unavailable orders with items exist, so the rule really excludes something.
    (excluded,) = csv.execute(
        "SELECT sum(price + freight_value) FROM csv_items JOIN csv_orders USING (order_id) "
        "WHERE NOT is_sale"
    ).fetchone()
    assert excluded > 0


def test_delivered_late_count_matches_the_csv(warehouse: Warehouse, csv: duckdb.DuckDBPyConnection):
    # Late: delivered on a later calendar day than the one promised at purchase.
    (expected,) = csv.execute(
        "SELECT count(*) FROM csv_orders "
        "WHERE CAST(delivered_at AS DATE) > CAST(estimated_delivery_at AS DATE)"
    ).fetchone()
    with warehouse.connect() as con:
        (in_fct_orders,) = con.execute(
            "SELECT count(*) FILTER (WHERE is_delivered_late) FROM marts.fct_orders"
        ).fetchone()
        (in_delivery_performance,) = con.execute(
            "SELECT sum(late_order_count) FROM marts.delivery_performance"
        ).fetchone()
    assert (in_fct_orders, in_delivery_performance) == (expected, expected)
    assert expected > 0


def test_top_ten_customers_by_lifetime_value_match_the_csv(
    warehouse: Warehouse, csv: duckdb.DuckDBPyConnection
):
    expected = csv.execute(
        "SELECT customer_unique_id, sum(revenue) AS lifetime_value FROM order_revenue "
        "GROUP BY ALL ORDER BY lifetime_value DESC, customer_unique_id LIMIT 10"
    ).fetchall()
    with warehouse.connect() as con:
        in_dim_customers = con.execute(
            "SELECT customer_unique_id, lifetime_value FROM marts.dim_customers "
            "ORDER BY lifetime_value DESC, customer_unique_id LIMIT 10"
        ).fetchall()
    assert in_dim_customers == expected
    # No tie at the cut: the tenth value is strictly above the eleventh.
    (eleventh,) = csv.execute(
        "SELECT sum(revenue) AS v FROM order_revenue GROUP BY customer_unique_id "
        "ORDER BY v DESC LIMIT 1 OFFSET 10"
    ).fetchone()
    assert expected[-1][1] > eleventh


def test_orders_per_day_match_the_csv_on_every_day(
    warehouse: Warehouse, csv: duckdb.DuckDBPyConnection
):
    expected = dict(
        csv.execute(
            "SELECT CAST(purchased_at AS DATE), count(*) FROM csv_orders GROUP BY ALL"
        ).fetchall()
    )
    with warehouse.connect() as con:
        built = dict(
            con.execute(
                "SELECT order_purchase_date, order_count FROM marts.daily_sales_summary"
            ).fetchall()
        )
    assert built == expected
    assert (min(expected), max(expected)) == (date(2016, 9, 15), date(2018, 10, 3))


def restated_cohort_curve(csv: duckdb.DuckDBPyConnection, cohort: date) -> list[dict[str, Any]]:
    """Retention of one cohort from the CSVs, restated from marts.customer_cohorts' comment.

    A person (customer_unique_id) belongs to the cohort of the month of their first order, any
    status; they are active in a month when they place any order in it. The curve runs from the
    cohort's month to the latest month with an order, 0 active customers included.
    """
    person_months = csv.execute(
        "SELECT DISTINCT customer_unique_id, CAST(date_trunc('month', purchased_at) AS DATE) "
        "FROM order_revenue"
    ).fetchall()
    first_month: dict[str, date] = {}
    for person, month in person_months:
        first_month[person] = min(month, first_month.get(person, month))
    members = {person for person, month in first_month.items() if month == cohort}
    latest = max(month for _, month in person_months)
    months_to_latest = (latest.year - cohort.year) * 12 + latest.month - cohort.month
    active = [0] * (months_to_latest + 1)
    for person, month in person_months:
        if person in members:
            active[(month.year - cohort.year) * 12 + month.month - cohort.month] += 1
    return [
        {
            "months_since_first_purchase": months,
            "cohort_customers": len(members),
            "active_customers": count,
            "retention_rate": (Decimal(count) / len(members)).quantize(RATE_STEP, ROUND_HALF_UP),
        }
        for months, count in enumerate(active)
    ]


def test_retention_of_the_november_2017_cohort_matches_the_csv(
    warehouse: Warehouse, csv: duckdb.DuckDBPyConnection
):
    expected = restated_cohort_curve(csv, COHORT_MONTH)
    with warehouse.connect() as con:
        built = records(
            con,
            "SELECT months_since_first_purchase, cohort_customers, active_customers, "
            f"retention_rate FROM marts.customer_cohorts WHERE cohort_month = '{COHORT_MONTH}' "
            "ORDER BY months_since_first_purchase",
        )
    assert built == expected
    assert sum(month["active_customers"] for month in expected[1:]) > 0  # some came back


def test_original_daily_sales_query_returns_the_last_ten_days_as_computed_from_the_csv(
    warehouse: Warehouse, csv: duckdb.DuckDBPyConnection
):
    days = csv.execute(
        """
        SELECT
            CAST(purchased_at AS DATE) AS order_purchase_date,
            count(*) AS order_count,
            count(*) FILTER (WHERE is_sale) AS revenue_order_count,
            sum(revenue) AS revenue,
            count(DISTINCT customer_unique_id) AS customer_count
        FROM order_revenue
        GROUP BY ALL
        ORDER BY order_purchase_date DESC
        LIMIT 10
        """
    ).fetchall()
    expected = [
        {
            "order_purchase_date": day,
            "order_count": orders,
            "revenue_order_count": sales,
            "revenue": revenue,
            "average_order_value": per_order_value(revenue, sales),
            "customer_count": customers,
        }
        for day, orders, sales, revenue, customers in days
    ]
    with warehouse.connect() as con:
        built = records(
            con,
            "SELECT * FROM marts.daily_sales_summary ORDER BY order_purchase_date DESC LIMIT 10",
        )
    # The row's warehouse run (macros/incremental.py) is the one column the original lacks.
    assert all(row.pop("_batch") >= 1 for row in built)
    assert built == expected


def test_original_top_customers_query_returns_the_top_twenty_as_computed_from_the_csv(
    warehouse: Warehouse, csv: duckdb.DuckDBPyConnection
):
    customers = csv.execute(
        """
        WITH people AS (
            SELECT
                customer_unique_id,
                sum(revenue) AS lifetime_value,
                count(*) FILTER (WHERE is_sale) AS revenue_order_count,
                count(*) AS order_count,
                min(purchased_at) AS first_order_at,
                max(purchased_at) AS last_order_at,
                -- Where they live now: the customer record of their latest order (the greater
                -- customer_id when two orders were placed at the same instant).
                arg_max(customer_id, (purchased_at, customer_id)) AS latest_customer_id
            FROM order_revenue
            GROUP BY ALL
        )
        SELECT
            rank() OVER (ORDER BY lifetime_value DESC) AS lifetime_value_rank,
            people.customer_unique_id,
            lifetime_value,
            revenue_order_count,
            order_count,
            first_order_at,
            last_order_at,
            customer_city,
            customer_state
        FROM people
        JOIN csv_customers ON csv_customers.customer_id = people.latest_customer_id
        WHERE lifetime_value > 0
        ORDER BY lifetime_value_rank, people.customer_unique_id
        LIMIT 20
        """
    ).fetchall()
    expected = [
        {
            "lifetime_value_rank": rank,
            "customer_unique_id": person,
            "lifetime_value": value,
            "revenue_order_count": sales,
            "order_count": orders,
            "average_order_value": per_order_value(value, sales),
            "first_order_at": first,
            "last_order_at": last,
            "customer_city": city,
            "customer_state": state,
        }
        for rank, person, value, sales, orders, first, last, city, state in customers
    ]
    # These customers' CSV cities and states are already in the cleaned form stg_customers
    # writes (lower case without accents; an upper-case state code), so they compare as they are.
    for row in expected:
        assert re.fullmatch(r"[a-z]+([ '-][a-z]+)*", row["customer_city"]), row
        assert re.fullmatch(r"[A-Z]{2}", row["customer_state"]), row
    with warehouse.connect() as con:
        built = records(con, "SELECT * FROM marts.top_customers LIMIT 20")
    assert built == expected
