/* Products: one row per product_id, the latest of its versions. The source's misspelt
*_lenght columns are renamed *_length.

A run rewrites the product_ids that new versions touched: it reads their keys from
staging.stg_products_versions (rows of batches after this table's watermark), then every version of those
product_ids, and replaces their rows (INCREMENTAL_BY_PARTITION on product_id).

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name staging.stg_products,
  kind @incremental_by_key(),
  allow_partials TRUE,
  partitioned_by @key_partition(product_id),
  grain product_id,
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(columns := product_id, condition := _batch = @current_batch()),
    unique_values(columns := product_id, condition := _batch = @current_batch()),
    every_version_key_has_a_row(versions := staging.stg_products_versions, keys := product_id)
  )
);

SELECT
  product_id::TEXT AS product_id, /* The product. */
  product_category_name::TEXT AS product_category_name, /* Category in Portuguese; NULL for products without one. */
  product_name_length::INT AS product_name_length, /* Characters in the product name. */
  product_description_length::INT AS product_description_length, /* Characters in the product description. */
  product_photos_qty::INT AS product_photos_qty, /* Photos published. */
  product_weight_g::INT AS product_weight_g, /* Weight in grams. */
  product_length_cm::INT AS product_length_cm, /* Length in centimetres. */
  product_height_cm::INT AS product_height_cm, /* Height in centimetres. */
  product_width_cm::INT AS product_width_cm, /* Width in centimetres. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM staging.stg_products_versions
WHERE
  @rebuilding()
  OR product_id IN (
    SELECT
      product_id
    FROM staging.stg_products_versions
    WHERE
      _batch > @watermark()
  )
QUALIFY
  @is_latest_version(product_id)
