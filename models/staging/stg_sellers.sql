/* Sellers: one row per seller_id, the latest version in the lake. */
MODEL (
  name staging.stg_sellers,
  kind VIEW,
  grain seller_id,
  audits (
    not_null(columns := (seller_id, seller_zip_code_prefix)),
    unique_values(columns := seller_id),
    row_count_matches_lake_keys(lake_table := 'sellers', keys := seller_id)
  )
);

WITH source AS (
  SELECT
    bronze.seller_id::TEXT AS seller_id,
    bronze.seller_zip_code_prefix::TEXT AS seller_zip_code_prefix,
    bronze.seller_city::TEXT AS seller_city,
    bronze.seller_state::TEXT AS seller_state,
    bronze._dlt_load_id::TEXT AS _dlt_load_id
  FROM @read_lake('sellers') AS bronze
), latest AS (
  SELECT
    *
  FROM source
  QUALIFY
    @is_latest_version(seller_id)
)
SELECT
  seller_id::TEXT AS seller_id, /* The seller. */
  @zip_code_prefix(seller_zip_code_prefix)::TEXT AS seller_zip_code_prefix, /* First 5 digits of the zip code, leading zeros kept. */
  @clean_city(seller_city)::TEXT AS seller_city, /* Lower case, no accents, no state suffix; NULL when unusable. */
  @clean_state(seller_state)::TEXT AS seller_state /* Two-letter state code, upper case. */
FROM latest
