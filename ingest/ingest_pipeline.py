"""dlt pipeline `olist_ingest`: load the nine Olist CSV files into the staging database.

Each file is one dlt resource that streams validated Arrow tables (see `csv_scan`) and merges them
into a bronze table by its key, so a rerun on the same files changes nothing and a newer file
updates changed rows and adds new ones. Rows that fail a check go to `rejected_rows` in the same
load package, so a load either lands with its quarantine or not at all. A file whose content is
unchanged since its last successful load is skipped without being read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dlt
import pyarrow as pa
from dlt.extract.resource import DltResource

from ingest import dlt_defaults
from ingest.csv_scan import CsvScan, Rejection, ScanResult, check_file
from ingest.destinations import STAGING_DATASET, staging_destination
from ingest.dlt_errors import unwrap_pipeline_error
from ingest.preflight import check_staging
from ingest.staging_reader import StagingReader, staging_reader
from ingest.tables import ROW_HASH, TABLES, Kind, SourceTable, conform
from ingest.writer_lock import staging_writer_lock
from olist.config import Settings
from olist.errors import SourceFileError
from olist.progress import RowsCallback, ignore_rows

PIPELINE_NAME = "olist_ingest"

# Merge by key. Keys are already unique within a load (repeats inside a file are quarantined), so
# dlt can skip its de-duplicating sort of the staging rows.
MERGE_DEDUPLICATED = {"disposition": "merge", "strategy": "delete-insert", "deduplicated": True}
REJECTED_TABLE = "rejected_rows"

# Every bronze row carries the load it came in (`_dlt_load_id`, added by us so dlt need not
# rewrite the Parquet files), its source file and when it was read.
LINEAGE_FIELDS = (
    pa.field("_source_file", pa.string(), nullable=False),
    pa.field("_ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
    pa.field("_dlt_load_id", pa.string(), nullable=False),
)

REJECTED_ROWS_SCHEMA = pa.schema(
    [
        pa.field("table_name", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("source_sha256", pa.string(), nullable=False),
        pa.field("line_number", pa.int64(), nullable=False),
        pa.field("column_name", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("raw_line", pa.string(), nullable=False),
    ]
)


@dataclass
class TableOutcome:
    """What one run did with one source file."""

    table: str
    skipped: bool = False  # unchanged since its last load
    counts: ScanResult = field(default_factory=ScanResult)  # empty when skipped


def file_sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _with_lineage(batch: pa.Table, source_file: str, load_id: str, at: datetime) -> pa.Table:
    for field_, value in zip(LINEAGE_FIELDS, (source_file, at, load_id), strict=True):
        batch = batch.append_column(field_, pa.repeat(pa.scalar(value, field_.type), len(batch)))
    return batch


def _rejected_rows(
    table: SourceTable, path: Path, sha256: str, rejections: list[Rejection]
) -> pa.Table:
    rows = [
        {
            "table_name": table.name,
            "source_file": path.name,
            "source_sha256": sha256,
            "line_number": r.line_number,
            "column_name": r.column,
            "reason": r.reason,
            "raw_line": r.raw_line,
        }
        for r in rejections
    ]
    return pa.Table.from_pylist(rows, schema=REJECTED_ROWS_SCHEMA)


def _naive_timestamp_hints(table: SourceTable) -> dict[str, dict[str, object]]:
    # Olist timestamps are Brazilian local time with no zone: keep them naive in bronze.
    # (dlt would otherwise make them `timestamp with time zone`.)
    return {
        c.name: {"data_type": "timestamp", "timezone": False, "precision": 6}
        for c in table.columns
        if c.kind in (Kind.TIMESTAMP, Kind.EVENT_TIME)
    }


def _known_rows(reader: StagingReader, table: SourceTable) -> pa.RecordBatchReader:
    """The (merge key, row hash) pairs of the rows the bronze table already holds, as a stream."""
    full = table.arrow_schema()
    schema = pa.schema([full.field(name) for name in (*table.merge_key, ROW_HASH)])
    batches = reader.read(table.name, columns=schema.names)
    return pa.RecordBatchReader.from_batches(
        schema, (conform(b, schema) for b in batches if b.num_rows)
    )


def table_resource(
    table: SourceTable,
    path: Path,
    reader: StagingReader,
    temp_dir: Path,
    outcome: TableOutcome,
    on_rows: RowsCallback,
) -> DltResource:
    """The dlt resource that loads one source file into its bronze table.

    It writes two tables: its own and `rejected_rows`. Each gets its own hints (a dlt table
    variant), so the quarantine table inherits none of the bronze table's columns or key.

    The first load of a table is a plain append (one bulk COPY, nothing to merge with); later
    loads merge by key through dlt's staging tables.
    """
    first_load = not reader.table_exists(table.name)

    def rows() -> Iterator[object]:
        sha256 = file_sha256(path)
        state = dlt.current.resource_state()
        if state.get("sha256") == sha256:
            outcome.skipped = True
            return
        load_id = dlt.current.load_package_state()["load_id"]
        ingested_at = datetime.now(UTC)
        known_rows = None if first_load else _known_rows(reader, table)
        scan = CsvScan(path, table, temp_dir=temp_dir, known_rows=known_rows)
        for batch in scan.batches():
            on_rows(table.name, scan.result.source_rows)
            lineaged = _with_lineage(batch, path.name, load_id, ingested_at)
            yield dlt.mark.with_table_name(lineaged, table.name)
        rejections = scan.result.rejections
        if rejections:
            rejected = _rejected_rows(table, path, sha256, rejections)
            lineaged = _with_lineage(rejected, path.name, load_id, ingested_at)
            yield dlt.mark.with_table_name(lineaged, REJECTED_TABLE)
        state["sha256"] = sha256
        outcome.counts = scan.result

    resource = dlt.resource(rows, name=table.name, write_disposition=MERGE_DEDUPLICATED)
    resource.apply_hints(
        table_name=table.name,
        primary_key=list(table.merge_key),
        write_disposition="append" if first_load else MERGE_DEDUPLICATED,
        columns=_naive_timestamp_hints(table),
        # Parquet end to end: PostgreSQL loads it through ADBC (binary COPY). Without the hint on
        # the table variant dlt's normalizer converts every file to CSV for PostgreSQL.
        file_format="parquet",
        create_table_variant=True,
    )
    resource.apply_hints(
        table_name=REJECTED_TABLE,
        primary_key=["table_name", "source_sha256", "line_number"],
        write_disposition=MERGE_DEDUPLICATED,
        create_table_variant=True,
    )
    return resource


def ingest_pipeline(settings: Settings) -> dlt.Pipeline:
    dlt_defaults.apply()
    return dlt.pipeline(
        pipeline_name=PIPELINE_NAME,
        destination=staging_destination(settings),
        dataset_name=STAGING_DATASET,
        pipelines_dir=str(settings.dlt_pipelines_dir),
    )


def run_ingest(
    settings: Settings,
    source_dir: Path,
    tables: Sequence[SourceTable] = TABLES,
    on_rows: RowsCallback = ignore_rows,
) -> list[TableOutcome]:
    """Load the given tables' files from `source_dir`; all files are checked before any loads.

    `on_rows(table, rows_read_so_far)` is called as each file is read, for progress display.
    """
    if not source_dir.is_dir():
        raise SourceFileError(
            f"{source_dir}: no such folder. Point --source (or `make run SOURCE=...`) at the "
            "folder holding the Olist CSV files. Nothing was loaded."
        )
    paths = {table.name: source_dir / table.file_name for table in tables}
    for table in tables:
        check_file(paths[table.name], table)
    check_staging(settings)
    outcomes = {t.name: TableOutcome(t.name) for t in tables}
    temp_dir = settings.data_dir / "tmp"
    reader = staging_reader(settings)

    @dlt.source(name="olist", max_table_nesting=0)
    def olist_files() -> Iterator[DltResource]:
        for table in tables:
            path, outcome = paths[table.name], outcomes[table.name]
            yield table_resource(table, path, reader, temp_dir, outcome, on_rows)

    pipeline = ingest_pipeline(settings)
    with (
        staging_writer_lock(settings, "ingest", pipeline.destination),
        unwrap_pipeline_error(settings),
    ):
        # Finish what an interrupted run left behind before looking at staging: whether a table
        # exists decides between a first load (append) and a merge.
        if pipeline.has_pending_data:
            pipeline.normalize()
            pipeline.load()
        pipeline.run(olist_files(), loader_file_format="parquet")  # resources built only now
    return list(outcomes.values())
