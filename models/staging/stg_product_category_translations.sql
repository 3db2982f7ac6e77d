/* Product category names in English: one row per Portuguese product_category_name. */
MODEL (
  name staging.stg_product_category_translations,
  kind VIEW,
  grain product_category_name,
  audits (
    not_null(columns := (product_category_name, product_category_name_english)),
    unique_values(columns := product_category_name),
    row_count_matches_lake_keys(
      lake_table := 'product_category_name_translation',
      keys := (
        product_category_name
      )
    )
  )
);

WITH source AS (
  SELECT
    bronze.product_category_name::TEXT AS product_category_name,
    bronze.product_category_name_english::TEXT AS product_category_name_english,
    bronze._dlt_load_id::TEXT AS _dlt_load_id
  FROM @read_lake('product_category_name_translation') AS bronze
), latest AS (
  SELECT
    *
  FROM source
  QUALIFY
    @is_latest_version(product_category_name)
)
SELECT
  @clean_text(product_category_name)::TEXT AS product_category_name, /* The category as stg_products names it (Portuguese). */
  @clean_text(product_category_name_english)::TEXT AS product_category_name_english /* Its English name. */
FROM latest
