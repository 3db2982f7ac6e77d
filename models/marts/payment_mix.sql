/* Payment mix: one row per purchase month and payment type (order_purchase_month, payment_type),
with how much of the month's payments that type carried and over how many installments. Every
payment of every order counts, whatever the order's status: this is how customers pay, not
revenue.

A run recomputes the months that changed orders belong to, or belonged to in an earlier version
(intermediate.int_order_group_keys): the orders rewritten in marts.fct_orders since this table's
watermark, of any age. A payment change rewrites its order there. INCREMENTAL_BY_PARTITION on the month replaces every row of those
months; a month left with no row gets one row of NULL measures from the query, which replaces the
stale rows and is then deleted by the statement after the query.

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name marts.payment_mix,
  kind @incremental_by_key(),
  partitioned_by @key_partition(order_purchase_month),
  allow_partials TRUE,
  grain (order_purchase_month, payment_type),
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (order_purchase_month, payment_type, payment_count, payment_value),
      condition := _batch = @current_batch()
    ),
    unique_combination_of_columns(
      columns := (order_purchase_month, payment_type),
      condition := _batch = @current_batch()
    ),
    accepted_values(
      "column" := payment_type,
      is_in := ('credit_card', 'boleto', 'voucher', 'debit_card', 'not_defined'),
      condition := _batch = @current_batch()
    )
  )
);

WITH touched_months AS (
  SELECT DISTINCT
    DATE_TRUNC('MONTH', order_purchase_date) AS order_purchase_month
  FROM intermediate.int_order_group_keys
  WHERE
    NOT order_purchase_date IS NULL
    AND (
      @rebuilding()
      OR order_id IN (
        SELECT
          order_id
        FROM marts.fct_orders
        WHERE
          _batch > @watermark()
      )
    )
), orders AS (
  SELECT
    order_id,
    DATE_TRUNC('MONTH', order_purchased_at) AS order_purchase_month
  FROM marts.fct_orders
  WHERE
    @rebuilding()
    OR DATE_TRUNC('MONTH', order_purchased_at) IN (
      SELECT
        order_purchase_month
      FROM touched_months
    )
), payments AS (
  SELECT
    order_id,
    payment_type,
    payment_installments,
    payment_value
  FROM staging.stg_order_payments
  WHERE
    @rebuilding() OR order_id IN (
      SELECT
        order_id
      FROM orders
    )
), monthly AS (
  SELECT
    orders.order_purchase_month,
    payments.payment_type,
    COUNT(*) AS payment_count,
    COUNT(DISTINCT payments.order_id) AS order_count,
    SUM(payments.payment_value) AS payment_value,
    AVG(payments.payment_installments) AS average_installments
  FROM payments
  INNER JOIN orders
    ON payments.order_id = orders.order_id
  GROUP BY
    orders.order_purchase_month,
    payments.payment_type
), monthly_with_share AS (
  SELECT
    touched_months.order_purchase_month,
    monthly.payment_type,
    monthly.payment_count,
    monthly.order_count,
    monthly.payment_value,
    monthly.average_installments,
    monthly.payment_value / NULLIF(
      SUM(monthly.payment_value) OVER (PARTITION BY touched_months.order_purchase_month),
      0
    ) AS share_of_value
  FROM touched_months
  LEFT JOIN monthly
    ON touched_months.order_purchase_month = monthly.order_purchase_month
)
SELECT
  order_purchase_month::DATE AS order_purchase_month, /* First day of the month the orders were placed. */
  payment_type::TEXT AS payment_type, /* credit_card, boleto, voucher, debit_card or not_defined. */
  payment_count::INT AS payment_count, /* Payments of this type. */
  order_count::INT AS order_count, /* Orders paid at least partly with this type. */
  payment_value::DECIMAL(12, 2) AS payment_value, /* Amount paid with this type in BRL. */
  @decimal_of(share_of_value, 5, 4) AS share_of_value, /* Share of the month's payment value, 0 to 1; the month's types add up to 1. */
  @decimal_of(average_installments, 5, 2) AS average_installments, /* Mean installments per payment of this type. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM monthly_with_share
WHERE
  @keeps_emptied_keys(payment_count);

@delete_emptied_keys(payment_count) /* A month with no payment any more: its row of NULL measures replaced the stale rows. */
