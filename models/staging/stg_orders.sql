/* Orders as Olist recorded them: one row per order_id, the latest version in the lake. */
MODEL (
  name staging.stg_orders,
  kind VIEW,
  grain order_id,
  audits (
    not_null(columns := (order_id, customer_id, order_status, order_purchased_at)),
    unique_values(columns := order_id),
    row_count_matches_lake_keys(lake_table := 'orders', keys := order_id)
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
    bronze._dlt_load_id::TEXT AS _dlt_load_id
  FROM @read_lake('orders') AS bronze
), latest AS (
  SELECT
    *
  FROM source
  QUALIFY
    @is_latest_version(order_id)
)
SELECT
  order_id::TEXT AS order_id, /* The order. */
  customer_id::TEXT AS customer_id, /* The order's customer record (one per order); customer_unique_id in stg_customers is the person. */
  LOWER(TRIM(order_status))::TEXT AS order_status, /* created, approved, invoiced, processing, shipped, delivered, unavailable or canceled. */
  @local_timestamp(order_purchase_timestamp)::TIMESTAMP AS order_purchased_at, /* When the customer placed the order (Brazilian local time, as in the source). */
  @local_timestamp(order_approved_at)::TIMESTAMP AS order_approved_at, /* When the payment was approved. */
  @local_timestamp(order_delivered_carrier_date)::TIMESTAMP AS order_delivered_carrier_at, /* When the seller handed the order to the carrier. */
  @local_timestamp(order_delivered_customer_date)::TIMESTAMP AS order_delivered_customer_at, /* When the customer received the order. */
  @local_timestamp(order_estimated_delivery_date)::DATE AS order_estimated_delivery_date /* The delivery date promised at purchase. */
FROM latest
