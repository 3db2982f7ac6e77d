/* Order items: one row per (order_id, order_item_id), the latest of its versions. An order
with three items has order_item_id 1, 2 and 3.

A run rewrites the order_ids that new versions touched: it reads their keys from
staging.stg_order_items_versions (rows of batches after this table's watermark), then every version of those
order_ids, and replaces their rows (INCREMENTAL_BY_PARTITION on order_id).

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name staging.stg_order_items,
  kind @incremental_by_key(),
  allow_partials TRUE,
  partitioned_by @key_partition(order_id),
  grain (order_id, order_item_id),
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (order_id, order_item_id, product_id, seller_id, price, freight_value),
      condition := _batch = @current_batch()
    ),
    unique_combination_of_columns(columns := (order_id, order_item_id), condition := _batch = @current_batch()),
    every_version_key_has_a_row(versions := staging.stg_order_items_versions, keys := (order_id, order_item_id))
  )
);

SELECT
  order_id::TEXT AS order_id, /* The order. */
  order_item_id::INT AS order_item_id, /* Position of the item in its order, from 1. */
  product_id::TEXT AS product_id, /* The product sold. */
  seller_id::TEXT AS seller_id, /* The seller who sold it. */
  shipping_limit_at::TIMESTAMP AS shipping_limit_at, /* Latest time the seller may hand the item to the carrier. */
  price::DECIMAL(12, 2) AS price, /* Item price in BRL. */
  freight_value::DECIMAL(12, 2) AS freight_value, /* Freight charged for the item in BRL. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM staging.stg_order_items_versions
WHERE
  @rebuilding()
  OR order_id IN (
    SELECT
      order_id
    FROM staging.stg_order_items_versions
    WHERE
      _batch > @watermark()
  )
QUALIFY
  @is_latest_version(order_id, order_item_id)
