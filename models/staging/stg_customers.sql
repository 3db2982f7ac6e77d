/* Customer records: one row per customer_id (Olist gives every order its own customer_id;
customer_unique_id identifies the person), the latest of its versions.

A run rewrites the customer_ids that new versions touched: it reads their keys from
staging.stg_customers_versions (rows of batches after this table's watermark), then every version of those
customer_ids, and replaces their rows (INCREMENTAL_BY_PARTITION on customer_id).

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name staging.stg_customers,
  kind @incremental_by_key(),
  allow_partials TRUE,
  partitioned_by @key_partition(customer_id),
  grain customer_id,
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (customer_id, customer_unique_id, customer_zip_code_prefix),
      condition := _batch = @current_batch()
    ),
    unique_values(columns := customer_id, condition := _batch = @current_batch()),
    every_version_key_has_a_row(versions := staging.stg_customers_versions, keys := customer_id)
  )
);

SELECT
  customer_id::TEXT AS customer_id, /* The customer record of one order. */
  customer_unique_id::TEXT AS customer_unique_id, /* The person: the same across their orders. */
  customer_zip_code_prefix::TEXT AS customer_zip_code_prefix, /* First 5 digits of the zip code, leading zeros kept. */
  customer_city::TEXT AS customer_city, /* Lower case, no accents, no state suffix; NULL when unusable. */
  customer_state::TEXT AS customer_state, /* Two-letter state code, upper case. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM staging.stg_customers_versions
WHERE
  @rebuilding()
  OR customer_id IN (
    SELECT
      customer_id
    FROM staging.stg_customers_versions
    WHERE
      _batch > @watermark()
  )
QUALIFY
  @is_latest_version(customer_id)
