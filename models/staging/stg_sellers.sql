/* Sellers: one row per seller_id, the latest of its versions.

A run rewrites the seller_ids that new versions touched: it reads their keys from
staging.stg_sellers_versions (rows of batches after this table's watermark), then every version of those
seller_ids, and replaces their rows (INCREMENTAL_BY_PARTITION on seller_id).

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name staging.stg_sellers,
  kind @incremental_by_key(),
  allow_partials TRUE,
  partitioned_by @key_partition(seller_id),
  grain seller_id,
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (seller_id, seller_zip_code_prefix),
      condition := _batch = @current_batch()
    ),
    unique_values(columns := seller_id, condition := _batch = @current_batch()),
    every_version_key_has_a_row(versions := staging.stg_sellers_versions, keys := seller_id)
  )
);

SELECT
  seller_id::TEXT AS seller_id, /* The seller. */
  seller_zip_code_prefix::TEXT AS seller_zip_code_prefix, /* First 5 digits of the zip code, leading zeros kept. */
  seller_city::TEXT AS seller_city, /* Lower case, no accents, no state suffix; NULL when unusable. */
  seller_state::TEXT AS seller_state, /* Two-letter state code, upper case. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM staging.stg_sellers_versions
WHERE
  @rebuilding()
  OR seller_id IN (
    SELECT
      seller_id
    FROM staging.stg_sellers_versions
    WHERE
      _batch > @watermark()
  )
QUALIFY
  @is_latest_version(seller_id)
