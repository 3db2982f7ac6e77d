/* Versions of product category translations: one row per (product_category_name, _lake_load_id), every version of a key that a lake
export brought, cleaned once when its export arrives. A run reads only the Parquet files of the exports
this table does not hold yet (@read_new_loads) and adds them, one partition per export: nothing is read
twice. A key changed twice between two exports has one version per export (the later staging load). */
MODEL (
  name staging.stg_product_category_translations_versions,
  kind INCREMENTAL_BY_PARTITION,
  allow_partials TRUE,
  partitioned_by _lake_load_id,
  grain (product_category_name, _lake_load_id),
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (product_category_name, _dlt_load_id, _lake_load_id, _batch),
      condition := _batch = @current_batch()
    ),
    unique_combination_of_columns(
      columns := (product_category_name, _lake_load_id),
      condition := _batch = @current_batch()
    )
  )
);

WITH source AS (
  SELECT
    bronze.product_category_name::TEXT AS product_category_name,
    bronze.product_category_name_english::TEXT AS product_category_name_english,
    bronze._dlt_load_id::TEXT AS _dlt_load_id,
    bronze._lake_load_id::TEXT AS _lake_load_id,
    bronze._batch::INT AS _batch
  FROM @read_new_loads('product_category_name_translation') AS bronze
), latest AS (
  SELECT
    *
  FROM source
  QUALIFY
    @is_latest_version(product_category_name, _lake_load_id)
)
SELECT
  @clean_text(product_category_name)::TEXT AS product_category_name, /* The category as stg_products names it (Portuguese). */
  @clean_text(product_category_name_english)::TEXT AS product_category_name_english, /* Its English name. */
  _dlt_load_id::TEXT AS _dlt_load_id, /* The staging load that wrote this version (dlt's load id): the latest version of a key has the greatest. */
  _lake_load_id::TEXT AS _lake_load_id, /* The lake export that brought it (the partition this table is replaced by). */
  _batch::INT AS _batch /* The warehouse run that took the export in (staging.lake_files). */
FROM latest
