/* Versions of products: one row per (product_id, _lake_load_id), every version of a key that a lake
export brought, cleaned once when its export arrives. A run reads only the Parquet files of the exports
this table does not hold yet (@read_new_loads) and adds them, one partition per export: nothing is read
twice. A key changed twice between two exports has one version per export (the later staging load). */
MODEL (
  name staging.stg_products_versions,
  kind INCREMENTAL_BY_PARTITION,
  allow_partials TRUE,
  partitioned_by _lake_load_id,
  grain (product_id, _lake_load_id),
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (product_id, _dlt_load_id, _lake_load_id, _batch),
      condition := _batch = @current_batch()
    ),
    unique_combination_of_columns(columns := (product_id, _lake_load_id), condition := _batch = @current_batch())
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
    bronze._dlt_load_id::TEXT AS _dlt_load_id,
    bronze._lake_load_id::TEXT AS _lake_load_id,
    bronze._batch::INT AS _batch
  FROM @read_new_loads('products') AS bronze
), latest AS (
  SELECT
    *
  FROM source
  QUALIFY
    @is_latest_version(product_id, _lake_load_id)
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
  product_width_cm::INT AS product_width_cm, /* Width in centimetres. */
  _dlt_load_id::TEXT AS _dlt_load_id, /* The staging load that wrote this version (dlt's load id): the latest version of a key has the greatest. */
  _lake_load_id::TEXT AS _lake_load_id, /* The lake export that brought it (the partition this table is replaced by). */
  _batch::INT AS _batch /* The warehouse run that took the export in (staging.lake_files). */
FROM latest
