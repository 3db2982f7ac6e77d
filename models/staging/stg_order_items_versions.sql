/* Versions of order items: one row per (order_id, order_item_id, _lake_load_id), every version of a key that a lake
export brought, cleaned once when its export arrives. A run reads only the Parquet files of the exports
this table does not hold yet (@read_new_loads) and adds them, one partition per export: nothing is read
twice. A key changed twice between two exports has one version per export (the later staging load). */
MODEL (
  name staging.stg_order_items_versions,
  kind INCREMENTAL_BY_PARTITION,
  allow_partials TRUE,
  partitioned_by _lake_load_id,
  grain (order_id, order_item_id, _lake_load_id),
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (order_id, order_item_id, _dlt_load_id, _lake_load_id, _batch),
      condition := _batch = @current_batch()
    ),
    unique_combination_of_columns(
      columns := (order_id, order_item_id, _lake_load_id),
      condition := _batch = @current_batch()
    )
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
    bronze._dlt_load_id::TEXT AS _dlt_load_id,
    bronze._lake_load_id::TEXT AS _lake_load_id,
    bronze._batch::INT AS _batch
  FROM @read_new_loads('order_items') AS bronze
), latest AS (
  SELECT
    *
  FROM source
  QUALIFY
    @is_latest_version(order_id, order_item_id, _lake_load_id)
)
SELECT
  order_id::TEXT AS order_id, /* The order. */
  order_item_id::INT AS order_item_id, /* Position of the item in its order, from 1. */
  product_id::TEXT AS product_id, /* The product sold. */
  seller_id::TEXT AS seller_id, /* The seller who sold it. */
  @local_timestamp(shipping_limit_date)::TIMESTAMP AS shipping_limit_at, /* Latest time the seller may hand the item to the carrier. */
  price::DECIMAL(12, 2) AS price, /* Item price in BRL. */
  freight_value::DECIMAL(12, 2) AS freight_value, /* Freight charged for the item in BRL. */
  _dlt_load_id::TEXT AS _dlt_load_id, /* The staging load that wrote this version (dlt's load id): the latest version of a key has the greatest. */
  _lake_load_id::TEXT AS _lake_load_id, /* The lake export that brought it (the partition this table is replaced by). */
  _batch::INT AS _batch /* The warehouse run that took the export in (staging.lake_files). */
FROM latest
