/* Versions of order payments: one row per (order_id, payment_sequential, _lake_load_id), every version of a key that a lake
export brought, cleaned once when its export arrives. A run reads only the Parquet files of the exports
this table does not hold yet (@read_new_loads) and adds them, one partition per export: nothing is read
twice. A key changed twice between two exports has one version per export (the later staging load). */
MODEL (
  name staging.stg_order_payments_versions,
  kind INCREMENTAL_BY_PARTITION,
  allow_partials TRUE,
  partitioned_by _lake_load_id,
  grain (order_id, payment_sequential, _lake_load_id),
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (order_id, payment_sequential, _dlt_load_id, _lake_load_id, _batch),
      condition := _batch = @current_batch()
    ),
    unique_combination_of_columns(
      columns := (order_id, payment_sequential, _lake_load_id),
      condition := _batch = @current_batch()
    )
  )
);

WITH source AS (
  SELECT
    bronze.order_id::TEXT AS order_id,
    bronze.payment_sequential::INT AS payment_sequential,
    bronze.payment_type::TEXT AS payment_type,
    bronze.payment_installments::INT AS payment_installments,
    bronze.payment_value::DECIMAL(12, 2) AS payment_value,
    bronze._dlt_load_id::TEXT AS _dlt_load_id,
    bronze._lake_load_id::TEXT AS _lake_load_id,
    bronze._batch::INT AS _batch
  FROM @read_new_loads('order_payments') AS bronze
), latest AS (
  SELECT
    *
  FROM source
  QUALIFY
    @is_latest_version(order_id, payment_sequential, _lake_load_id)
)
SELECT
  order_id::TEXT AS order_id, /* The order. */
  payment_sequential::INT AS payment_sequential, /* Position of the payment in its order, from 1. */
  LOWER(TRIM(payment_type))::TEXT AS payment_type, /* credit_card, boleto, voucher, debit_card or not_defined. */
  payment_installments::INT AS payment_installments, /* Number of installments chosen. */
  payment_value::DECIMAL(12, 2) AS payment_value, /* Amount paid in BRL. */
  _dlt_load_id::TEXT AS _dlt_load_id, /* The staging load that wrote this version (dlt's load id): the latest version of a key has the greatest. */
  _lake_load_id::TEXT AS _lake_load_id, /* The lake export that brought it (the partition this table is replaced by). */
  _batch::INT AS _batch /* The warehouse run that took the export in (staging.lake_files). */
FROM latest
