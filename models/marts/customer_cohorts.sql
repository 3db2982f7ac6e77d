/* Customer cohorts: one row per acquisition month and months since it (cohort_month,
months_since_first_purchase): of the customers whose first order was placed in cohort_month,
how many ordered again that many months later. A customer is acquired by their first order and
active in a month when they place any order in it, whatever its status. Every cohort has a row
for each month from its own up to the latest month with orders, 0 active customers included, so
the retention curve has no gaps.

FULL, from dim_customers, one already-aggregated row per person (their first order and the
months they ordered in): a changed order can move its person to another cohort, and each new
month adds a row to every cohort, so what a run would otherwise have to find out is most of the
table. Reading dim_customers costs what reading one row per customer costs. allow_partials makes
every run (olist run, `sqlmesh run --ignore-cron`) bring it up to date. */
MODEL (
  name marts.customer_cohorts,
  kind FULL,
  allow_partials TRUE,
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

WITH customers AS (
  SELECT
    customer_unique_id,
    DATE_TRUNC('MONTH', first_order_at) AS cohort_month,
    order_months
  FROM marts.dim_customers
), cohorts AS (
  SELECT
    cohort_month,
    COUNT(*) AS cohort_customers
  FROM customers
  GROUP BY
    cohort_month
), active_months AS (
  SELECT
    cohort_month,
    UNNEST(order_months) AS order_month
  FROM customers
), activity AS (
  SELECT
    cohort_month,
    DATE_DIFF('MONTH', cohort_month, order_month) AS months_since_first_purchase,
    COUNT(*) AS active_customers /* order_months holds each month once per customer. */
  FROM active_months
  GROUP BY
    cohort_month,
    months_since_first_purchase
), latest_month AS (
  SELECT
    MAX(order_month) AS latest_order_month
  FROM active_months
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
  @decimal_of(active_customers / cohort_customers, 5, 4) AS retention_rate /* active_customers / cohort_customers, 0 to 1 (1 in month 0). */
FROM retention
