/* The ledger of the lake: one row per Parquet file of a complete lake export the warehouse has
taken in, with the batch (the warehouse run) that took it in. Every incremental model's batch
stamps and watermarks count in these batches (macros/incremental.py).

A run lists the lake's `_dlt_loads/` folder, where dlt records an export once all its files are
written, and adds the exports this table does not hold yet, whatever their load ids: an export
that finished late, or whose id is older than ones already taken in, joins the next batch and is
never lost. Their files are found by their name prefix (`<table>/<load_id>.*.parquet`); no
Parquet file is opened. */
MODEL (
  name staging.lake_files,
  kind INCREMENTAL_BY_PARTITION,
  allow_partials TRUE,
  partitioned_by lake_load_id,
  grain file,
  audits (
    not_null(
      columns := (lake_load_id, lake_table, file, batch),
      condition := batch = @current_batch()
    ),
    unique_values(columns := file, condition := batch = @current_batch())
  )
);

SELECT
  listing.lake_load_id::TEXT AS lake_load_id, /* The export (dlt's load id of the export pipeline). */
  listing.lake_table::TEXT AS lake_table, /* The bronze table, i.e. the lake folder the file is in. */
  listing.file::TEXT AS file, /* The file's path or URL, as the warehouse reads it. */
  @next_batch()::INT AS batch /* The warehouse run that took the export in: 1, 2, ... */
FROM @new_lake_files() AS listing
