AUDIT (
  name every_version_key_has_a_row
);

/* Every key a lake export brought has its current row: each key (@keys) of the model's versions
table (@versions) has a row in the model. The keys checked are those of the versions the run took
in, which the run must have written (earlier ones were checked by the runs that took them in), or
all of them when the run wrote every row of the model (a first build or a rebuild). With the
model's unique grain, that is one row per key. Returns the keys without a row. */
WITH checked_versions AS (
  SELECT DISTINCT
    @EACH(@keys, k -> @k)
  FROM @versions
  WHERE
    _batch = @current_batch()
    OR (
      SELECT
        MIN(_batch)
      FROM @this_model
    ) = @current_batch()
), written AS (
  SELECT
    *
  FROM @this_model
  WHERE
    _batch = @current_batch()
)
SELECT
  @EACH(@keys, k -> checked_versions.@k)
FROM checked_versions
LEFT JOIN written
  ON @AND(@EACH(@keys, k -> checked_versions.@k = written.@k))
WHERE
  written._batch IS NULL
