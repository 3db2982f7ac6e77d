AUDIT (
  name daily_sales_summary_matches_fct_orders
);

/* daily_sales_summary adds up to fct_orders: over the days just built, its orders and revenue
equal those of the fct_orders rows purchased on those days. Returns one row when they differ. */
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
  WHERE
    order_purchase_date BETWEEN @start_ds AND @end_ds
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
