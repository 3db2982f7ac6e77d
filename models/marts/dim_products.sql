/* Products: one row per product that is listed or sold, with its category in English and its
size. Every product an order item references has a row: one whose product record is missing
(quarantined at ingest, say) is an inferred member, with category 'uncategorized', NULL
attributes and is_inferred_member TRUE, so items keep their product and category. */
MODEL (
  name marts.dim_products,
  kind FULL,
  grain product_id,
  audits (
    not_null(columns := (product_id, product_category_name_english, is_inferred_member)),
    unique_values(columns := product_id)
  )
);

WITH products AS (
  SELECT
    product_id,
    product_category_name,
    product_category_name_english,
    product_name_length,
    product_description_length,
    product_photos_qty,
    product_weight_g,
    product_length_cm,
    product_height_cm,
    product_width_cm
  FROM intermediate.int_products_translated
), sold_products AS (
  SELECT DISTINCT
    product_id
  FROM staging.stg_order_items
), inferred_products AS (
  SELECT
    sold_products.product_id
  FROM sold_products
  LEFT JOIN products
    ON sold_products.product_id = products.product_id
  WHERE
    products.product_id IS NULL
), all_products AS (
  SELECT
    *,
    FALSE AS is_inferred_member
  FROM products
  UNION ALL BY NAME
  SELECT
    product_id,
    'uncategorized' AS product_category_name_english,
    TRUE AS is_inferred_member
  FROM inferred_products
)
SELECT
  product_id::TEXT AS product_id, /* The product. */
  product_category_name::TEXT AS product_category_name, /* Category in Portuguese, as listed; NULL when it has none. */
  product_category_name_english::TEXT AS product_category_name_english, /* Category in English; the Portuguese name when untranslated; 'uncategorized' when none. */
  product_name_length::INT AS product_name_length, /* Characters in the product name. */
  product_description_length::INT AS product_description_length, /* Characters in the product description. */
  product_photos_qty::INT AS product_photos_qty, /* Photos published. */
  product_weight_g::INT AS product_weight_g, /* Weight in grams. */
  product_length_cm::INT AS product_length_cm, /* Length in centimetres. */
  product_height_cm::INT AS product_height_cm, /* Height in centimetres. */
  product_width_cm::INT AS product_width_cm, /* Width in centimetres. */
  is_inferred_member::BOOLEAN AS is_inferred_member /* TRUE when order items reference the product but its record is missing. */
FROM all_products
