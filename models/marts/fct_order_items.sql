/* Order items: one row per item sold (order_id, order_item_id), with its order's purchase time
and status, its product and the product's category in English, its seller, and its revenue.
product_id and seller_id are keys of dim_products and dim_sellers.

A run rewrites every item of the orders that changed: orders rewritten in fct_orders (status,
items, payments, review, customer), orders with a new version of an item, and orders with an
item of a product whose record or category translation changed
(intermediate.int_products_translated), all since this table's watermark.
INCREMENTAL_BY_PARTITION on order_id replaces exactly those orders' items. Items whose order is
not in fct_orders have no purchase time and are not here.

depends_on lists marts.dim_sellers, which the query does not read, so that the foreign_key audit
on seller_id can see it (an audit sees only its model's parents).

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name marts.fct_order_items,
  kind @incremental_by_key(),
  partitioned_by @key_partition(order_id),
  allow_partials TRUE,
  grain (order_id, order_item_id),
  depends_on (staging.lake_files, marts.dim_sellers),
  audits (
    not_null(
      columns := (
        order_id,
        order_item_id,
        product_id,
        seller_id,
        order_purchased_at,
        product_category_name_english,
        revenue
      ),
      condition := _batch = @current_batch()
    ),
    unique_combination_of_columns(columns := (order_id, order_item_id), condition := _batch = @current_batch()),
    foreign_key(key := order_id, parent := marts.fct_orders, condition := _batch = @current_batch()),
    foreign_key(
      key := product_id,
      parent := marts.dim_products,
      condition := _batch = @current_batch()
    ),
    foreign_key(
      key := seller_id,
      parent := marts.dim_sellers,
      condition := _batch = @current_batch()
    )
  )
);

WITH touched_orders AS (
  SELECT
    order_id
  FROM marts.fct_orders
  WHERE
    _batch > @watermark()
  UNION
  SELECT
    order_id
  FROM staging.stg_order_items
  WHERE
    _batch > @watermark()
    OR product_id IN (
      SELECT
        product_id
      FROM intermediate.int_products_translated
      WHERE
        _batch > @watermark()
    )
), orders AS (
  SELECT
    order_id,
    order_status,
    order_purchased_at,
    order_purchase_date
  FROM marts.fct_orders
  WHERE
    @rebuilding() OR order_id IN (
      SELECT
        order_id
      FROM touched_orders
    )
), order_items AS (
  SELECT
    order_id,
    order_item_id,
    product_id,
    seller_id,
    shipping_limit_at,
    price,
    freight_value
  FROM staging.stg_order_items
  WHERE
    @rebuilding() OR order_id IN (
      SELECT
        order_id
      FROM orders
    )
), products AS (
  SELECT
    product_id,
    product_category_name_english
  FROM marts.dim_products
  WHERE
    @rebuilding() OR product_id IN (
      SELECT
        product_id
      FROM order_items
    )
), items_of_orders AS (
  SELECT
    order_items.*,
    orders.order_status,
    orders.order_purchased_at,
    orders.order_purchase_date,
    products.product_category_name_english
  FROM order_items
  INNER JOIN orders
    ON order_items.order_id = orders.order_id
  LEFT JOIN products
    ON order_items.product_id = products.product_id
)
SELECT
  order_id::TEXT AS order_id, /* The order. */
  order_item_id::INT AS order_item_id, /* Position of the item in its order, from 1. */
  product_id::TEXT AS product_id, /* The product sold (key of dim_products). */
  product_category_name_english::TEXT AS product_category_name_english, /* The product's category in English (see dim_products). */
  seller_id::TEXT AS seller_id, /* The seller who sold it (key of dim_sellers). */
  order_status::TEXT AS order_status, /* The order's status. */
  order_purchased_at::TIMESTAMP AS order_purchased_at, /* When the order was placed. */
  order_purchase_date::DATE AS order_purchase_date, /* The day the order was placed. */
  shipping_limit_at::TIMESTAMP AS shipping_limit_at, /* Latest time the seller may hand the item to the carrier. */
  price::DECIMAL(12, 2) AS price, /* Item price in BRL. */
  freight_value::DECIMAL(12, 2) AS freight_value, /* Freight charged for the item in BRL. */
  @revenue(order_status, price, freight_value) AS revenue, /* Price + freight in BRL; 0 when the order is canceled or unavailable (macros/revenue.py). */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM items_of_orders
