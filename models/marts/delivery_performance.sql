/* Delivery performance: one row per purchase month and customer state (order_purchase_month,
customer_state) with delivered orders: how many arrived on time, and how long delivery took
against the promised date. Only orders that reached the customer count; customer_state is
'unknown' for orders whose customer record is missing.

A run recomputes the months that changed orders belong to, or belonged to in an earlier version
(intermediate.int_order_group_keys): the orders rewritten in marts.fct_orders since this table's
watermark, of any age. INCREMENTAL_BY_PARTITION on the month replaces every row of those
months; a month left with no row gets one row of NULL measures from the query, which replaces the
stale rows and is then deleted by the statement after the query.

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name marts.delivery_performance,
  kind @incremental_by_key(),
  partitioned_by @key_partition(order_purchase_month),
  allow_partials TRUE,
  grain (order_purchase_month, customer_state),
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (order_purchase_month, customer_state, delivered_order_count, late_order_count),
      condition := _batch = @current_batch()
    ),
    unique_combination_of_columns(
      columns := (order_purchase_month, customer_state),
      condition := _batch = @current_batch()
    )
  )
);

WITH touched_months AS (
  SELECT DISTINCT
    DATE_TRUNC('MONTH', order_purchase_date) AS order_purchase_month
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
), delivered_orders AS (
  SELECT
    DATE_TRUNC('MONTH', order_purchased_at) AS order_purchase_month,
    COALESCE(customer_state, 'unknown') AS customer_state,
    delivery_days,
    estimated_delivery_days,
    is_delivered_late
  FROM marts.fct_orders
  WHERE
    NOT order_delivered_customer_at IS NULL
    AND (
      @rebuilding()
      OR DATE_TRUNC('MONTH', order_purchased_at) IN (
        SELECT
          order_purchase_month
        FROM touched_months
      )
    )
), monthly_by_state AS (
  SELECT
    order_purchase_month,
    customer_state,
    COUNT(*) AS delivered_order_count,
    COUNT_IF(is_delivered_late) AS late_order_count,
    AVG(delivery_days) AS average_delivery_days,
    AVG(estimated_delivery_days) AS average_estimated_delivery_days,
    AVG(delivery_days - estimated_delivery_days) AS average_days_versus_estimate
  FROM delivered_orders
  GROUP BY
    order_purchase_month,
    customer_state
), monthly AS (
  SELECT
    touched_months.order_purchase_month,
    monthly_by_state.customer_state,
    monthly_by_state.delivered_order_count,
    monthly_by_state.late_order_count,
    monthly_by_state.average_delivery_days,
    monthly_by_state.average_estimated_delivery_days,
    monthly_by_state.average_days_versus_estimate
  FROM touched_months
  LEFT JOIN monthly_by_state
    ON touched_months.order_purchase_month = monthly_by_state.order_purchase_month
)
SELECT
  order_purchase_month::DATE AS order_purchase_month, /* First day of the month the orders were placed. */
  customer_state::TEXT AS customer_state, /* State the orders were delivered to. */
  delivered_order_count::INT AS delivered_order_count, /* Orders that reached the customer. */
  late_order_count::INT AS late_order_count, /* Of those, orders delivered after the promised date. */
  @decimal_of(1 - late_order_count / delivered_order_count, 5, 4) AS on_time_delivery_rate, /* Share delivered by the promised date, 0 to 1. */
  @decimal_of(average_delivery_days, 6, 2) AS average_delivery_days, /* Mean calendar days from purchase to delivery. */
  @decimal_of(average_estimated_delivery_days, 6, 2) AS average_estimated_delivery_days, /* Mean calendar days from purchase to the promised date. */
  @decimal_of(average_days_versus_estimate, 6, 2) AS average_days_versus_estimate, /* Mean of delivery minus promised date in days: negative is early, positive late. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM monthly
WHERE
  @keeps_emptied_keys(delivered_order_count);

@delete_emptied_keys(delivered_order_count) /* A month with no delivered order any more: its row of NULL measures replaced the stale rows. */
