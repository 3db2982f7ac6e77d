/* Key figures: one row for the whole warehouse, the figures the report's header shows: orders,
revenue, average order value, the share of delivered orders that arrived late and the share of
customers who ordered more than once. The site reads them from here so that the page and the
warehouse never disagree.

FULL, allowed by its size: one row, read from fct_orders (one row per order) and dim_customers
(one row per person), both already built; every change to any order moves these figures, so
there is nothing for an incremental run to skip. allow_partials makes every run bring it up to
date. */
MODEL (
  name marts.key_figures,
  kind FULL,
  allow_partials TRUE,
  audits (
    not_null(
      columns := (
        order_count,
        revenue_order_count,
        revenue,
        delivered_order_count,
        late_order_count,
        customer_count,
        repeat_customer_count
      )
    ),
    accepted_range("column" := late_delivery_share, min_v := 0, max_v := 1),
    accepted_range("column" := repeat_customer_share, min_v := 0, max_v := 1)
  )
);

WITH orders AS (
  SELECT
    COUNT(*) AS order_count,
    SUM(CASE WHEN @is_revenue_order(order_status) THEN 1 ELSE 0 END) AS revenue_order_count,
    SUM(revenue) AS revenue,
    SUM(CASE WHEN NOT is_delivered_late IS NULL THEN 1 ELSE 0 END) AS delivered_order_count,
    SUM(CASE WHEN is_delivered_late THEN 1 ELSE 0 END) AS late_order_count
  FROM marts.fct_orders
), customers AS (
  SELECT
    COUNT(*) AS customer_count,
    SUM(CASE WHEN order_count > 1 THEN 1 ELSE 0 END) AS repeat_customer_count
  FROM marts.dim_customers
)
SELECT
  orders.order_count::INT AS order_count, /* Orders placed, any status. */
  orders.revenue_order_count::INT AS revenue_order_count, /* Of those, orders that count toward revenue (not canceled or unavailable). */
  COALESCE(orders.revenue, 0)::DECIMAL(14, 2) AS revenue, /* Revenue of every order in BRL: item price + freight, canceled and unavailable orders excluded (macros/revenue.py). */
  (
    orders.revenue / NULLIF(orders.revenue_order_count, 0)
  )::DECIMAL(12, 2) AS average_order_value, /* revenue per revenue order in BRL; NULL when there is none. */
  orders.delivered_order_count::INT AS delivered_order_count, /* Orders that reached the customer. */
  orders.late_order_count::INT AS late_order_count, /* Of those, orders delivered after the promised date. */
  (
    orders.late_order_count / NULLIF(orders.delivered_order_count, 0)
  )::DECIMAL(5, 4) AS late_delivery_share, /* late_order_count / delivered_order_count, 0 to 1; NULL when none was delivered. */
  customers.customer_count::INT AS customer_count, /* People who ordered (customer_unique_id). */
  customers.repeat_customer_count::INT AS repeat_customer_count, /* Of those, people with more than one order, any status. */
  (
    customers.repeat_customer_count / NULLIF(customers.customer_count, 0)
  )::DECIMAL(5, 4) AS repeat_customer_share /* repeat_customer_count / customer_count, 0 to 1; NULL when nobody ordered. */
FROM orders
CROSS JOIN customers
