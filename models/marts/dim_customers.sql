/* Customers: one row per person (customer_unique_id) who has placed an order, with their first
and last order, how many orders they placed, their lifetime value, and where they live now (the
customer record of their latest order). Built from fct_orders, so every customer an order
references has a row and lifetime values add up to fct_orders revenue. */
MODEL (
  name marts.dim_customers,
  kind FULL,
  grain customer_unique_id,
  audits (
    not_null(
      columns := (customer_unique_id, first_order_at, last_order_at, order_count, lifetime_value)
    ),
    unique_values(columns := customer_unique_id),
    foreign_key(child := marts.fct_orders, key := customer_unique_id)
  )
);

WITH orders AS (
  SELECT
    order_id,
    customer_id,
    customer_unique_id,
    order_purchased_at,
    is_revenue_order,
    revenue
  FROM marts.fct_orders
), customer_records AS (
  SELECT
    customer_id,
    customer_zip_code_prefix,
    customer_city,
    customer_state
  FROM staging.stg_customers
), geolocations AS (
  SELECT
    geolocation_zip_code_prefix,
    geolocation_lat,
    geolocation_lng
  FROM staging.stg_geolocation
), order_history AS (
  SELECT
    customer_unique_id,
    MIN(order_purchased_at) AS first_order_at,
    MAX(order_purchased_at) AS last_order_at,
    COUNT(order_id) AS order_count,
    COUNT_IF(is_revenue_order) AS revenue_order_count,
    SUM(revenue) AS lifetime_value,
    ARG_MAX(customer_id, (order_purchased_at, customer_id)) AS latest_customer_id /* Orders placed at the same instant are decided by the greater customer_id. */
  FROM orders
  GROUP BY
    customer_unique_id
), located_customers AS (
  SELECT
    order_history.*,
    customer_records.customer_zip_code_prefix,
    customer_records.customer_city,
    customer_records.customer_state,
    geolocations.geolocation_lat AS customer_lat,
    geolocations.geolocation_lng AS customer_lng
  FROM order_history
  LEFT JOIN customer_records
    ON order_history.latest_customer_id = customer_records.customer_id
  LEFT JOIN geolocations
    ON customer_records.customer_zip_code_prefix = geolocations.geolocation_zip_code_prefix
)
SELECT
  customer_unique_id::TEXT AS customer_unique_id, /* The person. */
  first_order_at::TIMESTAMP AS first_order_at, /* When they placed their first order. */
  last_order_at::TIMESTAMP AS last_order_at, /* When they placed their latest order. */
  order_count::INT AS order_count, /* Orders placed, any status. */
  revenue_order_count::INT AS revenue_order_count, /* Orders that count toward revenue (not canceled or unavailable). */
  lifetime_value::DECIMAL(12, 2) AS lifetime_value, /* Revenue of all their orders in BRL (macros/revenue.py). */
  (
    lifetime_value / NULLIF(revenue_order_count, 0)
  )::DECIMAL(12, 2) AS average_order_value, /* lifetime_value per revenue order in BRL; NULL when none. */
  customer_zip_code_prefix::TEXT AS customer_zip_code_prefix, /* First 5 digits of the zip code of their latest order. */
  customer_city::TEXT AS customer_city, /* City of their latest order, cleaned (lower case, no accents). */
  customer_state::TEXT AS customer_state, /* State of their latest order. */
  customer_lat::DOUBLE AS customer_lat, /* Latitude of the zip code prefix (median of its addresses); NULL when unknown. */
  customer_lng::DOUBLE AS customer_lng /* Longitude of the zip code prefix (median of its addresses); NULL when unknown. */
FROM located_customers
