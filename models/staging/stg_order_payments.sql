/* Order payments: one row per (order_id, payment_sequential), the latest of its versions.
An order paid with a card and two vouchers has three rows.

A run rewrites the order_ids that new versions touched: it reads their keys from
staging.stg_order_payments_versions (rows of batches after this table's watermark), then every version of those
order_ids, and replaces their rows (INCREMENTAL_BY_PARTITION on order_id).

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name staging.stg_order_payments,
  kind @incremental_by_key(),
  allow_partials TRUE,
  partitioned_by @key_partition(order_id),
  grain (order_id, payment_sequential),
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (order_id, payment_sequential, payment_type, payment_value),
      condition := _batch = @current_batch()
    ),
    unique_combination_of_columns(columns := (order_id, payment_sequential), condition := _batch = @current_batch()),
    every_version_key_has_a_row(
      versions := staging.stg_order_payments_versions,
      keys := (order_id, payment_sequential)
    )
  )
);

SELECT
  order_id::TEXT AS order_id, /* The order. */
  payment_sequential::INT AS payment_sequential, /* Position of the payment in its order, from 1. */
  payment_type::TEXT AS payment_type, /* credit_card, boleto, voucher, debit_card or not_defined. */
  payment_installments::INT AS payment_installments, /* Number of installments chosen. */
  payment_value::DECIMAL(12, 2) AS payment_value, /* Amount paid in BRL. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM staging.stg_order_payments_versions
WHERE
  @rebuilding()
  OR order_id IN (
    SELECT
      order_id
    FROM staging.stg_order_payments_versions
    WHERE
      _batch > @watermark()
  )
QUALIFY
  @is_latest_version(order_id, payment_sequential)
