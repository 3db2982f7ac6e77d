/* Order items: one row per (order_id, order_item_id), the latest version in the lake. An order
with three items has order_item_id 1, 2 and 3. */
MODEL (
  name staging.stg_order_items,
  kind VIEW,
  grain (order_id, order_item_id),
  audits (
    not_null(
      columns := (order_id, order_item_id, product_id, seller_id, price, freight_value)
    ),
    unique_combination_of_columns(columns := (order_id, order_item_id)),
    row_count_matches_lake_keys(lake_table := 'order_items', keys := (order_id, order_item_id))
  )
);

WITH source AS (
  SELECT
    bronze.order_id::TEXT AS order_id,
    bronze.order_item_id::INT AS order_item_id,
    bronze.product_id::TEXT AS product_id,
    bronze.seller_id::TEXT AS seller_id,
    bronze.shipping_limit_date::TIMESTAMPTZ AS shipping_limit_date,
    bronze.price::DECIMAL(12, 2) AS price,
    bronze.freight_value::DECIMAL(12, 2) AS freight_value,
    bronze._dlt_load_id::TEXT AS _dlt_load_id
  FROM @read_lake('order_items') AS bronze
), latest AS (
  SELECT
    *
  FROM source
  QUALIFY
    @is_latest_version(order_id, order_item_id)
)
SELECT
  order_id::TEXT AS order_id, /* The order. */
  order_item_id::INT AS order_item_id, /* Position of the item in its order, from 1. */
  product_id::TEXT AS product_id, /* The product sold. */
  seller_id::TEXT AS seller_id, /* The seller who sold it. */
  @local_timestamp(shipping_limit_date)::TIMESTAMP AS shipping_limit_at, /* Latest time the seller may hand the item to the carrier. */
  price::DECIMAL(12, 2) AS price, /* Item price in BRL. */
  freight_value::DECIMAL(12, 2) AS freight_value /* Freight charged for the item in BRL. */
FROM latest
