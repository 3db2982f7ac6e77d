/* Customers ranked by lifetime value: one row per customer (customer_unique_id) who brought any
revenue, best first, so `SELECT * FROM marts.top_customers LIMIT 20` lists the top 20. Customers
whose orders were all canceled or unavailable are left out. Equal lifetime values share a rank.

FULL, allowed by its size: a rank depends on every customer, and it reads dim_customers, one
already-aggregated row per person. allow_partials makes every run bring it up to date. */
MODEL (
  name marts.top_customers,
  kind FULL,
  allow_partials TRUE,
  grain customer_unique_id,
  audits (
    not_null(columns := (customer_unique_id, lifetime_value_rank, lifetime_value)),
    unique_values(columns := customer_unique_id),
    foreign_key(key := customer_unique_id, parent := marts.dim_customers)
  )
);

WITH customers AS (
  SELECT
    customer_unique_id,
    first_order_at,
    last_order_at,
    order_count,
    revenue_order_count,
    lifetime_value,
    average_order_value,
    customer_city,
    customer_state
  FROM marts.dim_customers
  WHERE
    lifetime_value > 0
), ranked_customers AS (
  SELECT
    *,
    RANK() OVER (ORDER BY lifetime_value DESC) AS lifetime_value_rank
  FROM customers
)
SELECT
  lifetime_value_rank::INT AS lifetime_value_rank, /* 1 for the highest lifetime value; equal values share a rank. */
  customer_unique_id::TEXT AS customer_unique_id, /* The person. */
  lifetime_value::DECIMAL(12, 2) AS lifetime_value, /* Revenue of all their orders in BRL (macros/revenue.py). */
  revenue_order_count::INT AS revenue_order_count, /* Orders that count toward revenue. */
  order_count::INT AS order_count, /* Orders placed, any status. */
  average_order_value::DECIMAL(12, 2) AS average_order_value, /* lifetime_value per revenue order in BRL. */
  first_order_at::TIMESTAMP AS first_order_at, /* When they placed their first order. */
  last_order_at::TIMESTAMP AS last_order_at, /* When they placed their latest order. */
  customer_city::TEXT AS customer_city, /* City of their latest order. */
  customer_state::TEXT AS customer_state /* State of their latest order. */
FROM ranked_customers
ORDER BY
  lifetime_value_rank,
  customer_unique_id
