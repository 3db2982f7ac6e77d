/* Customer cohorts: one row per acquisition month and months since it (cohort_month,
months_since_first_purchase): of the customers whose first order was placed in cohort_month,
how many ordered again that many months later. A customer is acquired by their first order and
active in a month when they place any order in it, whatever its status. Every cohort has a row
for each month from its own up to the latest month with orders, 0 active customers included, so
the retention curve has no gaps. */
MODEL (
  name marts.customer_cohorts,
  kind FULL,
  grain (cohort_month, months_since_first_purchase),
  audits (
    not_null(
      columns := (
        cohort_month,
        months_since_first_purchase,
        cohort_customers,
        active_customers,
        retention_rate
      )
    ),
    unique_combination_of_columns(columns := (cohort_month, months_since_first_purchase))
  )
);

WITH orders AS (
  SELECT
    customer_unique_id,
    DATE_TRUNC('MONTH', order_purchased_at) AS order_month
  FROM marts.fct_orders
), first_orders AS (
  SELECT
    customer_unique_id,
    MIN(order_month) AS cohort_month
  FROM orders
  GROUP BY
    customer_unique_id
), cohorts AS (
  SELECT
    cohort_month,
    COUNT(*) AS cohort_customers
  FROM first_orders
  GROUP BY
    cohort_month
), activity AS (
  SELECT
    first_orders.cohort_month,
    DATE_DIFF('MONTH', first_orders.cohort_month, orders.order_month) AS months_since_first_purchase,
    COUNT(DISTINCT orders.customer_unique_id) AS active_customers
  FROM orders
  INNER JOIN first_orders
    ON orders.customer_unique_id = first_orders.customer_unique_id
  GROUP BY
    first_orders.cohort_month,
    months_since_first_purchase
), latest_month AS (
  SELECT
    MAX(order_month) AS latest_order_month
  FROM orders
), cohort_months AS (
  SELECT
    cohorts.cohort_month,
    cohorts.cohort_customers,
    UNNEST(
      GENERATE_SERIES(0, DATE_DIFF('MONTH', cohorts.cohort_month, latest_month.latest_order_month))
    ) AS months_since_first_purchase
  FROM cohorts
  CROSS JOIN latest_month
), retention AS (
  SELECT
    cohort_months.cohort_month,
    cohort_months.months_since_first_purchase,
    cohort_months.cohort_customers,
    COALESCE(activity.active_customers, 0) AS active_customers
  FROM cohort_months
  LEFT JOIN activity
    ON cohort_months.cohort_month = activity.cohort_month
    AND cohort_months.months_since_first_purchase = activity.months_since_first_purchase
)
SELECT
  cohort_month::DATE AS cohort_month, /* First day of the month of the customers' first order. */
  months_since_first_purchase::INT AS months_since_first_purchase, /* Months after cohort_month: 0 is the acquisition month. */
  cohort_customers::INT AS cohort_customers, /* Customers acquired in cohort_month. */
  active_customers::INT AS active_customers, /* Of those, customers who placed an order that month. */
  (
    active_customers / cohort_customers
  )::DECIMAL(5, 4) AS retention_rate /* active_customers / cohort_customers, 0 to 1 (1 in month 0). */
FROM retention
