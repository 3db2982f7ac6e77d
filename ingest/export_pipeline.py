"""dlt pipeline `olist_export`: land bronze rows in the lake as Parquet, incrementally.

Every bronze table becomes a folder `<lake>/<table>/` of Parquet files readable with one glob;
quarantined rows go to `<lake>/_rejected/`. The cursor is the ingest's `_dlt_load_id`: an export
writes only rows from loads it has not exported yet, and with no new load it writes nothing.
Every row keeps its load id, so a reader gets the latest version of a row by taking, per key,
the row with the greatest `_dlt_load_id`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import dlt
import pyarrow as pa
import pyarrow.parquet as pq
from dlt.destinations.impl.filesystem.filesystem import FilesystemClient
from dlt.extract.resource import DltResource

from ingest import dlt_defaults
from ingest.destinations import lake_destination, lake_root_and_name
from ingest.dlt_errors import unwrap_pipeline_error
from ingest.ingest_pipeline import LINEAGE_FIELDS, REJECTED_ROWS_SCHEMA, REJECTED_TABLE
from ingest.lake_owner import StagingIdentity, claim_lake
from ingest.preflight import check_lake, check_staging
from ingest.staging_reader import StagingReader, staging_reader
from ingest.tables import TABLES, conform
from ingest.writer_lock import staging_writer_lock
from olist.config import Settings
from olist.progress import RowsCallback, ignore_rows

PIPELINE_NAME = "olist_export"
LAKE_INIT_ATTEMPTS = 25
REJECTED_LAKE_FOLDER = "_rejected"


@dataclass
class ExportOutcome:
    table: str
    lake_folder: str
    rows_written: int = 0  # rows of loads not exported before
    rows_finished: int = 0  # rows an interrupted export had left unwritten, written by this one


def _lake_schemas() -> dict[str, tuple[str, pa.Schema]]:
    """Bronze table → (lake folder, exact Arrow schema), so both staging databases export the
    same Parquet types whatever their drivers return."""
    lineage = pa.schema(list(LINEAGE_FIELDS))
    schemas = {t.name: (t.name, pa.unify_schemas([t.arrow_schema(), lineage])) for t in TABLES}
    rejected = pa.unify_schemas([REJECTED_ROWS_SCHEMA, lineage])
    schemas[REJECTED_TABLE] = (REJECTED_LAKE_FOLDER, rejected)
    return schemas


def bronze_table_resource(
    reader: StagingReader,
    table: str,
    folder: str,
    schema: pa.Schema,
    outcome: ExportOutcome,
    on_rows: RowsCallback,
) -> DltResource:
    def rows(
        # dlt reads the cursor from this default argument (its documented pattern).
        load_id: dlt.sources.incremental[str] = dlt.sources.incremental(  # noqa: B008
            "_dlt_load_id", range_start="open"
        ),
    ) -> Iterator[pa.RecordBatch]:
        if not reader.table_exists(table):
            return  # e.g. no row was ever quarantined
        for batch in reader.read(table, after_load_id=load_id.last_value):
            if not batch.num_rows:
                continue  # connectorx ends a stream with an empty batch; it must not become a file
            outcome.rows_written += batch.num_rows
            on_rows(table, outcome.rows_written)
            yield conform(batch, schema)

    return dlt.resource(rows, name=folder, write_disposition="append")


def export_pipeline(settings: Settings) -> dlt.Pipeline:
    dlt_defaults.apply()
    _, dataset_name = lake_root_and_name(settings)
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=lake_destination(settings),
        dataset_name=dataset_name,
        pipelines_dir=str(settings.dlt_pipelines_dir),
    )


def run_export(settings: Settings, on_rows: RowsCallback = ignore_rows) -> list[ExportOutcome]:
    """Export rows of loads not exported yet; `on_rows(table, rows_so_far)` reports progress."""
    check_staging(settings)
    check_lake(settings)
    reader = staging_reader(settings)
    schemas = _lake_schemas()
    outcomes = {table: ExportOutcome(table, folder) for table, (folder, _) in schemas.items()}

    @dlt.source(name="bronze", max_table_nesting=0)
    def bronze() -> Iterator[DltResource]:
        for table, (folder, schema) in schemas.items():
            outcome = outcomes[table]
            yield bronze_table_resource(reader, table, folder, schema, outcome, on_rows)

    pipeline = export_pipeline(settings)
    by_folder = {outcome.lake_folder: outcome for outcome in outcomes.values()}
    with (
        staging_writer_lock(settings, "export", pipeline.destination),
        unwrap_pipeline_error(settings),
    ):
        _claim_lake(pipeline, reader, settings)
        # dlt's run() with a package pending from a failed export loads that package and ignores
        # the new data, which would leave the lake behind staging: finish it first, then export.
        if pipeline.has_pending_data:
            pipeline.normalize()
            for folder, rows in _unwritten_rows(pipeline).items():
                by_folder[folder].rows_finished += rows
            pipeline.load()
        pipeline.run(bronze(), loader_file_format="parquet")
    return list(outcomes.values())


def _claim_lake(pipeline: dlt.Pipeline, reader: StagingReader, settings: Settings) -> None:
    """Refuse to export into a lake that mirrors another staging database (ingest/lake_owner.py)."""
    first_load_id = reader.first_load_id()
    if first_load_id is None:
        return  # nothing was ever loaded: this export writes no row
    with pipeline.destination_client() as lake:
        _initialize_lake(lake)
        staging = StagingIdentity(first_load_id, settings.staging_display)
        claim_lake(lake.fs_client, lake.dataset_path, staging, settings)


def _initialize_lake(lake: FilesystemClient) -> None:
    """Create the lake folder and dlt's `init` record if new: dlt refuses a folder it did not make.

    Another export creating a new lake at the same moment makes dlt's create fail with "exists"
    until that export has written `init`; then the lake is ready for both.
    """
    for _ in range(LAKE_INIT_ATTEMPTS - 1):
        try:
            lake.initialize_storage()
            return
        except FileExistsError:
            time.sleep(0.2)
    lake.initialize_storage()


def _unwritten_rows(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Rows per lake folder in the pending packages' files not yet written to the lake."""
    rows: dict[str, int] = {}
    for load_id in pipeline.list_normalized_load_packages():
        jobs = pipeline.get_load_package_info(load_id).jobs
        for job in (*jobs["new_jobs"], *jobs["started_jobs"]):
            folder = job.job_file_info.table_name
            if folder.startswith("_dlt"):
                continue  # dlt's own state and version records
            count = pq.ParquetFile(job.file_path).metadata.num_rows
            rows[folder] = rows.get(folder, 0) + count
    return rows
