/* Delivery performance: one row per purchase month and customer state (order_purchase_month,
customer_state) with delivered orders: how many arrived on time, and how long delivery took
against the promised date. Only orders that reached the customer count; customer_state is
'unknown' for orders whose customer record is missing. */
MODEL (
  name marts.delivery_performance,
  kind FULL,
  grain (order_purchase_month, customer_state),
  audits (
    not_null(
      columns := (order_purchase_month, customer_state, delivered_order_count, late_order_count)
    ),
    unique_combination_of_columns(columns := (order_purchase_month, customer_state))
  )
);

WITH delivered_orders AS (
  SELECT
    DATE_TRUNC('MONTH', order_purchased_at) AS order_purchase_month,
    COALESCE(customer_state, 'unknown') AS customer_state,
    delivery_days,
    estimated_delivery_days,
    is_delivered_late
  FROM marts.fct_orders
  WHERE
    NOT order_delivered_customer_at IS NULL
), monthly AS (
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
)
SELECT
  order_purchase_month::DATE AS order_purchase_month, /* First day of the month the orders were placed. */
  customer_state::TEXT AS customer_state, /* State the orders were delivered to. */
  delivered_order_count::INT AS delivered_order_count, /* Orders that reached the customer. */
  late_order_count::INT AS late_order_count, /* Of those, orders delivered after the promised date. */
  (
    1 - late_order_count / delivered_order_count
  )::DECIMAL(5, 4) AS on_time_delivery_rate, /* Share delivered by the promised date, 0 to 1. */
  average_delivery_days::DECIMAL(6, 2) AS average_delivery_days, /* Mean calendar days from purchase to delivery. */
  average_estimated_delivery_days::DECIMAL(6, 2) AS average_estimated_delivery_days, /* Mean calendar days from purchase to the promised date. */
  average_days_versus_estimate::DECIMAL(6, 2) AS average_days_versus_estimate /* Mean of delivery minus promised date in days: negative is early, positive late. */
FROM monthly
