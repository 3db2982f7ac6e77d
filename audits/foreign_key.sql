AUDIT (
  name foreign_key,
  defaults (child = @this_model, parent = @this_model, condition = TRUE)
);

/* A foreign key: every non-null @key of @child has a row with the same @key in @parent, so a
fact never points at a dimension member that does not exist. The audited model is whichever side
is not given. SQLMesh resolves model names in an audit only among the audited model's parents, so
the other side must be one: read by the model or listed in its depends_on. @condition, on the
child's columns, limits the check to the rows a run wrote (`condition := _batch = @current_batch()`);
the parents are looked up by those rows' keys only, so the check costs what they cost. Returns
the child rows that point nowhere. */
WITH checked AS (
  SELECT
    *
  FROM @child
  WHERE
    NOT @key IS NULL AND @condition
), found AS (
  SELECT DISTINCT
    @key
  FROM @parent
  WHERE
    @key IN (
      SELECT
        @key
      FROM checked
    )
)
SELECT
  checked.*
FROM checked
LEFT JOIN found
  ON checked.@key = found.@key
WHERE
  found.@key IS NULL
