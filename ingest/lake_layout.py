"""Where things are in the lake: the layout `olist export` writes and the warehouse reads.

Kept apart from the dlt destination (ingest/destinations.py) so that the warehouse's macros and
`olist run`'s warehouse step can use it without importing dlt.

The layout is dlt's default, pinned: every lake file is named by the export that wrote it, so a
reader can pick the files of given exports by name without opening any other, and dlt records an
export as complete in `<lake>/_dlt_loads/<schema>__<load id>.jsonl` once all its files are
written. Lakes written before the layout was pinned already have it: nothing to migrate.
"""

from __future__ import annotations

LAKE_LAYOUT = "{table_name}/{load_id}.{file_id}.{ext}"
LAKE_LOADS_FOLDER = "_dlt_loads"


def lake_folder(lake_url: str, name: str) -> str:
    """A folder of the lake, `<lake>/<name>`, as DuckDB reads it.

    A relative local lake stays relative: DuckDB reads it from the working directory, as `olist`
    writes it and as SQLMesh opens a relative warehouse path. Making it absolute would put the
    checkout's location into every model that reads the lake, so two checkouts (or a container)
    sharing SQLMesh state would see changes nobody made.
    """
    return f"{lake_url.removeprefix('file://').rstrip('/')}/{name}"


def completed_exports_pattern(lake_url: str) -> str:
    """The glob of the lake's completion records, one file per complete export."""
    return f"{lake_folder(lake_url, LAKE_LOADS_FOLDER)}/*"


def export_files_pattern(lake_url: str, table: str, export: str) -> str:
    """The glob of the files one export wrote for one table: `<lake>/<table>/<export>.*.parquet`
    (on S3, one LIST of that prefix)."""
    return f"{lake_folder(lake_url, table)}/{export}.*.parquet"


def export_load_id(completion_record: str) -> str:
    """The load id a completion record names: `.../_dlt_loads/bronze__1795701766.71.jsonl` gives
    `1795701766.71`."""
    return completion_record.rsplit("/", 1)[-1].split("__", 1)[-1].removesuffix(".jsonl")
