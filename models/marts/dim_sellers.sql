/* Sellers: one row per seller that is listed or has sold, with where they are. Every seller an
order item references has a row: one whose seller record is missing is an inferred member, with
NULL location and is_inferred_member TRUE.

A run recomputes the sellers whose record changed, those whose zip code prefix got new
coordinates, and the sellers of the items, or of their earlier versions
(intermediate.int_order_group_keys), in the orders whose items changed since this table's
watermark. INCREMENTAL_BY_PARTITION on seller_id replaces their rows; an inferred seller that no
item names any more gets a row of NULL columns from the query, which replaces the stale row and
is then deleted by the statement after the query.

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name marts.dim_sellers,
  kind @incremental_by_key(),
  partitioned_by @key_partition(seller_id),
  allow_partials TRUE,
  grain seller_id,
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(columns := (seller_id, is_inferred_member), condition := _batch = @current_batch()),
    unique_values(columns := seller_id, condition := _batch = @current_batch())
  )
);

WITH touched_sellers AS (
  SELECT
    seller_id
  FROM staging.stg_sellers
  WHERE
    _batch > @watermark()
    OR seller_zip_code_prefix IN (
      SELECT
        geolocation_zip_code_prefix
      FROM staging.stg_geolocation
      WHERE
        _batch > @watermark()
    )
  UNION
  SELECT
    seller_id
  FROM intermediate.int_order_group_keys
  WHERE
    NOT seller_id IS NULL
    AND order_id IN (
      SELECT
        order_id
      FROM staging.stg_order_items
      WHERE
        _batch > @watermark()
    )
), sellers AS (
  SELECT
    seller_id,
    seller_zip_code_prefix,
    seller_city,
    seller_state
  FROM staging.stg_sellers
  WHERE
    @rebuilding() OR seller_id IN (
      SELECT
        seller_id
      FROM touched_sellers
    )
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
  WHERE
    @rebuilding() OR seller_id IN (
      SELECT
        seller_id
      FROM touched_sellers
    )
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
    seller_id,
    seller_zip_code_prefix,
    seller_city,
    seller_state,
    FALSE AS is_inferred_member
  FROM sellers
  UNION ALL
  SELECT
    seller_id,
    NULL AS seller_zip_code_prefix,
    NULL AS seller_city,
    NULL AS seller_state,
    TRUE AS is_inferred_member
  FROM inferred_sellers
  UNION ALL
  SELECT
    touched_sellers.seller_id,
    NULL AS seller_zip_code_prefix,
    NULL AS seller_city,
    NULL AS seller_state,
    NULL AS is_inferred_member
  FROM touched_sellers
  LEFT JOIN sellers
    ON touched_sellers.seller_id = sellers.seller_id
  LEFT JOIN selling_sellers
    ON touched_sellers.seller_id = selling_sellers.seller_id
  WHERE
    NOT @rebuilding()
    AND sellers.seller_id IS NULL
    AND selling_sellers.seller_id IS NULL
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
  is_inferred_member::BOOLEAN AS is_inferred_member, /* TRUE when order items reference the seller but its record is missing. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM located_sellers
WHERE
  @keeps_emptied_keys(is_inferred_member);

@delete_emptied_keys(is_inferred_member) /* A seller neither listed nor selling any more: its row of NULL columns replaced the stale one. */
