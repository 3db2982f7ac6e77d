AUDIT (
  name foreign_key,
  defaults (child = @this_model, parent = @this_model)
);

/* A foreign key: every non-null @key of @child has a row with the same @key in @parent, so a
fact never points at a dimension member that does not exist. The audited model is whichever side
is not given. SQLMesh resolves model names in an audit only among the audited model's parents, so
the other side must be one: read by the model or listed in its depends_on. Returns the rows that
point nowhere. */
SELECT
  child.*
FROM @child AS child
LEFT JOIN @parent AS parent
  ON child.@key = parent.@key
WHERE
  NOT child.@key IS NULL AND parent.@key IS NULL
