/* One location per zip code prefix. The source has many rows per prefix (one per address it
saw, some far outside Brazil): the coordinates are their medians, which outliers barely move,
and the city and state the ones written most often (ties: alphabetically first).

A run rewrites the prefixes that new address rows touched: it reads them from
staging.stg_geolocation_versions (rows of batches after this table's watermark), then every
address of those prefixes, and replaces their rows (INCREMENTAL_BY_PARTITION on the prefix). A
prefix only gains addresses (a row's key is its content), so none is ever left empty.

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name staging.stg_geolocation,
  kind @incremental_by_key(),
  allow_partials TRUE,
  partitioned_by @key_partition(geolocation_zip_code_prefix),
  grain geolocation_zip_code_prefix,
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (geolocation_zip_code_prefix, geolocation_lat, geolocation_lng),
      condition := _batch = @current_batch()
    ),
    unique_values(columns := geolocation_zip_code_prefix, condition := _batch = @current_batch()),
    every_version_key_has_a_row(versions := staging.stg_geolocation_versions, keys := geolocation_zip_code_prefix)
  )
);

WITH cleaned AS (
  SELECT
    geolocation_zip_code_prefix AS zip_code_prefix,
    geolocation_lat AS lat,
    geolocation_lng AS lng,
    geolocation_city AS city,
    geolocation_state AS state
  FROM staging.stg_geolocation_versions
  WHERE
    @rebuilding()
    OR geolocation_zip_code_prefix IN (
      SELECT
        geolocation_zip_code_prefix
      FROM staging.stg_geolocation_versions
      WHERE
        _batch > @watermark()
    )
  QUALIFY
    @is_latest_version(_row_key)
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
  most_frequent_state.state::TEXT AS geolocation_state, /* Most frequent state code. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM coordinates
LEFT JOIN most_frequent_city
  ON coordinates.zip_code_prefix = most_frequent_city.zip_code_prefix
LEFT JOIN most_frequent_state
  ON coordinates.zip_code_prefix = most_frequent_state.zip_code_prefix
