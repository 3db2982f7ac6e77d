/* Orders by status: one row per order status that any order has (order_status), with how many
orders have it now, their share of all orders and their revenue (0 for canceled and unavailable
orders, which never became a sale).

FULL, allowed by its size: eight statuses at most, read from fct_orders; an order changing status
moves two rows and every share. allow_partials makes every run bring it up to date. */
MODEL (
  name marts.order_status_summary,
  kind FULL,
  allow_partials TRUE,
  grain order_status,
  audits (
    not_null(columns := (order_status, order_count, share_of_orders, revenue)),
    unique_values(columns := order_status)
  )
);

WITH by_status AS (
  SELECT
    order_status,
    COUNT(*) AS order_count,
    SUM(revenue) AS revenue
  FROM marts.fct_orders
  GROUP BY
    order_status
), with_share AS (
  SELECT
    order_status,
    order_count,
    order_count / SUM(order_count) OVER () AS share_of_orders,
    revenue
  FROM by_status
)
SELECT
  order_status::TEXT AS order_status, /* created, approved, invoiced, processing, shipped, delivered, canceled or unavailable. */
  order_count::INT AS order_count, /* Orders with this status now. */
  share_of_orders::DECIMAL(5, 4) AS share_of_orders, /* order_count / all orders, 0 to 1; the statuses add up to 1. */
  revenue::DECIMAL(14, 2) AS revenue /* Revenue of these orders in BRL; 0 for canceled and unavailable (macros/revenue.py). */
FROM with_share
