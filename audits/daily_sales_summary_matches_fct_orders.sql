AUDIT (
  name daily_sales_summary_matches_fct_orders
);

/* daily_sales_summary adds up to fct_orders: its orders and revenue equal those of all fct_orders
rows. The whole table is checked, since a run rewrites days of any age. Returns one row when they
differ. */
WITH summarised AS (
  SELECT
    COALESCE(SUM(order_count), 0) AS order_count,
    COALESCE(SUM(revenue), 0) AS revenue
  FROM @this_model
), orders AS (
  SELECT
    COUNT(*) AS order_count,
    COALESCE(SUM(revenue), 0) AS revenue
  FROM marts.fct_orders
)
SELECT
  summarised.order_count AS summary_order_count,
  orders.order_count AS fct_orders_order_count,
  summarised.revenue AS summary_revenue,
  orders.revenue AS fct_orders_revenue
FROM summarised
CROSS JOIN orders
WHERE
  summarised.order_count <> orders.order_count
  OR summarised.revenue <> orders.revenue
