/* Order reviews: one row per order_id. A few orders were reviewed more than once; the review
answered most recently is kept (equal answer times: the greatest review_id), since it is the
customer's final word. Reviews are first reduced to the latest version of each
(review_id, order_id) in the lake. */
MODEL (
  name staging.stg_order_reviews,
  kind VIEW,
  grain order_id,
  audits (
    not_null(columns := (review_id, order_id, review_score)),
    unique_values(columns := order_id),
    row_count_matches_lake_keys(lake_table := 'order_reviews', keys := order_id)
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
    bronze._dlt_load_id::TEXT AS _dlt_load_id
  FROM @read_lake('order_reviews') AS bronze
), latest AS (
  SELECT
    *
  FROM source
  QUALIFY
    @is_latest_version(review_id, order_id)
), final_review_per_order AS (
  SELECT
    *
  FROM latest
  QUALIFY
    ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY review_answer_timestamp DESC, review_id DESC) = 1
)
SELECT
  review_id::TEXT AS review_id, /* The review (Olist reuses a review_id across orders). */
  order_id::TEXT AS order_id, /* The order reviewed. */
  review_score::INT AS review_score, /* 1 (worst) to 5 (best). */
  @clean_text(review_comment_title)::TEXT AS review_comment_title, /* Comment title in Portuguese; NULL when none. */
  @clean_text(review_comment_message)::TEXT AS review_comment_message, /* Comment in Portuguese; NULL when none. */
  @local_timestamp(review_creation_date)::DATE AS review_created_date, /* When the satisfaction survey was sent. */
  @local_timestamp(review_answer_timestamp)::TIMESTAMP AS review_answered_at /* When the customer answered it. */
FROM final_review_per_order
