/* Versions of order reviews: one row per (review_id, order_id, _lake_load_id), every version of a
review that a lake export brought, cleaned once when its export arrives. A run reads only the
Parquet files of the exports this table does not hold yet (@read_new_loads) and adds them, one
partition per export: nothing is read twice. */
MODEL (
  name staging.stg_order_reviews_versions,
  kind INCREMENTAL_BY_PARTITION,
  allow_partials TRUE,
  partitioned_by _lake_load_id,
  grain (review_id, order_id, _lake_load_id),
  depends_on (
    staging.lake_files
  ),
  audits (
    not_null(
      columns := (review_id, order_id, review_score, _dlt_load_id, _lake_load_id, _batch),
      condition := _batch = @current_batch()
    ),
    unique_combination_of_columns(
      columns := (review_id, order_id, _lake_load_id),
      condition := _batch = @current_batch()
    )
  )
);

WITH source AS (
  SELECT
    bronze.review_id::TEXT AS review_id,
    bronze.order_id::TEXT AS order_id,
    bronze.review_score::INT AS review_score,
    bronze.review_comment_title::TEXT AS review_comment_title,
    bronze.review_comment_message::TEXT AS review_comment_message,
    bronze.review_creation_date::TIMESTAMPTZ AS review_creation_date,
    bronze.review_answer_timestamp::TIMESTAMPTZ AS review_answer_timestamp,
    bronze._dlt_load_id::TEXT AS _dlt_load_id,
    bronze._lake_load_id::TEXT AS _lake_load_id,
    bronze._batch::INT AS _batch
  FROM @read_new_loads('order_reviews') AS bronze
), latest AS (
  SELECT
    *
  FROM source
  QUALIFY
    @is_latest_version(review_id, order_id, _lake_load_id)
)
SELECT
  review_id::TEXT AS review_id, /* The review (Olist reuses a review_id across orders). */
  order_id::TEXT AS order_id, /* The order reviewed. */
  review_score::INT AS review_score, /* 1 (worst) to 5 (best). */
  @clean_text(review_comment_title)::TEXT AS review_comment_title, /* Comment title in Portuguese; NULL when none. */
  @clean_text(review_comment_message)::TEXT AS review_comment_message, /* Comment in Portuguese; NULL when none. */
  @local_timestamp(review_creation_date)::DATE AS review_created_date, /* When the satisfaction survey was sent. */
  @local_timestamp(review_answer_timestamp)::TIMESTAMP AS review_answered_at, /* When the customer answered it. */
  _dlt_load_id::TEXT AS _dlt_load_id, /* The staging load that wrote this version (dlt's load id): the latest version of a review has the greatest. */
  _lake_load_id::TEXT AS _lake_load_id, /* The lake export that brought it (the partition this table is replaced by). */
  _batch::INT AS _batch /* The warehouse run that took the export in (staging.lake_files). */
FROM latest
