AUDIT (
  name row_count_matches_lake_keys
);

/* The model has exactly one row per distinct key in the lake: de-duplication kept one version
of every key, and no key was lost or repeated. Returns a row when the counts differ. */
WITH lake_keys AS (
  SELECT DISTINCT
    @keys
  FROM @read_lake(@lake_table)
), lake_key_count AS (
  SELECT
    COUNT(*) AS lake_keys
  FROM lake_keys
), model_row_count AS (
  SELECT
    COUNT(*) AS model_rows
  FROM @this_model
)
SELECT
  lake_key_count.lake_keys,
  model_row_count.model_rows
FROM lake_key_count
CROSS JOIN model_row_count
WHERE
  lake_key_count.lake_keys <> model_row_count.model_rows
