"""dlt's step failures become one sentence naming the place and the cause (ingest/dlt_errors.py).

The end-to-end cases (a full tmpfs, a PostgreSQL server stopped mid-load) run in
tests/cli/test_olist_run.py and test_crash_recovery.py; these check, in milliseconds, how each
failure's text is read: which place a full disk belongs to, and that only a lost PostgreSQL
connection is called one.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from types import SimpleNamespace

import pytest
from dlt.load.exceptions import LoadClientJobRetry
from dlt.pipeline.exceptions import PipelineStepFailed

from ingest.dlt_errors import unwrap_pipeline_error
from olist.config import Settings
from olist.errors import PipelineError

NO_SPACE = os.strerror(errno.ENOSPC)
POSTGRES = "postgresql://olist:secret@db.example:5433/olist"


def _settings(tmp_path: Path, staging_url: str | None = None) -> Settings:
    return Settings(
        staging_url=staging_url or f"duckdb:///{tmp_path}/data/staging.duckdb",
        lake_url=str(tmp_path / "lake"),
        data_dir=tmp_path / "data",
        s3=None,
    )


def _message(settings: Settings, pipeline: str, step: str, exception: BaseException) -> str:
    """What the user reads when dlt's `step` of `pipeline` fails with `exception`."""
    fake_pipeline = SimpleNamespace(pipeline_name=pipeline, has_pending_data=True)
    with pytest.raises(PipelineError) as raised, unwrap_pipeline_error(settings):
        raise PipelineStepFailed(fake_pipeline, step, "1.5", exception)
    return str(raised.value)


def test_a_full_disk_in_extract_without_a_path_names_the_data_folder(tmp_path):
    settings = _settings(tmp_path)
    message = _message(settings, "olist_ingest", "extract", OSError(errno.ENOSPC, NO_SPACE))
    assert "\n" not in message
    assert message.startswith(
        "The ingest ran out of disk space in dlt's extract step, writing to the data folder "
        f"{tmp_path / 'data'} (dlt's working files): {NO_SPACE}. Free space there (or set "
        "OLIST_DATA_DIR to a bigger disk), then rerun"
    )


def test_duckdbs_full_write_ahead_log_names_the_staging_database(tmp_path):
    settings = _settings(tmp_path)
    wal = f"{tmp_path}/data/staging.duckdb.wal"
    failure = RuntimeError(f'Failed to commit: Could not write file "{wal}": {NO_SPACE}')
    message = _message(settings, "olist_ingest", "load", failure)
    assert "\n" not in message
    assert f"writing to the staging database {tmp_path}/data/staging.duckdb: " in message
    assert "(or set OLIST_STAGING_URL to a bigger disk)" in message


def test_a_lake_file_copied_onto_a_full_disk_names_the_lake(tmp_path):
    settings = _settings(tmp_path)
    copy = (
        f"[Errno 28] {NO_SPACE}: '{tmp_path}/data/dlt/x.parquet' -> '{tmp_path}/lake/o/x.parquet'"
    )
    message = _message(settings, "olist_export", "load", RuntimeError(f"Job failed: {copy}"))
    assert "\n" not in message
    assert message.startswith(
        f"The export ran out of disk space in dlt's load step, writing to the lake {tmp_path}/lake:"
    )


def test_a_full_disk_on_the_postgresql_server_names_the_staging_database_not_a_setting(tmp_path):
    settings = _settings(tmp_path, POSTGRES)
    failure = RuntimeError(f'could not extend file "base/16384/16390": {NO_SPACE}')
    message = _message(settings, "olist_ingest", "load", failure)
    assert "\n" not in message
    assert (
        "writing to the staging database postgresql://olist:***@db.example:5433/olist:" in message
    )
    assert "Free space there, then rerun" in message and "secret" not in message


def test_a_lost_postgresql_connection_names_the_server_and_the_clients_words(tmp_path):
    settings = _settings(tmp_path, POSTGRES)
    failure = RuntimeError(
        "Job failed. Last failure message was: psycopg2.OperationalError: connection to server "
        'at "db.example", port 5433 failed: Connection refused\n\tIs the server running?'
    )
    message = _message(settings, "olist_ingest", "load", failure)
    assert "\n" not in message
    assert message.startswith(
        "The ingest lost its connection to the staging database PostgreSQL at "
        'db.example:5433/olist in dlt\'s load step (connection to server at "db.example", port '
        "5433 failed: Connection refused). Once the server answers again"
    )
    assert "secret" not in message


def test_an_unreachable_s3_endpoint_is_not_called_a_lost_postgresql_connection(tmp_path):
    settings = _settings(tmp_path, POSTGRES)
    failure = RuntimeError('Could not connect to the endpoint URL: "http://127.0.0.1:9/lake"')
    message = _message(settings, "olist_export", "load", failure)  # dlt's own words, as before
    assert "\n" not in message
    assert message.startswith(
        "The export failed in dlt's load step: Could not connect to the endpoint URL"
    )
    assert message.endswith(
        f"The load package is kept and a rerun retries it (inspect it with: dlt pipeline "
        f"--pipelines-dir {tmp_path / 'data' / 'dlt'} olist_export info)."
    )


def test_a_job_retried_until_dlt_gives_up_names_the_table_the_place_and_the_last_reason(tmp_path):
    settings = _settings(tmp_path, POSTGRES)
    last = (
        'Traceback (most recent call last):\n  File "adbc.py", line 1, in connect\n'
        "adbc_driver_manager.OperationalError: IO: [libpq] Failed to connect: FATAL:  too many "
        'connections for role "olist"'
    )
    failure = LoadClientJobRetry("1764", "orders.4b1391c7c1.parquet", 5, 5, last, RuntimeError())
    message = _message(settings, "olist_ingest", "load", failure)
    assert "\n" not in message and "Traceback" not in message
    assert message.startswith(
        "The ingest could not load orders into the staging database "
        "postgresql://olist:***@db.example:5433/olist: it failed 5 times in a row, the last "
        "time with: "
        "adbc_driver_manager.OperationalError: IO: [libpq] Failed to connect: FATAL: too many "
        'connections for role "olist". Fix the cause, then rerun: it resumes'
    ), message
    assert "secret" not in message
