/* Order payments: one row per (order_id, payment_sequential), the latest version in the lake.
An order paid with a card and two vouchers has three rows. */
MODEL (
  name staging.stg_order_payments,
  kind VIEW,
  grain (order_id, payment_sequential),
  audits (
    not_null(columns := (order_id, payment_sequential, payment_type, payment_value)),
    unique_combination_of_columns(columns := (order_id, payment_sequential)),
    row_count_matches_lake_keys(lake_table := 'order_payments', keys := (order_id, payment_sequential))
  )
);

WITH source AS (
  SELECT
    bronze.order_id::TEXT AS order_id,
    bronze.payment_sequential::INT AS payment_sequential,
    bronze.payment_type::TEXT AS payment_type,
    bronze.payment_installments::INT AS payment_installments,
    bronze.payment_value::DECIMAL(12, 2) AS payment_value,
    bronze._dlt_load_id::TEXT AS _dlt_load_id
  FROM @read_lake('order_payments') AS bronze
), latest AS (
  SELECT
    *
  FROM source
  QUALIFY
    @is_latest_version(order_id, payment_sequential)
)
SELECT
  order_id::TEXT AS order_id, /* The order. */
  payment_sequential::INT AS payment_sequential, /* Position of the payment in its order, from 1. */
  LOWER(TRIM(payment_type))::TEXT AS payment_type, /* credit_card, boleto, voucher, debit_card or not_defined. */
  payment_installments::INT AS payment_installments, /* Number of installments chosen. */
  payment_value::DECIMAL(12, 2) AS payment_value /* Amount paid in BRL. */
FROM latest
