"""Listing lake files by a glob, for the warehouse's macros and `olist run`: names only, no file
opened.

DuckDB lists through its own `glob()` (with the gateway's S3 secret for an `s3://` lake). Spark
has no listing function in SQL, so for it the files are listed here in Python: a local folder with
`glob`, an object store (`s3a://bucket/prefix`, as Spark reads it) with fsspec, whose S3 file
system takes its credentials from the standard AWS variables (`AWS_ACCESS_KEY_ID`, ...), as
Spark's s3a connector can. Not tested: no object store is reachable where this was written.
Either way the names come back as the engine reads
them: a relative local lake stays relative (ingest/lake_layout.py says why).
"""

from __future__ import annotations

import glob

from olist.sql import sql_string


def list_files(adapter, patterns: list[str]) -> list[list[str]]:
    """For each pattern, the sorted paths matching it, as the engine behind `adapter` reads
    them. DuckDB lists them all in one query."""
    if adapter.dialect == "duckdb":
        if not patterns:
            return []
        listing = " UNION ALL ".join(
            f"SELECT {number} AS pattern, file FROM glob({sql_string(pattern)})"
            for number, pattern in enumerate(patterns)
        )
        found: list[list[str]] = [[] for _ in patterns]
        for number, file in adapter.fetchall(f"{listing} ORDER BY 1, 2"):
            found[number].append(file)
        return found
    return [_list_in_python(pattern) for pattern in patterns]


def _list_in_python(pattern: str) -> list[str]:
    scheme, separator, path = pattern.partition("://")
    if not separator:
        return sorted(glob.glob(pattern))
    import fsspec

    return sorted(f"{scheme}://{file}" for file in fsspec.filesystem(scheme).glob(path))
