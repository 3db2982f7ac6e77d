/* Product categories over all time: one row per English category (product_category_name_english)
with the orders, items and revenue of every month: the report's revenue by category.

FULL, allowed by its size: it sums product_category_sales, one already-aggregated row per month
and category. Orders can be summed over months because an order belongs to one purchase month.
allow_partials makes every run bring it up to date. */
MODEL (
  name marts.product_category_totals,
  kind FULL,
  allow_partials TRUE,
  grain product_category_name_english,
  audits (
    not_null(columns := (product_category_name_english, order_count, item_count, revenue)),
    unique_values(columns := product_category_name_english)
  )
);

WITH totals AS (
  SELECT
    product_category_name_english,
    SUM(order_count) AS order_count,
    SUM(item_count) AS item_count,
    SUM(revenue) AS revenue
  FROM marts.product_category_sales
  GROUP BY
    product_category_name_english
)
SELECT
  product_category_name_english::TEXT AS product_category_name_english, /* The category in English. */
  order_count::INT AS order_count, /* Orders with at least one item of the category, any status. */
  item_count::INT AS item_count, /* Items of the category sold, any order status. */
  revenue::DECIMAL(14, 2) AS revenue /* Revenue of those items in BRL: price + freight, canceled and unavailable orders excluded (macros/revenue.py). */
FROM totals
