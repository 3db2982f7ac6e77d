/* Versions of customer records: one row per (customer_id, _lake_load_id), every version of a key that a lake
export brought, cleaned once when its export arrives. A run reads only the Parquet files of the exports
this table does not hold yet (@read_new_loads) and adds them, one partition per export: nothing is read
twice. A key changed twice between two exports has one version per export (the later staging load). */
MODEL (
  name staging.stg_customers_versions,
  kind INCREMENTAL_BY_PARTITION,
  allow_partials TRUE,
  partitioned_by _lake_load_id,
  grain (customer_id, _lake_load_id),
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (customer_id, _dlt_load_id, _lake_load_id, _batch),
      condition := _batch = @current_batch()
    ),
    unique_combination_of_columns(columns := (customer_id, _lake_load_id), condition := _batch = @current_batch())
  )
);

WITH source AS (
  SELECT
    bronze.customer_id::TEXT AS customer_id,
    bronze.customer_unique_id::TEXT AS customer_unique_id,
    bronze.customer_zip_code_prefix::TEXT AS customer_zip_code_prefix,
    bronze.customer_city::TEXT AS customer_city,
    bronze.customer_state::TEXT AS customer_state,
    bronze._dlt_load_id::TEXT AS _dlt_load_id,
    bronze._lake_load_id::TEXT AS _lake_load_id,
    bronze._batch::INT AS _batch
  FROM @read_new_loads('customers') AS bronze
), latest AS (
  SELECT
    *
  FROM source
  QUALIFY
    @is_latest_version(customer_id, _lake_load_id)
)
SELECT
  customer_id::TEXT AS customer_id, /* The customer record of one order. */
  customer_unique_id::TEXT AS customer_unique_id, /* The person: the same across their orders. */
  @zip_code_prefix(customer_zip_code_prefix)::TEXT AS customer_zip_code_prefix, /* First 5 digits of the zip code, leading zeros kept. */
  @clean_city(customer_city)::TEXT AS customer_city, /* Lower case, no accents, no state suffix; NULL when unusable. */
  @clean_state(customer_state)::TEXT AS customer_state, /* Two-letter state code, upper case. */
  _dlt_load_id::TEXT AS _dlt_load_id, /* The staging load that wrote this version (dlt's load id): the latest version of a key has the greatest. */
  _lake_load_id::TEXT AS _lake_load_id, /* The lake export that brought it (the partition this table is replaced by). */
  _batch::INT AS _batch /* The warehouse run that took the export in (staging.lake_files). */
FROM latest
