/* Daily sales: one row per day on which orders were placed (order_purchase_date), with how many
orders and customers, the revenue and the average order value. Days without orders have no row.

A run recomputes the days that changed orders belong to, or belonged to in an earlier version
(intermediate.int_order_group_keys): the orders rewritten in fct_orders since this table's
watermark, of any age. INCREMENTAL_BY_PARTITION on the day replaces those days; a day left with
no order at all gets a row with NULL measures from the query, which replaces the stale row and
is then deleted by the statement after the query.

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name marts.daily_sales_summary,
  kind @incremental_by_key(),
  partitioned_by @key_partition(order_purchase_date),
  allow_partials TRUE,
  grain order_purchase_date,
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (order_purchase_date, order_count, revenue_order_count, revenue, customer_count),
      condition := _batch = @current_batch()
    ),
    unique_values(columns := order_purchase_date, condition := _batch = @current_batch()),
    daily_sales_summary_matches_fct_orders
  )
);

WITH touched_days AS (
  SELECT DISTINCT
    order_purchase_date
  FROM intermediate.int_order_group_keys
  WHERE
    NOT order_purchase_date IS NULL
    AND (
      @rebuilding()
      OR order_id IN (
        SELECT
          order_id
        FROM marts.fct_orders
        WHERE
          _batch > @watermark()
      )
    )
), orders AS (
  SELECT
    order_id,
    customer_unique_id,
    order_purchase_date,
    is_revenue_order,
    revenue
  FROM marts.fct_orders
  WHERE
    @rebuilding()
    OR order_purchase_date IN (
      SELECT
        order_purchase_date
      FROM touched_days
    )
), daily_orders AS (
  SELECT
    order_purchase_date,
    COUNT(order_id) AS order_count,
    COUNT_IF(is_revenue_order) AS revenue_order_count,
    SUM(revenue) AS revenue,
    COUNT(DISTINCT customer_unique_id) AS customer_count
  FROM orders
  GROUP BY
    order_purchase_date
), daily AS (
  SELECT
    touched_days.order_purchase_date,
    daily_orders.order_count,
    daily_orders.revenue_order_count,
    daily_orders.revenue,
    daily_orders.customer_count
  FROM touched_days
  LEFT JOIN daily_orders
    ON touched_days.order_purchase_date = daily_orders.order_purchase_date
)
SELECT
  order_purchase_date::DATE AS order_purchase_date, /* The day the orders were placed. */
  order_count::INT AS order_count, /* Orders placed that day, any status. */
  revenue_order_count::INT AS revenue_order_count, /* Of those, orders that count toward revenue (not canceled or unavailable). */
  revenue::DECIMAL(12, 2) AS revenue, /* Revenue of the day's orders in BRL: item price + freight, canceled and unavailable orders excluded (macros/revenue.py). */
  @decimal_of(revenue / NULLIF(revenue_order_count, 0), 12, 2) AS average_order_value, /* revenue per revenue order in BRL; NULL when there is none. */
  customer_count::INT AS customer_count, /* Distinct customers (customer_unique_id) who ordered that day. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM daily
WHERE
  @keeps_emptied_keys(order_count);

@delete_emptied_keys(order_count) /* A day no order belongs to any more: its row of NULL measures replaced the stale one. */
