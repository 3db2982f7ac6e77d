/* Product category sales: one row per purchase month and category in English
(order_purchase_month, product_category_name_english), with the orders and items sold and their
revenue. Categories follow dim_products (untranslated ones keep their Portuguese name, products
without one are 'uncategorized').

A run recomputes the months that changed orders belong to, or belonged to in an earlier version
(intermediate.int_order_group_keys): the orders rewritten in marts.fct_order_items since this table's
watermark, of any age. INCREMENTAL_BY_PARTITION on the month replaces every row of those
months; a month left with no row gets one row of NULL measures from the query, which replaces the
stale rows and is then deleted by the statement after the query.

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name marts.product_category_sales,
  kind @incremental_by_key(),
  partitioned_by @key_partition(order_purchase_month),
  allow_partials TRUE,
  grain (order_purchase_month, product_category_name_english),
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (
        order_purchase_month,
        product_category_name_english,
        order_count,
        item_count,
        revenue
      ),
      condition := _batch = @current_batch()
    ),
    unique_combination_of_columns(
      columns := (order_purchase_month, product_category_name_english),
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
        FROM marts.fct_order_items
        WHERE
          _batch > @watermark()
      )
    )
), order_items AS (
  SELECT
    order_id,
    DATE_TRUNC('MONTH', order_purchased_at) AS order_purchase_month,
    product_category_name_english,
    revenue
  FROM marts.fct_order_items
  WHERE
    TRUE
    AND (
      @rebuilding()
      OR DATE_TRUNC('MONTH', order_purchased_at) IN (
        SELECT
          order_purchase_month
        FROM touched_months
      )
    )
), monthly_by_category AS (
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
), monthly AS (
  SELECT
    touched_months.order_purchase_month,
    monthly_by_category.product_category_name_english,
    monthly_by_category.order_count,
    monthly_by_category.item_count,
    monthly_by_category.revenue
  FROM touched_months
  LEFT JOIN monthly_by_category
    ON touched_months.order_purchase_month = monthly_by_category.order_purchase_month
)
SELECT
  order_purchase_month::DATE AS order_purchase_month, /* First day of the month the orders were placed. */
  product_category_name_english::TEXT AS product_category_name_english, /* The category in English. */
  order_count::INT AS order_count, /* Orders with at least one item of the category, any status. */
  item_count::INT AS item_count, /* Items of the category sold, any order status. */
  revenue::DECIMAL(12, 2) AS revenue, /* Revenue of those items in BRL: price + freight, canceled and unavailable orders excluded (macros/revenue.py). */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM monthly
WHERE
  @keeps_emptied_keys(item_count);

@delete_emptied_keys(item_count) /* A month with no item any more: its row of NULL measures replaced the stale rows. */
