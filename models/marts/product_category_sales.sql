/* Product category sales: one row per purchase month and category in English
(order_purchase_month, product_category_name_english), with the orders and items sold and their
revenue. Categories follow dim_products (untranslated ones keep their Portuguese name, products
without one are 'uncategorized'). */
MODEL (
  name marts.product_category_sales,
  kind FULL,
  grain (order_purchase_month, product_category_name_english),
  audits (
    not_null(
      columns := (
        order_purchase_month,
        product_category_name_english,
        order_count,
        item_count,
        revenue
      )
    ),
    unique_combination_of_columns(columns := (order_purchase_month, product_category_name_english))
  )
);

WITH order_items AS (
  SELECT
    order_id,
    DATE_TRUNC('MONTH', order_purchased_at) AS order_purchase_month,
    product_category_name_english,
    revenue
  FROM marts.fct_order_items
), monthly AS (
  SELECT
    order_purchase_month,
    product_category_name_english,
    COUNT(DISTINCT order_id) AS order_count,
    COUNT(*) AS item_count,
    SUM(revenue) AS revenue
  FROM order_items
  GROUP BY
    order_purchase_month,
    product_category_name_english
)
SELECT
  order_purchase_month::DATE AS order_purchase_month, /* First day of the month the orders were placed. */
  product_category_name_english::TEXT AS product_category_name_english, /* The category in English. */
  order_count::INT AS order_count, /* Orders with at least one item of the category, any status. */
  item_count::INT AS item_count, /* Items of the category sold, any order status. */
  revenue::DECIMAL(12, 2) AS revenue /* Revenue of those items in BRL: price + freight, canceled and unavailable orders excluded (macros/revenue.py). */
FROM monthly
