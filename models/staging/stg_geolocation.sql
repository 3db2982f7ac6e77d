/* One location per zip code prefix. The source has many rows per prefix (one per address it
saw, some far outside Brazil): the coordinates are their medians, which outliers barely move,
and the city and state the ones written most often (ties: alphabetically first). */
MODEL (
  name staging.stg_geolocation,
  kind VIEW,
  grain geolocation_zip_code_prefix,
  audits (
    not_null(columns := (geolocation_zip_code_prefix, geolocation_lat, geolocation_lng)),
    unique_values(columns := geolocation_zip_code_prefix),
    row_count_matches_lake_keys(lake_table := 'geolocation', keys := geolocation_zip_code_prefix)
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
    bronze._dlt_load_id::TEXT AS _dlt_load_id
  FROM @read_lake('geolocation') AS bronze
), latest AS (
  SELECT
    *
  FROM source
  QUALIFY
    @is_latest_version(_row_key)
), cleaned AS (
  SELECT
    @zip_code_prefix(geolocation_zip_code_prefix) AS zip_code_prefix,
    geolocation_lat AS lat,
    geolocation_lng AS lng,
    @clean_city(geolocation_city) AS city,
    @clean_state(geolocation_state) AS state
  FROM latest
), coordinates AS (
  SELECT
    zip_code_prefix,
    MEDIAN(lat) AS lat,
    MEDIAN(lng) AS lng
  FROM cleaned
  GROUP BY
    zip_code_prefix
), most_frequent_city AS (
  SELECT
    zip_code_prefix,
    city
  FROM cleaned
  WHERE
    NOT city IS NULL
  GROUP BY
    zip_code_prefix,
    city
  QUALIFY
    ROW_NUMBER() OVER (PARTITION BY zip_code_prefix ORDER BY COUNT(*) DESC, city) = 1
), most_frequent_state AS (
  SELECT
    zip_code_prefix,
    state
  FROM cleaned
  WHERE
    NOT state IS NULL
  GROUP BY
    zip_code_prefix,
    state
  QUALIFY
    ROW_NUMBER() OVER (PARTITION BY zip_code_prefix ORDER BY COUNT(*) DESC, state) = 1
)
SELECT
  coordinates.zip_code_prefix::TEXT AS geolocation_zip_code_prefix, /* First 5 digits of the zip code, leading zeros kept. */
  coordinates.lat::DOUBLE AS geolocation_lat, /* Median latitude of the prefix's addresses, degrees. */
  coordinates.lng::DOUBLE AS geolocation_lng, /* Median longitude of the prefix's addresses, degrees. */
  most_frequent_city.city::TEXT AS geolocation_city, /* Most frequent cleaned city name. */
  most_frequent_state.state::TEXT AS geolocation_state /* Most frequent state code. */
FROM coordinates
LEFT JOIN most_frequent_city
  ON coordinates.zip_code_prefix = most_frequent_city.zip_code_prefix
LEFT JOIN most_frequent_state
  ON coordinates.zip_code_prefix = most_frequent_state.zip_code_prefix
