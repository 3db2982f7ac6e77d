/* Seller performance: one row per seller (seller_id) in dim_sellers, with what they sold, how
often their orders arrived on time and how customers rated them. An order with items from
several sellers counts for each of them, with its delivery and its review. Sellers without sales
have 0 counts and revenue and NULL rates.

A run recomputes the sellers rewritten in dim_sellers and the sellers of the orders rewritten
in fct_orders or fct_order_items, including the sellers of earlier versions of their items
(intermediate.int_order_group_keys), since this table's watermark. INCREMENTAL_BY_PARTITION on
seller_id replaces their rows; a seller gone from dim_sellers gets a row of NULL columns from
the query, which replaces the stale row and is then deleted by the statement after the query.

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name marts.seller_performance,
  kind @incremental_by_key(),
  partitioned_by @key_partition(seller_id),
  allow_partials TRUE,
  grain seller_id,
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (seller_id, order_count, item_count, revenue),
      condition := _batch = @current_batch()
    ),
    unique_values(columns := seller_id, condition := _batch = @current_batch()),
    foreign_key(
      key := seller_id,
      parent := marts.dim_sellers,
      condition := _batch = @current_batch()
    )
  )
);

WITH touched_sellers AS (
  SELECT
    seller_id
  FROM marts.dim_sellers
  WHERE
    _batch > @watermark()
  UNION
  SELECT
    seller_id
  FROM intermediate.int_order_group_keys
  WHERE
    NOT seller_id IS NULL
    AND order_id IN (
      SELECT
        order_id
      FROM marts.fct_orders
      WHERE
        _batch > @watermark()
      UNION
      SELECT
        order_id
      FROM marts.fct_order_items
      WHERE
        _batch > @watermark()
    )
), sellers AS (
  SELECT
    seller_id,
    seller_city,
    seller_state
  FROM marts.dim_sellers
  WHERE
    @rebuilding() OR seller_id IN (
      SELECT
        seller_id
      FROM touched_sellers
    )
), order_items AS (
  SELECT
    order_id,
    seller_id,
    revenue
  FROM marts.fct_order_items
  WHERE
    @rebuilding() OR seller_id IN (
      SELECT
        seller_id
      FROM touched_sellers
    )
), orders AS (
  SELECT
    order_id,
    is_delivered_late,
    review_score
  FROM marts.fct_orders
  WHERE
    @rebuilding() OR order_id IN (
      SELECT
        order_id
      FROM order_items
    )
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
    touched_sellers.seller_id,
    sellers.seller_city,
    sellers.seller_state,
    CASE
      WHEN sellers.seller_id IS NULL
      THEN NULL
      ELSE COALESCE(seller_totals.order_count, 0)
    END AS order_count, /* NULL marks a seller gone from dim_sellers (deleted below). */
    COALESCE(seller_totals.item_count, 0) AS item_count,
    COALESCE(seller_totals.revenue, 0) AS revenue,
    COALESCE(seller_totals.delivered_order_count, 0) AS delivered_order_count,
    seller_totals.on_time_order_count,
    seller_totals.reviewed_order_count,
    seller_totals.average_review_score
  FROM (
    SELECT
      seller_id
    FROM touched_sellers
    WHERE
      NOT @rebuilding()
    UNION
    SELECT
      seller_id
    FROM sellers
  ) AS touched_sellers
  LEFT JOIN sellers
    ON touched_sellers.seller_id = sellers.seller_id
  LEFT JOIN seller_totals
    ON touched_sellers.seller_id = seller_totals.seller_id
)
SELECT
  seller_id::TEXT AS seller_id, /* The seller. */
  seller_city::TEXT AS seller_city, /* City, cleaned. */
  seller_state::TEXT AS seller_state, /* Two-letter state code. */
  order_count::INT AS order_count, /* Orders with at least one of their items, any status. */
  item_count::INT AS item_count, /* Items they sold, any order status. */
  revenue::DECIMAL(12, 2) AS revenue, /* Revenue of their items in BRL: price + freight, canceled and unavailable orders excluded (macros/revenue.py). */
  delivered_order_count::INT AS delivered_order_count, /* Their orders that reached the customer. */
  @decimal_of(on_time_order_count / NULLIF(delivered_order_count, 0), 5, 4) AS on_time_delivery_rate, /* Share of delivered orders that arrived by the promised date, 0 to 1; NULL when none was delivered. */
  COALESCE(reviewed_order_count, 0)::INT AS reviewed_order_count, /* Their orders with a review. */
  @decimal_of(average_review_score, 3, 2) AS average_review_score, /* Mean review score of their orders, 1 to 5; NULL when none was reviewed. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM sellers_with_totals
WHERE
  @keeps_emptied_keys(order_count);

@delete_emptied_keys(order_count) /* A seller gone from dim_sellers: its row of NULL columns replaced the stale one. */
