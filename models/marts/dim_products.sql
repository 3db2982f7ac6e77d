/* Products: one row per product that is listed or sold, with its category in English and its
size. Every product an order item references has a row: one whose product record is missing
(quarantined at ingest, say) is an inferred member, with category 'uncategorized', NULL
attributes and is_inferred_member TRUE, so items keep their product and category.

A run recomputes the products whose record or category translation changed
(intermediate.int_products_translated) and the products that items sold, or sold in an earlier
version (intermediate.int_order_group_keys), in the orders whose items changed since this
table's watermark. INCREMENTAL_BY_PARTITION on product_id replaces their rows; an inferred
product that no item sells any more gets a row of NULL columns from the query, which replaces
the stale row and is then deleted by the statement after the query.

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name marts.dim_products,
  kind @incremental_by_key(),
  partitioned_by @key_partition(product_id),
  allow_partials TRUE,
  grain product_id,
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (product_id, product_category_name_english, is_inferred_member),
      condition := _batch = @current_batch()
    ),
    unique_values(columns := product_id, condition := _batch = @current_batch())
  )
);

WITH touched_products AS (
  SELECT
    product_id
  FROM intermediate.int_products_translated
  WHERE
    _batch > @watermark()
  UNION
  SELECT
    product_id
  FROM intermediate.int_order_group_keys
  WHERE
    NOT product_id IS NULL
    AND order_id IN (
      SELECT
        order_id
      FROM staging.stg_order_items
      WHERE
        _batch > @watermark()
    )
), products AS (
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
  WHERE
    @rebuilding()
    OR product_id IN (
      SELECT
        product_id
      FROM touched_products
    )
), sold_products AS (
  SELECT DISTINCT
    product_id
  FROM staging.stg_order_items
  WHERE
    @rebuilding()
    OR product_id IN (
      SELECT
        product_id
      FROM touched_products
    )
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
    product_id,
    product_category_name,
    product_category_name_english,
    product_name_length,
    product_description_length,
    product_photos_qty,
    product_weight_g,
    product_length_cm,
    product_height_cm,
    product_width_cm,
    FALSE AS is_inferred_member
  FROM products
  UNION ALL
  SELECT
    product_id,
    NULL AS product_category_name,
    'uncategorized' AS product_category_name_english,
    NULL AS product_name_length,
    NULL AS product_description_length,
    NULL AS product_photos_qty,
    NULL AS product_weight_g,
    NULL AS product_length_cm,
    NULL AS product_height_cm,
    NULL AS product_width_cm,
    TRUE AS is_inferred_member
  FROM inferred_products
  UNION ALL
  SELECT
    touched_products.product_id,
    NULL AS product_category_name,
    NULL AS product_category_name_english,
    NULL AS product_name_length,
    NULL AS product_description_length,
    NULL AS product_photos_qty,
    NULL AS product_weight_g,
    NULL AS product_length_cm,
    NULL AS product_height_cm,
    NULL AS product_width_cm,
    NULL AS is_inferred_member
  FROM touched_products
  LEFT JOIN products
    ON touched_products.product_id = products.product_id
  LEFT JOIN sold_products
    ON touched_products.product_id = sold_products.product_id
  WHERE
    NOT @rebuilding()
    AND products.product_id IS NULL
    AND sold_products.product_id IS NULL
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
  is_inferred_member::BOOLEAN AS is_inferred_member, /* TRUE when order items reference the product but its record is missing. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM all_products
WHERE
  @keeps_emptied_keys(is_inferred_member);

@delete_emptied_keys(is_inferred_member) /* A product neither listed nor sold any more: its row of NULL columns replaced the stale one. */
