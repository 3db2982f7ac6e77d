/* Products with their category in English: one row per product. Fallback rule for the category:
the English translation; else the Portuguese name (two categories, pc_gamer and
portateis_cozinha_e_preparadores_de_alimentos, have no translation); else 'uncategorized'
(products listed without a category). So every product has a category to group by.

A run rewrites the products that changed and those whose category's translation changed.

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name intermediate.int_products_translated,
  kind @incremental_by_key(),
  partitioned_by @key_partition(product_id),
  allow_partials TRUE,
  grain product_id,
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (product_id, product_category_name_english),
      condition := _batch = @current_batch()
    ),
    unique_values(columns := product_id, condition := _batch = @current_batch())
  )
);

WITH products AS (
  SELECT
    product_id,
    product_category_name,
    product_name_length,
    product_description_length,
    product_photos_qty,
    product_weight_g,
    product_length_cm,
    product_height_cm,
    product_width_cm
  FROM staging.stg_products
  WHERE
    @rebuilding()
    OR _batch > @watermark()
    OR product_category_name IN (
      SELECT
        product_category_name
      FROM staging.stg_product_category_translations
      WHERE
        _batch > @watermark()
    )
), category_translations AS (
  SELECT
    product_category_name,
    product_category_name_english
  FROM staging.stg_product_category_translations
), translated AS (
  SELECT
    products.*,
    COALESCE(
      category_translations.product_category_name_english,
      products.product_category_name,
      'uncategorized'
    ) AS product_category_name_english
  FROM products
  LEFT JOIN category_translations
    ON products.product_category_name = category_translations.product_category_name
)
SELECT
  product_id::TEXT AS product_id, /* The product. */
  product_category_name::TEXT AS product_category_name, /* Category in Portuguese, as listed; NULL when the product has none. */
  product_category_name_english::TEXT AS product_category_name_english, /* Category in English; the Portuguese name when untranslated; 'uncategorized' when none. */
  product_name_length::INT AS product_name_length, /* Characters in the product name. */
  product_description_length::INT AS product_description_length, /* Characters in the product description. */
  product_photos_qty::INT AS product_photos_qty, /* Number of published photos. */
  product_weight_g::INT AS product_weight_g, /* Weight, grams. */
  product_length_cm::INT AS product_length_cm, /* Length, cm. */
  product_height_cm::INT AS product_height_cm, /* Height, cm. */
  product_width_cm::INT AS product_width_cm, /* Width, cm. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM translated
