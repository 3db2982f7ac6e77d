/* Payment mix: one row per purchase month and payment type (order_purchase_month, payment_type),
with how much of the month's payments that type carried and over how many installments. Every
payment of every order counts, whatever the order's status: this is how customers pay, not
revenue. */
MODEL (
  name marts.payment_mix,
  kind FULL,
  grain (order_purchase_month, payment_type),
  audits (
    not_null(columns := (order_purchase_month, payment_type, payment_count, payment_value)),
    unique_combination_of_columns(columns := (order_purchase_month, payment_type)),
    accepted_values(
      "column" := payment_type,
      is_in := ('credit_card', 'boleto', 'voucher', 'debit_card', 'not_defined')
    )
  )
);

WITH payments AS (
  SELECT
    order_id,
    payment_type,
    payment_installments,
    payment_value
  FROM staging.stg_order_payments
), orders AS (
  SELECT
    order_id,
    DATE_TRUNC('MONTH', order_purchased_at) AS order_purchase_month
  FROM marts.fct_orders
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
    *,
    payment_value / NULLIF(SUM(payment_value) OVER (PARTITION BY order_purchase_month), 0) AS share_of_value
  FROM monthly
)
SELECT
  order_purchase_month::DATE AS order_purchase_month, /* First day of the month the orders were placed. */
  payment_type::TEXT AS payment_type, /* credit_card, boleto, voucher, debit_card or not_defined. */
  payment_count::INT AS payment_count, /* Payments of this type. */
  order_count::INT AS order_count, /* Orders paid at least partly with this type. */
  payment_value::DECIMAL(12, 2) AS payment_value, /* Amount paid with this type in BRL. */
  share_of_value::DECIMAL(5, 4) AS share_of_value, /* Share of the month's payment value, 0 to 1; the month's types add up to 1. */
  average_installments::DECIMAL(5, 2) AS average_installments /* Mean installments per payment of this type. */
FROM monthly_with_share
