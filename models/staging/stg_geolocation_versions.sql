/* Versions of geolocation rows: one row per (_row_key, _lake_load_id), every address row a lake
export brought, cleaned once when its export arrives. The source has no key: _row_key is a hash
of the row's content (ingest/tables.py), so a key never changes its zip code prefix and a changed
address is a new key. A run reads only the Parquet files of the exports this table does not hold
yet (@read_new_loads) and adds them, one partition per export. */
MODEL (
  name staging.stg_geolocation_versions,
  kind INCREMENTAL_BY_PARTITION,
  allow_partials TRUE,
  partitioned_by _lake_load_id,
  grain (_row_key, _lake_load_id),
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (_row_key, geolocation_zip_code_prefix, _dlt_load_id, _lake_load_id, _batch),
      condition := _batch = @current_batch()
    ),
    unique_combination_of_columns(columns := (_row_key, _lake_load_id), condition := _batch = @current_batch())
  )
);

WITH source AS (
  SELECT
    bronze.geolocation_zip_code_prefix::TEXT AS geolocation_zip_code_prefix,
    bronze.geolocation_lat::DOUBLE AS geolocation_lat,
    bronze.geolocation_lng::DOUBLE AS geolocation_lng,
    bronze.geolocation_city::TEXT AS geolocation_city,
    bronze.geolocation_state::TEXT AS geolocation_state,
    bronze._row_key::TEXT AS _row_key,
    bronze._dlt_load_id::TEXT AS _dlt_load_id,
    bronze._lake_load_id::TEXT AS _lake_load_id,
    bronze._batch::INT AS _batch
  FROM @read_new_loads('geolocation') AS bronze
), latest AS (
  SELECT
    *
  FROM source
  QUALIFY
    @is_latest_version(_row_key, _lake_load_id)
)
SELECT
  _row_key::TEXT AS _row_key, /* The address row (a hash of its content and occurrence). */
  @zip_code_prefix(geolocation_zip_code_prefix)::TEXT AS geolocation_zip_code_prefix, /* First 5 digits of the zip code, leading zeros kept. */
  geolocation_lat::DOUBLE AS geolocation_lat, /* Latitude, degrees. */
  geolocation_lng::DOUBLE AS geolocation_lng, /* Longitude, degrees. */
  @clean_city(geolocation_city)::TEXT AS geolocation_city, /* Lower case, no accents, no state suffix; NULL when unusable. */
  @clean_state(geolocation_state)::TEXT AS geolocation_state, /* Two-letter state code, upper case. */
  _dlt_load_id::TEXT AS _dlt_load_id, /* The staging load that wrote this version (dlt's load id). */
  _lake_load_id::TEXT AS _lake_load_id, /* The lake export that brought it (the partition this table is replaced by). */
  _batch::INT AS _batch /* The warehouse run that took the export in (staging.lake_files). */
FROM latest
