/* Order payments rolled up to their order: one row per order that has at least one payment (one
Olist order has none). An order can be paid in several parts (a voucher and a card, two
cards); payment_type names the part that paid the most.

A run rewrites the orders whose payments changed: the order_ids of staging.stg_order_payments
rows rewritten after this table's watermark, with all their payments.

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name intermediate.int_order_payments_rolled_up,
  kind @incremental_by_key(),
  partitioned_by @key_partition(order_id),
  allow_partials TRUE,
  grain order_id,
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(columns := (order_id, payment_type), condition := _batch = @current_batch()),
    unique_values(columns := order_id, condition := _batch = @current_batch())
  )
);

WITH order_payments AS (
  SELECT
    order_id,
    payment_sequential,
    payment_type,
    payment_installments,
    payment_value
  FROM staging.stg_order_payments
  WHERE
    @rebuilding()
    OR order_id IN (
      SELECT
        order_id
      FROM staging.stg_order_payments
      WHERE
        _batch > @watermark()
    )
), rolled_up AS (
  SELECT
    order_id,
    COUNT(payment_sequential) AS payment_count,
    SUM(payment_value) AS payment_value,
    MAX(payment_installments) AS payment_installments,
    ARG_MIN(payment_type, (-payment_value, payment_sequential)) AS payment_type /* The payment that sorts first by (value descending, sequence ascending): the largest, and of equal ones the first paid. */
  FROM order_payments
  GROUP BY
    order_id
)
SELECT
  order_id::TEXT AS order_id, /* The order. */
  payment_count::INT AS payment_count, /* Number of payments (parts) the order was paid in. */
  payment_value::DECIMAL(12, 2) AS payment_value, /* Sum of the payments, BRL. */
  payment_installments::INT AS payment_installments, /* Most installments of any of its payments. */
  payment_type::TEXT AS payment_type, /* Type of the largest payment (credit_card, boleto, voucher, debit_card, not_defined); ties go to the lowest payment_sequential. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM rolled_up
