/* Sellers: one row per seller that is listed or has sold, with where they are. Every seller an
order item references has a row: one whose seller record is missing is an inferred member, with
NULL location and is_inferred_member TRUE. */
MODEL (
  name marts.dim_sellers,
  kind FULL,
  grain seller_id,
  audits (
    not_null(columns := (seller_id, is_inferred_member)),
    unique_values(columns := seller_id)
  )
);

WITH sellers AS (
  SELECT
    seller_id,
    seller_zip_code_prefix,
    seller_city,
    seller_state
  FROM staging.stg_sellers
), geolocations AS (
  SELECT
    geolocation_zip_code_prefix,
    geolocation_lat,
    geolocation_lng
  FROM staging.stg_geolocation
), selling_sellers AS (
  SELECT DISTINCT
    seller_id
  FROM staging.stg_order_items
), inferred_sellers AS (
  SELECT
    selling_sellers.seller_id
  FROM selling_sellers
  LEFT JOIN sellers
    ON selling_sellers.seller_id = sellers.seller_id
  WHERE
    sellers.seller_id IS NULL
), all_sellers AS (
  SELECT
    *,
    FALSE AS is_inferred_member
  FROM sellers
  UNION ALL BY NAME
  SELECT
    seller_id,
    TRUE AS is_inferred_member
  FROM inferred_sellers
), located_sellers AS (
  SELECT
    all_sellers.*,
    geolocations.geolocation_lat AS seller_lat,
    geolocations.geolocation_lng AS seller_lng
  FROM all_sellers
  LEFT JOIN geolocations
    ON all_sellers.seller_zip_code_prefix = geolocations.geolocation_zip_code_prefix
)
SELECT
  seller_id::TEXT AS seller_id, /* The seller. */
  seller_zip_code_prefix::TEXT AS seller_zip_code_prefix, /* First 5 digits of the seller's zip code. */
  seller_city::TEXT AS seller_city, /* City, cleaned (lower case, no accents). */
  seller_state::TEXT AS seller_state, /* Two-letter state code. */
  seller_lat::DOUBLE AS seller_lat, /* Latitude of the zip code prefix (median of its addresses); NULL when unknown. */
  seller_lng::DOUBLE AS seller_lng, /* Longitude of the zip code prefix (median of its addresses); NULL when unknown. */
  is_inferred_member::BOOLEAN AS is_inferred_member /* TRUE when order items reference the seller but its record is missing. */
FROM located_sellers
