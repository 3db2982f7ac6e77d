/* Daily sales: one row per day on which orders were placed (order_purchase_date), with how many
orders and customers, the revenue and the average order value. Days without orders have no row.

Incremental by purchase date with the same lookback (240 days) and batch size as fct_orders,
which it summarises: a day's revenue changes as its orders are canceled or delivered, for months
(fct_orders explains the measurement). */
MODEL (
  name marts.daily_sales_summary,
  kind INCREMENTAL_BY_TIME_RANGE (
    time_column order_purchase_date,
    lookback 240,
    batch_size 1095
  ),
  grain order_purchase_date,
  audits (
    not_null(
      columns := (order_purchase_date, order_count, revenue_order_count, revenue, customer_count)
    ),
    unique_values(columns := order_purchase_date),
    daily_sales_summary_matches_fct_orders
  )
);

WITH orders AS (
  SELECT
    order_id,
    customer_unique_id,
    order_purchase_date,
    is_revenue_order,
    revenue
  FROM marts.fct_orders
  WHERE
    order_purchase_date BETWEEN @start_ds AND @end_ds
), daily AS (
  SELECT
    order_purchase_date,
    COUNT(order_id) AS order_count,
    COUNT_IF(is_revenue_order) AS revenue_order_count,
    SUM(revenue) AS revenue,
    COUNT(DISTINCT customer_unique_id) AS customer_count
  FROM orders
  GROUP BY
    order_purchase_date
)
SELECT
  order_purchase_date::DATE AS order_purchase_date, /* The day the orders were placed. */
  order_count::INT AS order_count, /* Orders placed that day, any status. */
  revenue_order_count::INT AS revenue_order_count, /* Of those, orders that count toward revenue (not canceled or unavailable). */
  revenue::DECIMAL(12, 2) AS revenue, /* Revenue of the day's orders in BRL: item price + freight, canceled and unavailable orders excluded (macros/revenue.py). */
  (
    revenue / NULLIF(revenue_order_count, 0)
  )::DECIMAL(12, 2) AS average_order_value, /* revenue per revenue order in BRL; NULL when there is none. */
  customer_count::INT AS customer_count /* Distinct customers (customer_unique_id) who ordered that day. */
FROM daily
