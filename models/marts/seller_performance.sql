/* Seller performance: one row per seller (seller_id) in dim_sellers, with what they sold, how
often their orders arrived on time and how customers rated them. An order with items from
several sellers counts for each of them, with its delivery and its review. Sellers without sales
have 0 counts and revenue and NULL rates. */
MODEL (
  name marts.seller_performance,
  kind FULL,
  grain seller_id,
  audits (
    not_null(columns := (seller_id, order_count, item_count, revenue)),
    unique_values(columns := seller_id),
    foreign_key(key := seller_id, parent := marts.dim_sellers)
  )
);

WITH sellers AS (
  SELECT
    seller_id,
    seller_city,
    seller_state
  FROM marts.dim_sellers
), order_items AS (
  SELECT
    order_id,
    seller_id,
    revenue
  FROM marts.fct_order_items
), orders AS (
  SELECT
    order_id,
    is_delivered_late,
    review_score
  FROM marts.fct_orders
), seller_orders AS (
  SELECT
    seller_id,
    order_id,
    COUNT(*) AS item_count,
    SUM(revenue) AS revenue
  FROM order_items
  GROUP BY
    seller_id,
    order_id
), seller_totals AS (
  SELECT
    seller_orders.seller_id,
    COUNT(seller_orders.order_id) AS order_count,
    SUM(seller_orders.item_count) AS item_count,
    SUM(seller_orders.revenue) AS revenue,
    COUNT(orders.is_delivered_late) AS delivered_order_count,
    COUNT_IF(NOT orders.is_delivered_late) AS on_time_order_count,
    COUNT(orders.review_score) AS reviewed_order_count,
    AVG(orders.review_score) AS average_review_score
  FROM seller_orders
  INNER JOIN orders
    ON seller_orders.order_id = orders.order_id
  GROUP BY
    seller_orders.seller_id
), sellers_with_totals AS (
  SELECT
    sellers.*,
    COALESCE(seller_totals.order_count, 0) AS order_count,
    COALESCE(seller_totals.item_count, 0) AS item_count,
    COALESCE(seller_totals.revenue, 0) AS revenue,
    COALESCE(seller_totals.delivered_order_count, 0) AS delivered_order_count,
    seller_totals.on_time_order_count,
    seller_totals.reviewed_order_count,
    seller_totals.average_review_score
  FROM sellers
  LEFT JOIN seller_totals
    ON sellers.seller_id = seller_totals.seller_id
)
SELECT
  seller_id::TEXT AS seller_id, /* The seller. */
  seller_city::TEXT AS seller_city, /* City, cleaned. */
  seller_state::TEXT AS seller_state, /* Two-letter state code. */
  order_count::INT AS order_count, /* Orders with at least one of their items, any status. */
  item_count::INT AS item_count, /* Items they sold, any order status. */
  revenue::DECIMAL(12, 2) AS revenue, /* Revenue of their items in BRL: price + freight, canceled and unavailable orders excluded (macros/revenue.py). */
  delivered_order_count::INT AS delivered_order_count, /* Their orders that reached the customer. */
  (
    on_time_order_count / NULLIF(delivered_order_count, 0)
  )::DECIMAL(5, 4) AS on_time_delivery_rate, /* Share of delivered orders that arrived by the promised date, 0 to 1; NULL when none was delivered. */
  COALESCE(reviewed_order_count, 0)::INT AS reviewed_order_count, /* Their orders with a review. */
  average_review_score::DECIMAL(3, 2) AS average_review_score /* Mean review score of their orders, 1 to 5; NULL when none was reviewed. */
FROM sellers_with_totals
