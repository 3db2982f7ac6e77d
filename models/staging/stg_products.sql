/* Products: one row per product_id, the latest version in the lake. The source's misspelt
*_lenght columns are renamed *_length. */
MODEL (
  name staging.stg_products,
  kind VIEW,
  grain product_id,
  audits (
    not_null(columns := product_id),
    unique_values(columns := product_id),
    row_count_matches_lake_keys(lake_table := 'products', keys := product_id)
  )
);

WITH source AS (
  SELECT
    bronze.product_id::TEXT AS product_id,
    bronze.product_category_name::TEXT AS product_category_name,
    bronze.product_name_lenght::INT AS product_name_lenght,
    bronze.product_description_lenght::INT AS product_description_lenght,
    bronze.product_photos_qty::INT AS product_photos_qty,
    bronze.product_weight_g::INT AS product_weight_g,
    bronze.product_length_cm::INT AS product_length_cm,
    bronze.product_height_cm::INT AS product_height_cm,
    bronze.product_width_cm::INT AS product_width_cm,
    bronze._dlt_load_id::TEXT AS _dlt_load_id
  FROM @read_lake('products') AS bronze
), latest AS (
  SELECT
    *
  FROM source
  QUALIFY
    @is_latest_version(product_id)
)
SELECT
  product_id::TEXT AS product_id, /* The product. */
  @clean_text(product_category_name)::TEXT AS product_category_name, /* Category in Portuguese; NULL for products without one. */
  product_name_lenght::INT AS product_name_length, /* Characters in the product name. */
  product_description_lenght::INT AS product_description_length, /* Characters in the product description. */
  product_photos_qty::INT AS product_photos_qty, /* Photos published. */
  product_weight_g::INT AS product_weight_g, /* Weight in grams. */
  product_length_cm::INT AS product_length_cm, /* Length in centimetres. */
  product_height_cm::INT AS product_height_cm, /* Height in centimetres. */
  product_width_cm::INT AS product_width_cm /* Width in centimetres. */
FROM latest
