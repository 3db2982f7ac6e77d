/* Product category names in English: one row per Portuguese product_category_name.

A run rewrites the product_category_names that new versions touched: it reads their keys from
staging.stg_product_category_translations_versions (rows of batches after this table's watermark), then every version of those
product_category_names, and replaces their rows (INCREMENTAL_BY_PARTITION on product_category_name).

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name staging.stg_product_category_translations,
  kind @incremental_by_key(),
  allow_partials TRUE,
  partitioned_by @key_partition(product_category_name),
  grain product_category_name,
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (product_category_name, product_category_name_english),
      condition := _batch = @current_batch()
    ),
    unique_values(columns := product_category_name, condition := _batch = @current_batch()),
    every_version_key_has_a_row(
      versions := staging.stg_product_category_translations_versions,
      keys := product_category_name
    )
  )
);

SELECT
  product_category_name::TEXT AS product_category_name, /* The category as stg_products names it (Portuguese). */
  product_category_name_english::TEXT AS product_category_name_english, /* Its English name. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM staging.stg_product_category_translations_versions
WHERE
  @rebuilding()
  OR product_category_name IN (
    SELECT
      product_category_name
    FROM staging.stg_product_category_translations_versions
    WHERE
      _batch > @watermark()
  )
QUALIFY
  @is_latest_version(product_category_name)
