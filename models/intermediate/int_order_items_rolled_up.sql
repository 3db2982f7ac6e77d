/* Order items rolled up to their order: one row per order that has at least one item (orders
without items, mostly canceled or unavailable ones, have no row). fct_orders reads it so that
its item columns come from one place.

A run rewrites the orders whose items changed: the order_ids of staging.stg_order_items rows
rewritten after this table's watermark, with all their items.

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name intermediate.int_order_items_rolled_up,
  kind @incremental_by_key(),
  partitioned_by @key_partition(order_id),
  allow_partials TRUE,
  grain order_id,
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(columns := order_id, condition := _batch = @current_batch()),
    unique_values(columns := order_id, condition := _batch = @current_batch())
  )
);

WITH order_items AS (
  SELECT
    order_id,
    order_item_id,
    product_id,
    seller_id,
    price,
    freight_value
  FROM staging.stg_order_items
  WHERE
    @rebuilding()
    OR order_id IN (
      SELECT
        order_id
      FROM staging.stg_order_items
      WHERE
        _batch > @watermark()
    )
), rolled_up AS (
  SELECT
    order_id,
    COUNT(order_item_id) AS item_count,
    SUM(price) AS items_value,
    SUM(freight_value) AS freight_value,
    COUNT(DISTINCT seller_id) AS seller_count,
    COUNT(DISTINCT product_id) AS product_count
  FROM order_items
  GROUP BY
    order_id
)
SELECT
  order_id::TEXT AS order_id, /* The order. */
  item_count::INT AS item_count, /* Number of items (one per unit sold). */
  items_value::DECIMAL(12, 2) AS items_value, /* Sum of the items' prices, BRL. */
  freight_value::DECIMAL(12, 2) AS freight_value, /* Sum of the items' freight values, BRL. */
  seller_count::INT AS seller_count, /* Distinct sellers in the order. */
  product_count::INT AS product_count, /* Distinct products in the order. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM rolled_up
