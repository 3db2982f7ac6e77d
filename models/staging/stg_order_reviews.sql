/* Order reviews: one row per order_id. A few orders were reviewed more than once; the review
answered most recently is kept (equal answer times: the greatest review_id), since it is the
customer's final word. Each review is its latest version.

A run rewrites the orders whose reviews new versions touched: it reads their order_ids from
staging.stg_order_reviews_versions (rows of batches after this table's watermark), then every
review version of those orders, and replaces their rows (INCREMENTAL_BY_PARTITION on order_id).

On Spark (OLIST_GATEWAY=spark) this model is FULL instead, rebuilt whole on every run: Spark's
Parquet tables cannot replace rows by key (macros/engine.py). */
MODEL (
  name staging.stg_order_reviews,
  kind @incremental_by_key(),
  allow_partials TRUE,
  partitioned_by @key_partition(order_id),
  grain order_id,
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (review_id, order_id, review_score),
      condition := _batch = @current_batch()
    ),
    unique_values(columns := order_id, condition := _batch = @current_batch()),
    every_version_key_has_a_row(versions := staging.stg_order_reviews_versions, keys := order_id)
  )
);

WITH latest AS (
  SELECT
    review_id,
    order_id,
    review_score,
    review_comment_title,
    review_comment_message,
    review_created_date,
    review_answered_at
  FROM staging.stg_order_reviews_versions
  WHERE
    @rebuilding()
    OR order_id IN (
      SELECT
        order_id
      FROM staging.stg_order_reviews_versions
      WHERE
        _batch > @watermark()
    )
  QUALIFY
    @is_latest_version(review_id, order_id)
), final_review_per_order AS (
  SELECT
    *
  FROM latest
  QUALIFY
    ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY review_answered_at DESC, review_id DESC) = 1
)
SELECT
  review_id::TEXT AS review_id, /* The review (Olist reuses a review_id across orders). */
  order_id::TEXT AS order_id, /* The order reviewed. */
  review_score::INT AS review_score, /* 1 (worst) to 5 (best). */
  review_comment_title::TEXT AS review_comment_title, /* Comment title in Portuguese; NULL when none. */
  review_comment_message::TEXT AS review_comment_message, /* Comment in Portuguese; NULL when none. */
  review_created_date::DATE AS review_created_date, /* When the satisfaction survey was sent. */
  review_answered_at::TIMESTAMP AS review_answered_at, /* When the customer answered it. */
  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row (macros/incremental.py). */
FROM final_review_per_order
