"""The report, the site's index: the key figures and the charts, every number read from a mart.

Each chart is one query on one mart and one Altair (Vega-Lite) specification. The queries only
select, filter and order: a figure that needs a computation is a column of a mart
(`marts.key_figures`, `marts.monthly_sales`, ...), so the page and the warehouse never disagree.
Money and shares are read as DOUBLE for the charts only (JSON has no decimals).

Specifications are not validated against Vega-Lite's JSON schema while the site builds (a fifth
of a second of jsonschema); the browser tests draw every chart, which catches what it would.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import altair as alt
import pandas as pd

from olist.errors import PipelineError

# A query on the warehouse, as a DataFrame (build.py runs it on SQLMesh's connection).
Fetch = Callable[[str], pd.DataFrame]

TOP = 15  # categories and sellers shown
WIDE = 500
HIGH = 260


@dataclass(frozen=True)
class KeyFigure:
    """One figure of the header: its mart column, label, exact value and the text shown."""

    column: str
    label: str
    value: Decimal | int | None
    text: str


@dataclass(frozen=True)
class Chart:
    """A chart of the report: the element id it is drawn into, its heading, what it shows and
    its Vega-Lite specification."""

    id: str
    title: str
    caption: str
    spec: dict[str, Any]


def _money(value: Decimal | None) -> str:
    return "—" if value is None else f"R$ {value:,.2f}"


def _share(value: Decimal | None) -> str:
    return "—" if value is None else f"{value * 100:.1f} %"


def key_figures(fetch: Fetch) -> list[KeyFigure]:
    """The header's figures, from the one row of marts.key_figures."""
    frame = fetch(
        "SELECT order_count, revenue, average_order_value, late_delivery_share, "
        "repeat_customer_share FROM marts.key_figures"
    )
    if frame.empty:
        raise PipelineError(
            "marts.key_figures has no row: run `olist run` to bring the warehouse up to date"
        )
    row = frame.astype(object).iloc[0]
    return [
        KeyFigure("order_count", "Orders", int(row.order_count), f"{int(row.order_count):,}"),
        KeyFigure("revenue", "Revenue", row.revenue, _money(row.revenue)),
        KeyFigure(
            "average_order_value",
            "Average order value",
            row.average_order_value,
            _money(row.average_order_value),
        ),
        KeyFigure(
            "late_delivery_share",
            "Delivered late",
            row.late_delivery_share,
            _share(row.late_delivery_share),
        ),
        KeyFigure(
            "repeat_customer_share",
            "Repeat customers",
            row.repeat_customer_share,
            _share(row.repeat_customer_share),
        ),
    ]


def _month(field: str, title: str = "Month") -> alt.X:
    return alt.X(f"{field}:T", title=title, timeUnit="yearmonth")


def _monthly_sales(fetch: Fetch) -> Chart:
    data = fetch(
        "SELECT order_purchase_month, order_count, revenue::DOUBLE AS revenue "
        "FROM marts.monthly_sales ORDER BY order_purchase_month"
    )
    base = alt.Chart(data).encode(_month("order_purchase_month"))
    revenue = base.mark_bar(color="#4c78a8", opacity=0.8).encode(
        alt.Y("revenue:Q", title="Revenue (BRL)"),
        tooltip=["order_purchase_month:T", alt.Tooltip("revenue:Q", format=",.2f"), "order_count"],
    )
    orders = base.mark_line(color="#f58518", point=True).encode(
        alt.Y("order_count:Q", title="Orders", axis=alt.Axis(titleColor="#f58518"))
    )
    chart = alt.layer(revenue, orders).resolve_scale(y="independent")
    return Chart(
        "monthly-sales",
        "Revenue and orders per month",
        "Bars: revenue in BRL; line: orders placed (marts.monthly_sales).",
        chart.properties(width=WIDE, height=HIGH).to_dict(validate=False),
    )


def _order_status(fetch: Fetch) -> Chart:
    data = fetch(
        "SELECT order_status, order_count, share_of_orders::DOUBLE AS share_of_orders "
        "FROM marts.order_status_summary ORDER BY order_count DESC"
    )
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            alt.X(
                "order_count:Q",
                title="Orders (symmetric log scale)",
                # A log scale has no zero for a bar to start from; symlog has.
                scale=alt.Scale(type="symlog"),
                axis=alt.Axis(values=[0, 10, 100, 1_000, 10_000, 100_000]),
            ),
            alt.Y("order_status:N", title=None, sort="-x"),
            tooltip=["order_status", "order_count", alt.Tooltip("share_of_orders:Q", format=".2%")],
        )
    )
    return Chart(
        "order-status",
        "Orders by status",
        "Orders with each status now (marts.order_status_summary).",
        chart.properties(width=WIDE, height=HIGH).to_dict(validate=False),
    )


def _delivery(fetch: Fetch) -> Chart:
    data = fetch(
        "SELECT order_purchase_month, customer_state, delivered_order_count, "
        "on_time_delivery_rate::DOUBLE AS on_time_delivery_rate FROM marts.delivery_performance "
        "ORDER BY order_purchase_month, customer_state"
    )
    chart = (
        alt.Chart(data)
        .mark_rect()
        .encode(
            alt.X("yearmonth(order_purchase_month):O", title="Month of purchase"),
            alt.Y("customer_state:N", title="Customer state"),
            alt.Color(
                "on_time_delivery_rate:Q",
                title="On time",
                scale=alt.Scale(scheme="redyellowgreen", domain=[0.5, 1], clamp=True),
                legend=alt.Legend(format="%"),
            ),
            tooltip=[
                "customer_state",
                alt.Tooltip("order_purchase_month:T", format="%Y-%m"),
                "delivered_order_count",
                alt.Tooltip("on_time_delivery_rate:Q", format=".1%"),
            ],
        )
    )
    return Chart(
        "delivery",
        "On-time delivery by state and month",
        "Share of delivered orders that arrived by the promised date; 50 % or less in red "
        "(marts.delivery_performance).",
        chart.properties(width=WIDE, height=420).to_dict(validate=False),
    )


def _categories(fetch: Fetch) -> Chart:
    data = fetch(
        "SELECT product_category_name_english, revenue::DOUBLE AS revenue, order_count "
        f"FROM marts.product_category_totals ORDER BY revenue DESC LIMIT {TOP}"
    )
    chart = (
        alt.Chart(data)
        .mark_bar(color="#54a24b")
        .encode(
            alt.X("revenue:Q", title="Revenue (BRL)"),
            alt.Y("product_category_name_english:N", title=None, sort="-x"),
            tooltip=[
                "product_category_name_english",
                alt.Tooltip("revenue:Q", format=",.2f"),
                "order_count",
            ],
        )
    )
    return Chart(
        "categories",
        f"Revenue by category (top {TOP})",
        "Revenue of each category's items over all months (marts.product_category_totals).",
        chart.properties(width=WIDE, height=HIGH).to_dict(validate=False),
    )


def _payment_mix(fetch: Fetch) -> Chart:
    data = fetch(
        "SELECT order_purchase_month, payment_type, share_of_value::DOUBLE AS share_of_value "
        "FROM marts.payment_mix ORDER BY order_purchase_month, payment_type"
    )
    chart = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            _month("order_purchase_month"),
            alt.Y("share_of_value:Q", title="Share of payment value", axis=alt.Axis(format="%")),
            alt.Color("payment_type:N", title="Payment type"),
            tooltip=[
                alt.Tooltip("order_purchase_month:T", format="%Y-%m"),
                "payment_type",
                alt.Tooltip("share_of_value:Q", format=".1%"),
            ],
        )
    )
    return Chart(
        "payment-mix",
        "Payment mix over time",
        "Each month's payment value by payment type (marts.payment_mix).",
        chart.properties(width=WIDE, height=HIGH).to_dict(validate=False),
    )


def _cohorts(fetch: Fetch) -> Chart:
    data = fetch(
        "SELECT cohort_month, months_since_first_purchase, cohort_customers, active_customers, "
        "retention_rate::DOUBLE AS retention_rate FROM marts.customer_cohorts "
        "WHERE months_since_first_purchase > 0 ORDER BY cohort_month, months_since_first_purchase"
    )
    chart = (
        alt.Chart(data)
        .mark_rect()
        .encode(
            alt.X("months_since_first_purchase:O", title="Months since first purchase"),
            alt.Y("yearmonth(cohort_month):O", title="Cohort (month of first purchase)"),
            alt.Color(
                "retention_rate:Q",
                title="Retained",
                scale=alt.Scale(scheme="blues"),
                legend=alt.Legend(format=".1%"),
            ),
            tooltip=[
                alt.Tooltip("cohort_month:T", format="%Y-%m"),
                "months_since_first_purchase",
                "cohort_customers",
                "active_customers",
                alt.Tooltip("retention_rate:Q", format=".2%"),
            ],
        )
    )
    return Chart(
        "cohorts",
        "Cohort retention",
        "Share of each month's new customers who ordered again n months later; month 0, where "
        "everyone is active, is left out (marts.customer_cohorts).",
        chart.properties(width=WIDE, height=420).to_dict(validate=False),
    )


def _top_sellers(fetch: Fetch) -> Chart:
    data = fetch(
        "SELECT seller_id, seller_state, revenue::DOUBLE AS revenue, order_count, "
        "on_time_delivery_rate::DOUBLE AS on_time_delivery_rate FROM marts.seller_performance "
        f"ORDER BY revenue DESC, seller_id LIMIT {TOP}"
    )
    chart = (
        alt.Chart(data)
        .mark_bar(color="#b279a2")
        .encode(
            alt.X("revenue:Q", title="Revenue (BRL)"),
            alt.Y("seller_id:N", title="Seller", sort="-x"),
            tooltip=[
                "seller_id",
                "seller_state",
                alt.Tooltip("revenue:Q", format=",.2f"),
                "order_count",
                alt.Tooltip("on_time_delivery_rate:Q", format=".1%"),
            ],
        )
    )
    return Chart(
        "top-sellers",
        f"Top {TOP} sellers by revenue",
        "Revenue of each seller's items (marts.seller_performance).",
        chart.properties(width=WIDE, height=HIGH).to_dict(validate=False),
    )


def report_charts(fetch: Fetch) -> list[Chart]:
    """The report's charts, in page order."""
    return [
        _monthly_sales(fetch),
        _order_status(fetch),
        _delivery(fetch),
        _categories(fetch),
        _payment_mix(fetch),
        _cohorts(fetch),
        _top_sellers(fetch),
    ]
