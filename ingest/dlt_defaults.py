"""dlt runtime settings the project relies on, applied before any pipeline is built.

dlt reads settings from the environment (and .dlt/config.toml); we only set defaults, so a user
can still override any of them. Every pipeline constructor calls `apply()`.
"""

from __future__ import annotations

import os

DEFAULTS = {
    # No anonymous telemetry: there may be no network, and a pipeline should not phone home.
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    # dlt logs a retried job's failure, a thread pool stopped by Ctrl-C, a pending package, as
    # ERROR lines with tracebacks, even when the run then succeeds; what fails reaches the user
    # as one sentence from ingest/dlt_errors.py instead. `olist -v` shows dlt's log (INFO).
    "RUNTIME__LOG_LEVEL": "CRITICAL",
    # Keep each load package's metadata for `dlt pipeline ... load-package`/`trace`, but not a
    # second copy of every row loaded.
    "LOAD__DELETE_COMPLETED_JOBS": "true",
    # dlt gzips the files it hands to the loader; they are temporary and local, and compressing
    # them cost more than half of the ingest's time (measured by bench/bench_bronze.py).
    "DATA_WRITER__DISABLE_COMPRESSION": "true",
    # Read the source files one after another, not round-robin: each scan holds a DuckDB
    # working set, and three at once pushed peak memory past 1.5 GB at 10x the real size.
    "EXTRACT__NEXT_ITEM_MODE": "fifo",
    # Empty the merge staging tables (raw_staging.*) after each load instead of keeping a copy.
    "LOAD__TRUNCATE_STAGING_DATASET": "true",
    # ...but not for the export: the lake has no staging dataset, and "truncating" it made dlt
    # create `<lake>_staging/` beside the lake, outside the prefix the user gave it.
    "OLIST_EXPORT__LOAD__TRUNCATE_STAGING_DATASET": "false",
    # A job that fails terminally (the database refuses the rows: a constraint, a type) fails
    # the same way on every retry, and dlt would keep its package pending and retry it before
    # anything else, forever. Abort it instead: dlt keeps it under `load/loaded/<load id>` for
    # inspection and restores the pipeline state to the last complete load, so the next run
    # reads the files again and loads what the destination lacks (ingest/dlt_errors.py says so).
    "LOAD__AUTO_ABORT_ON_TERMINAL_ERROR": "true",
    # Ctrl-C stops at once: dlt would otherwise swallow it during normalize and load, finish the
    # step and exit 0. An interrupted package is kept and finished by the next run.
    "RUNTIME__INTERCEPT_SIGNALS": "false",
}


def apply() -> None:
    for name, value in DEFAULTS.items():
        os.environ.setdefault(name, value)
