/* Customers: one row per person (customer_unique_id) who has placed an order, with their first
and last order, how many orders they placed, their lifetime value, and where they live now (the
customer record of their latest order). Built from fct_orders, so every customer an order
references has a row and lifetime values add up to fct_orders revenue.

A run recomputes the people that changed orders belong to, or belonged to in an earlier version
(intermediate.int_order_group_keys; orders rewritten in fct_orders since this table's
watermark, of any age), and the people whose latest zip code prefix got new coordinates.
INCREMENTAL_BY_PARTITION on customer_unique_id replaces their rows; a person left with no order
gets a row of NULL measures from the query, which replaces the stale row and is then deleted by
the statement after the query.

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name marts.dim_customers,
  kind @incremental_by_key(),
  partitioned_by @key_partition(customer_unique_id),
  allow_partials TRUE,
  grain customer_unique_id,
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (customer_unique_id, first_order_at, last_order_at, order_count, lifetime_value),
      condition := _batch = @current_batch()
    ),
    unique_values(columns := customer_unique_id, condition := _batch = @current_batch()),
    foreign_key(
      child := marts.fct_orders,
      key := customer_unique_id,
      condition := _batch = @current_batch()
    )
  )
);

WITH touched_customers AS (
  SELECT
    customer_unique_id
  FROM intermediate.int_order_group_keys
  WHERE
    NOT customer_unique_id IS NULL
    AND order_id IN (
      SELECT
        order_id
      FROM marts.fct_orders
      WHERE
        _batch > @watermark()
    )
  UNION
  SELECT
    orders.customer_unique_id
  FROM marts.fct_orders AS orders
  INNER JOIN staging.stg_customers AS customer_records
    ON orders.customer_id = customer_records.customer_id
  WHERE
    customer_records.customer_zip_code_prefix IN (
      SELECT
        geolocation_zip_code_prefix
      FROM staging.stg_geolocation
      WHERE
        _batch > @watermark()
    )
), orders AS (
  SELECT
    order_id,
    customer_id,
    customer_unique_id,
    order_purchased_at,
    is_revenue_order,
    revenue
  FROM marts.fct_orders
  WHERE
    @rebuilding()
    OR customer_unique_id IN (
      SELECT
        customer_unique_id
      FROM touched_customers
    )
), customer_records AS (
  SELECT
    customer_id,
    customer_zip_code_prefix,
    customer_city,
    customer_state
  FROM staging.stg_customers
  WHERE
    @rebuilding() OR customer_id IN (
      SELECT
        customer_id
      FROM orders
    )
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
    LIST_SORT(ARRAY_AGG(DISTINCT DATE_TRUNC('MONTH', order_purchased_at)::DATE)) AS order_months,
    ARG_MAX(customer_id, (order_purchased_at, customer_id)) AS latest_customer_id /* Orders placed at the same instant are decided by the greater customer_id. */
  FROM orders
  GROUP BY
    customer_unique_id
), customers AS (
  SELECT
    touched_customers.customer_unique_id
  FROM touched_customers
  WHERE
    NOT @rebuilding()
  UNION
  SELECT
    customer_unique_id
  FROM order_history
), located_customers AS (
  SELECT
    customers.customer_unique_id,
    order_history.first_order_at,
    order_history.last_order_at,
    order_history.order_count,
    order_history.revenue_order_count,
    order_history.lifetime_value,
    order_history.order_months,
    customer_records.customer_zip_code_prefix,
    customer_records.customer_city,
    customer_records.customer_state,
    geolocations.geolocation_lat AS customer_lat,
    geolocations.geolocation_lng AS customer_lng
  FROM customers
  LEFT JOIN order_history
    ON customers.customer_unique_id = order_history.customer_unique_id
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
  @decimal_of(lifetime_value / NULLIF(revenue_order_count, 0), 12, 2) AS average_order_value, /* lifetime_value per revenue order in BRL; NULL when none. */
  customer_zip_code_prefix::TEXT AS customer_zip_code_prefix, /* First 5 digits of the zip code of their latest order. */
  customer_city::TEXT AS customer_city, /* City of their latest order, cleaned (lower case, no accents). */
  customer_state::TEXT AS customer_state, /* State of their latest order. */
  customer_lat::DOUBLE AS customer_lat, /* Latitude of the zip code prefix (median of its addresses); NULL when unknown. */
  customer_lng::DOUBLE AS customer_lng, /* Longitude of the zip code prefix (median of its addresses); NULL when unknown. */
  order_months::DATE[] AS order_months, /* The months they placed orders in (each month's first day), ascending: what customer_cohorts counts. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM located_customers
WHERE
  @keeps_emptied_keys(order_count);

@delete_emptied_keys(order_count) /* A person with no order any more: its row of NULL measures replaced the stale one. */
