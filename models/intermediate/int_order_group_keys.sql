/* Every group an order has ever belonged to: one row per order and combination of the keys it
had in some version of its source rows: its purchase date and person (from each version of the
order and of its customer record), and the seller and product of each version of its items
(purchase date and person NULL on those rows). An order with no customer record counts as a
customer of its own (as in fct_orders), so its customer_id is one of its persons.

The marts grouped by day, month, person, seller or product read it to find the groups that an
order touched since their watermark left: its new groups and the ones it moved away from, which
are among its earlier versions' keys. Over-including a group only recomputes it.

A run rewrites the orders with a new version of the order, of one of its items or of its
customer record, with every version of each.

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name intermediate.int_order_group_keys,
  kind @incremental_by_key(),
  partitioned_by @key_partition(order_id),
  allow_partials TRUE,
  grain (order_id, order_purchase_date, customer_unique_id, seller_id, product_id),
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(columns := order_id, condition := _batch = @current_batch()),
    unique_combination_of_columns(
      columns := (order_id, order_purchase_date, customer_unique_id, seller_id, product_id),
      condition := _batch = @current_batch()
    )
  )
);

WITH touched_orders AS (
  SELECT
    order_id
  FROM staging.stg_orders_versions
  WHERE
    _batch > @watermark()
  UNION
  SELECT
    order_id
  FROM staging.stg_order_items_versions
  WHERE
    _batch > @watermark()
  UNION
  SELECT
    order_versions.order_id
  FROM staging.stg_orders_versions AS order_versions
  INNER JOIN staging.stg_customers_versions AS customer_versions
    ON order_versions.customer_id = customer_versions.customer_id
  WHERE
    customer_versions._batch > @watermark()
), order_versions AS (
  SELECT
    order_id,
    customer_id,
    order_purchased_at
  FROM staging.stg_orders_versions
  WHERE
    @rebuilding() OR order_id IN (
      SELECT
        order_id
      FROM touched_orders
    )
), item_versions AS (
  SELECT
    order_id,
    seller_id,
    product_id
  FROM staging.stg_order_items_versions
  WHERE
    @rebuilding() OR order_id IN (
      SELECT
        order_id
      FROM touched_orders
    )
), customer_versions AS (
  SELECT
    customer_id,
    customer_unique_id
  FROM staging.stg_customers_versions
  WHERE
    @rebuilding()
    OR customer_id IN (
      SELECT
        customer_id
      FROM order_versions
    )
), order_persons AS (
  SELECT
    order_versions.order_id,
    order_versions.order_purchased_at::DATE AS order_purchase_date,
    customer_versions.customer_unique_id
  FROM order_versions
  INNER JOIN customer_versions
    ON order_versions.customer_id = customer_versions.customer_id
  UNION
  SELECT
    order_id,
    order_purchased_at::DATE AS order_purchase_date,
    customer_id AS customer_unique_id
  FROM order_versions
), group_keys AS (
  SELECT
    order_id,
    order_purchase_date,
    customer_unique_id,
    NULL AS seller_id,
    NULL AS product_id
  FROM order_persons
  UNION
  SELECT
    order_id,
    NULL AS order_purchase_date,
    NULL AS customer_unique_id,
    seller_id,
    product_id
  FROM item_versions
)
SELECT
  order_id::TEXT AS order_id, /* The order. */
  order_purchase_date::DATE AS order_purchase_date, /* A day it was placed on, in some version; NULL on item rows. */
  customer_unique_id::TEXT AS customer_unique_id, /* A person it belonged to, in some version (or its customer_id); NULL on item rows. */
  seller_id::TEXT AS seller_id, /* A seller of one of its items, in some version; NULL on order rows. */
  product_id::TEXT AS product_id, /* A product of one of its items, in some version; NULL on order rows. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the order's rows (macros/incremental.py). */
FROM group_keys
