/* Versions of orders: one row per (order_id, _lake_load_id), every version of a key that a lake
export brought, cleaned once when its export arrives. A run reads only the Parquet files of the exports
this table does not hold yet (@read_new_loads) and adds them, one partition per export: nothing is read
twice. A key changed twice between two exports has one version per export (the later staging load). */
MODEL (
  name staging.stg_orders_versions,
  kind INCREMENTAL_BY_PARTITION,
  allow_partials TRUE,
  partitioned_by _lake_load_id,
  grain (order_id, _lake_load_id),
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (order_id, _dlt_load_id, _lake_load_id, _batch),
      condition := _batch = @current_batch()
    ),
    unique_combination_of_columns(columns := (order_id, _lake_load_id), condition := _batch = @current_batch())
  )
);

WITH source AS (
  SELECT
    bronze.order_id::TEXT AS order_id,
    bronze.customer_id::TEXT AS customer_id,
    bronze.order_status::TEXT AS order_status,
    bronze.order_purchase_timestamp::TIMESTAMPTZ AS order_purchase_timestamp,
    bronze.order_approved_at::TIMESTAMPTZ AS order_approved_at,
    bronze.order_delivered_carrier_date::TIMESTAMPTZ AS order_delivered_carrier_date,
    bronze.order_delivered_customer_date::TIMESTAMPTZ AS order_delivered_customer_date,
    bronze.order_estimated_delivery_date::TIMESTAMPTZ AS order_estimated_delivery_date,
    bronze._dlt_load_id::TEXT AS _dlt_load_id,
    bronze._lake_load_id::TEXT AS _lake_load_id,
    bronze._batch::INT AS _batch
  FROM @read_new_loads('orders') AS bronze
), latest AS (
  SELECT
    *
  FROM source
  QUALIFY
    @is_latest_version(order_id, _lake_load_id)
)
SELECT
  order_id::TEXT AS order_id, /* The order. */
  customer_id::TEXT AS customer_id, /* The order's customer record (one per order); customer_unique_id in stg_customers is the person. */
  LOWER(TRIM(order_status))::TEXT AS order_status, /* created, approved, invoiced, processing, shipped, delivered, unavailable or canceled. */
  @local_timestamp(order_purchase_timestamp)::TIMESTAMP AS order_purchased_at, /* When the customer placed the order (Brazilian local time, as in the source). */
  @local_timestamp(order_approved_at)::TIMESTAMP AS order_approved_at, /* When the payment was approved. */
  @local_timestamp(order_delivered_carrier_date)::TIMESTAMP AS order_delivered_carrier_at, /* When the seller handed the order to the carrier. */
  @local_timestamp(order_delivered_customer_date)::TIMESTAMP AS order_delivered_customer_at, /* When the customer received the order. */
  @local_timestamp(order_estimated_delivery_date)::DATE AS order_estimated_delivery_date, /* The delivery date promised at purchase. */
  _dlt_load_id::TEXT AS _dlt_load_id, /* The staging load that wrote this version (dlt's load id): the latest version of a key has the greatest. */
  _lake_load_id::TEXT AS _lake_load_id, /* The lake export that brought it (the partition this table is replaced by). */
  _batch::INT AS _batch /* The warehouse run that took the export in (staging.lake_files). */
FROM latest
