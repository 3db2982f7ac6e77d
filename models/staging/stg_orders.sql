/* Orders as Olist recorded them: one row per order_id, the latest of its versions.

A run rewrites the order_ids that new versions touched: it reads their keys from
staging.stg_orders_versions (rows of batches after this table's watermark), then every version of those
order_ids, and replaces their rows (INCREMENTAL_BY_PARTITION on order_id).

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name staging.stg_orders,
  kind @incremental_by_key(),
  allow_partials TRUE,
  partitioned_by @key_partition(order_id),
  grain order_id,
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (order_id, customer_id, order_status, order_purchased_at),
      condition := _batch = @current_batch()
    ),
    unique_values(columns := order_id, condition := _batch = @current_batch()),
    every_version_key_has_a_row(versions := staging.stg_orders_versions, keys := order_id)
  )
);

SELECT
  order_id::TEXT AS order_id, /* The order. */
  customer_id::TEXT AS customer_id, /* The order's customer record (one per order); customer_unique_id in stg_customers is the person. */
  order_status::TEXT AS order_status, /* created, approved, invoiced, processing, shipped, delivered, unavailable or canceled. */
  order_purchased_at::TIMESTAMP AS order_purchased_at, /* When the customer placed the order (Brazilian local time, as in the source). */
  order_approved_at::TIMESTAMP AS order_approved_at, /* When the payment was approved. */
  order_delivered_carrier_at::TIMESTAMP AS order_delivered_carrier_at, /* When the seller handed the order to the carrier. */
  order_delivered_customer_at::TIMESTAMP AS order_delivered_customer_at, /* When the customer received the order. */
  order_estimated_delivery_date::DATE AS order_estimated_delivery_date, /* The delivery date promised at purchase. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM staging.stg_orders_versions
WHERE
  @rebuilding()
  OR order_id IN (
    SELECT
      order_id
    FROM staging.stg_orders_versions
    WHERE
      _batch > @watermark()
  )
QUALIFY
  @is_latest_version(order_id)
