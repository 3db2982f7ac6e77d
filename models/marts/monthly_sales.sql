/* Monthly sales: one row per month in which orders were placed (order_purchase_month), with how
many orders, the revenue and the average order value: the report's revenue and orders per month.
Months without orders have no row.

FULL, allowed by its size: it sums daily_sales_summary, one already-aggregated row per day (a few
hundred rows), so recomputing every month costs less than finding the touched ones. Distinct
customers are not summed: a person who ordered on two days would count twice. allow_partials
makes every run bring it up to date. */
MODEL (
  name marts.monthly_sales,
  kind FULL,
  allow_partials TRUE,
  grain order_purchase_month,
  audits (
    not_null(columns := (order_purchase_month, order_count, revenue_order_count, revenue)),
    unique_values(columns := order_purchase_month)
  )
);

WITH monthly AS (
  SELECT
    DATE_TRUNC('MONTH', order_purchase_date) AS order_purchase_month,
    SUM(order_count) AS order_count,
    SUM(revenue_order_count) AS revenue_order_count,
    SUM(revenue) AS revenue
  FROM marts.daily_sales_summary
  GROUP BY
    DATE_TRUNC('MONTH', order_purchase_date)
)
SELECT
  order_purchase_month::DATE AS order_purchase_month, /* First day of the month the orders were placed. */
  order_count::INT AS order_count, /* Orders placed that month, any status. */
  revenue_order_count::INT AS revenue_order_count, /* Of those, orders that count toward revenue (not canceled or unavailable). */
  revenue::DECIMAL(12, 2) AS revenue, /* Revenue of the month's orders in BRL (macros/revenue.py). */
  (
    revenue / NULLIF(revenue_order_count, 0)
  )::DECIMAL(12, 2) AS average_order_value /* revenue per revenue order in BRL; NULL when there is none. */
FROM monthly
