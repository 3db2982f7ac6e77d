"""One contender run of the bronze benchmark, executed in a fresh interpreter per timed run.

`bench_bronze.py` starts `python bench/contenders.py '<json spec>'` for every run, so each run pays
its own imports and dlt's first-run costs, and its peak RSS is its own. The spec names the
contender and where to read and write; the run prints one line
`BENCH-RESULT {"rows": ..., "import_s": ..., "work_s": ..., "steps": {...}}` on stdout, where
`steps` holds the seconds of dlt's extract, normalize and load steps for the contenders using dlt.

Heavy modules are imported inside each contender, never at module level: a floor that only needs
psycopg must not pay for importing dlt. The imports a contender needs are listed next to it and
timed separately (`import_s`), so the report can tell start-up cost from work.

Also runnable by hand for profiling, e.g.
`python -m cProfile -o ours.prof bench/contenders.py '{"contender": "ingest-ours", ...}'`.
"""

from __future__ import annotations

import importlib
import io
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NotRequired, TypedDict

RESULT_PREFIX = "BENCH-RESULT "
STAGING_SCHEMA = "raw"  # ingest.destinations.STAGING_DATASET; not imported, it would import dlt
COPY_CHUNK_BYTES = 1 << 20


class S3Spec(TypedDict):
    endpoint_url: str
    access_key_id: str
    secret_access_key: str


class Spec(TypedDict):
    """What one run gets from the parent (JSON on the command line)."""

    contender: str
    staging_url: str
    run_dir: str  # fresh, empty; the run's dlt state, temp files and local lake go here
    tables: list[str]  # bronze table names, in load order
    source_dir: NotRequired[str]  # ingest: the folder of the CSV files
    files: NotRequired[dict[str, str]]  # ingest: table → its file name in source_dir
    lake_url: NotRequired[str]  # export: local folder or s3://bucket/prefix
    s3: NotRequired[S3Spec]


@dataclass(frozen=True)
class Contender:
    run: Callable[[Spec], int]  # returns the number of rows it loaded or wrote
    imports: tuple[str, ...]


# --------------------------------------------------------------------------------------------
# Ingest: CSV files → PostgreSQL raw.<table>
# --------------------------------------------------------------------------------------------


def ingest_psycopg_copy(spec: Spec) -> int:
    """Floor: stream each file into its pre-created table with COPY, in one transaction."""
    import psycopg

    rows = 0
    with psycopg.connect(spec["staging_url"]) as con, con.cursor() as cur:
        for name in spec["tables"]:
            # The tables' columns are in file order, so no column list (nor ingest.tables, which
            # would import pyarrow into the floor) is needed.
            statement = f"COPY {STAGING_SCHEMA}.{name} FROM STDIN (FORMAT csv, HEADER true)"
            path = Path(spec["source_dir"]) / spec["files"][name]
            with cur.copy(statement) as copy, path.open("rb") as source:
                while chunk := source.read(COPY_CHUNK_BYTES):
                    copy.write(chunk)
            rows += cur.rowcount
    return rows


def ingest_ours(spec: Spec) -> int:
    """Ours: the olist_ingest dlt pipeline, with dlt state in a fresh folder."""
    from ingest.ingest_pipeline import run_ingest
    from ingest.tables import TABLES_BY_NAME
    from olist.config import Settings

    run_dir = Path(spec["run_dir"])
    settings = Settings(
        staging_url=spec["staging_url"],
        lake_url=str(run_dir / "lake"),
        data_dir=run_dir / "data",
        s3=None,
    )
    tables = [TABLES_BY_NAME[name] for name in spec["tables"]]
    outcomes = run_ingest(settings, Path(spec["source_dir"]), tables)
    rejected = sum(len(o.counts.rejections) for o in outcomes)
    if rejected or any(o.skipped for o in outcomes):
        raise RuntimeError(f"ingest quarantined {rejected} rows or skipped a file: {outcomes}")
    return sum(o.counts.loaded_rows for o in outcomes)


# --------------------------------------------------------------------------------------------
# Export: PostgreSQL raw.<table> → Parquet
# --------------------------------------------------------------------------------------------


def export_dlt_connectorx(spec: Spec) -> int:
    """Reference: dlt's own sql_database source (connectorx backend) into a local folder."""
    import dlt
    from dlt.sources.sql_database import sql_database

    run_dir = Path(spec["run_dir"])
    source = sql_database(
        credentials=spec["staging_url"],
        schema=STAGING_SCHEMA,
        table_names=spec["tables"],
        backend="connectorx",
    )
    pipeline = dlt.pipeline(
        pipeline_name="bench_sql_database_export",
        destination=dlt.destinations.filesystem(bucket_url=str(run_dir)),
        dataset_name="lake",
        pipelines_dir=str(run_dir / "dlt"),
    )
    pipeline.run(source, loader_file_format="parquet")
    trace = pipeline.last_trace
    assert trace is not None and trace.last_normalize_info is not None
    counts = trace.last_normalize_info.row_counts
    return sum(count for table, count in counts.items() if table in spec["tables"])


class _CopyStream(io.RawIOBase):
    """A readable file over COPY ... TO STDOUT chunks, so pyarrow's CSV reader can stream it."""

    def __init__(self, chunks: Iterator[memoryview]) -> None:
        self._chunks = chunks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def export_psycopg_copy_arrow(spec: Spec) -> int:
    """Reference: COPY (SELECT ...) TO STDOUT as CSV → pyarrow's CSV reader → Parquet."""
    import psycopg
    import pyarrow as pa
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    from ingest.tables import TABLES_BY_NAME

    # The columns ours exports: the source columns plus ingest's lineage columns (restated here
    # because the module that defines them imports dlt, which a non-dlt reference must not pay).
    lineage = [
        pa.field("_source_file", pa.string(), nullable=False),
        pa.field("_ingested_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("_dlt_load_id", pa.string(), nullable=False),
    ]
    lake = Path(spec["run_dir"]) / "lake"
    rows = 0
    with psycopg.connect(spec["staging_url"], options="-c TimeZone=UTC") as con:
        for name in spec["tables"]:
            schema = pa.schema([*TABLES_BY_NAME[name].arrow_schema(), *lineage])
            select = f"SELECT {', '.join(schema.names)} FROM {STAGING_SCHEMA}.{name}"
            (lake / name).mkdir(parents=True)
            with (
                con.cursor().copy(f"COPY ({select}) TO STDOUT (FORMAT csv, HEADER true)") as copy,
                io.BufferedReader(_CopyStream(iter(copy)), COPY_CHUNK_BYTES) as stream,
            ):
                reader = pa_csv.open_csv(
                    stream,
                    convert_options=pa_csv.ConvertOptions(
                        column_types=schema, strings_can_be_null=True
                    ),
                )
                with pq.ParquetWriter(lake / name / "part-0.parquet", schema) as writer:
                    for batch in reader:
                        writer.write_batch(batch.cast(schema))
                        rows += batch.num_rows
    return rows


def export_ours(spec: Spec) -> int:
    """Ours: the olist_export dlt pipeline into a fresh local folder or S3 bucket."""
    from ingest.export_pipeline import run_export
    from olist.config import S3Settings, Settings

    s3 = spec.get("s3")
    settings = Settings(
        staging_url=spec["staging_url"],
        lake_url=spec["lake_url"],
        data_dir=Path(spec["run_dir"]) / "data",
        s3=S3Settings(
            endpoint_url=s3["endpoint_url"],
            access_key_id=s3["access_key_id"],
            secret_access_key=s3["secret_access_key"],
        )
        if s3
        else None,
    )
    return sum(outcome.rows_written for outcome in run_export(settings))


CONTENDERS: dict[str, Contender] = {
    "ingest-psycopg-copy": Contender(ingest_psycopg_copy, ("psycopg",)),
    "ingest-ours": Contender(ingest_ours, ("dlt", "ingest.ingest_pipeline")),
    "export-dlt-connectorx": Contender(
        export_dlt_connectorx, ("dlt", "dlt.sources.sql_database", "connectorx")
    ),
    "export-psycopg-copy-arrow": Contender(
        export_psycopg_copy_arrow, ("psycopg", "pyarrow.csv", "pyarrow.parquet", "ingest.tables")
    ),
    "export-ours": Contender(
        export_ours, ("dlt", "ingest.export_pipeline", "connectorx", "psycopg")
    ),
}


DLT_STEPS = ("extract", "normalize", "load")


def dlt_step_seconds() -> dict[str, float]:
    """Seconds per step of the last dlt run in this process (none if dlt was not used).

    Read from the active pipeline's in-memory trace, so it costs nothing the wall time would see.
    """
    if "dlt" not in sys.modules:
        return {}
    import dlt

    trace = dlt.current.pipeline().last_trace
    if trace is None:
        return {}
    return {
        step.step: (step.finished_at - step.started_at).total_seconds()
        for step in trace.steps
        if step.step in DLT_STEPS and step.finished_at is not None
    }


def main(argv: list[str]) -> int:
    spec: Spec = json.loads(argv[1])
    contender = CONTENDERS[spec["contender"]]
    started = time.perf_counter()
    for module in contender.imports:
        importlib.import_module(module)
    imported = time.perf_counter()
    rows = contender.run(spec)
    finished = time.perf_counter()
    result = {
        "rows": rows,
        "import_s": imported - started,
        "work_s": finished - imported,
        "steps": dlt_step_seconds(),
    }
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
