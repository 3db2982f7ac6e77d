"""Check that the staging database and the lake answer before a pipeline starts.

A run that fails on a wrong password after reading gigabytes wastes the user's time, and dlt's
own errors bury the cause in a stack. These checks take a second, and their errors say which
server, which setting, and what to do.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from olist.config import Settings
from olist.errors import LakeError, PipelineError, StagingDatabaseError, WarehouseError

CONNECT_TIMEOUT_SECONDS = 5


# PostgreSQL's words for a server that is up but takes no connections yet, or any more.
SERVER_NOT_READY = ("shutting down", "starting up", "in recovery mode", "not yet accepting")


def _postgres_advice(
    message: str, user: str, database: str, setting: str = "OLIST_STAGING_URL"
) -> str:
    """What PostgreSQL's refusal means, naming the setting(s) to fix."""
    if "password authentication failed" in message:
        return f"it refused the password for user '{user}': check the password in {setting}"
    if f'role "{user}" does not exist' in message:
        return f"it has no role '{user}': create it or fix the user in {setting}"
    if f'database "{database}" does not exist' in message:
        return (
            f"it has no database '{database}': create it (createdb -O {user} {database}) "
            f"or fix the name in {setting}"
        )
    if any(state in message for state in SERVER_NOT_READY):
        return "the server is shutting down or starting up: run again once it accepts connections"
    if "Connection refused" in message or "timeout expired" in message:
        return (
            "nothing answers there; check that the server runs and that the host and port "
            f"in {setting} are right"
        )
    if "resolve host" in message:
        return f"the host name does not resolve: fix the host in {setting}"
    return f"check {setting}"


def _refusal(error: Exception) -> str:
    """psycopg's reason for a failed connection, on one line: it gives a line per address it
    tried (`localhost` is two), often the same reason twice."""
    lines = str(error).replace("connection failed: ", "").splitlines()
    return "; ".join(dict.fromkeys(line.strip() for line in lines if line.strip()))


def check_staging(settings: Settings) -> None:
    if not settings.staging_is_postgres:
        _check_quote_free_data_dir(settings)
        _check_duckdb_file(settings.duckdb_staging_path)
        return
    import psycopg

    parts = urlsplit(settings.staging_url)
    user, database = parts.username or "", parts.path.strip("/")
    try:
        psycopg.connect(settings.staging_url, connect_timeout=CONNECT_TIMEOUT_SECONDS).close()
    except psycopg.OperationalError as error:
        detail = _refusal(error)
        raise StagingDatabaseError(
            f"Cannot use the staging database PostgreSQL at {parts.hostname}:{parts.port or 5432}"
            f"/{database}: {_postgres_advice(detail, user, database)}.\n  ({detail})"
        ) from None


def _check_quote_free_data_dir(settings: Settings) -> None:
    """dlt's DuckDB loader writes the path of each load file into SQL unescaped (dlt 1.31), so
    a quote in the data folder's path fails every load; say so before anything is read."""
    folder = settings.dlt_pipelines_dir.resolve()
    if "'" in str(folder):
        raise StagingDatabaseError(
            f"The data folder's path {folder.parent} holds a single quote ('), and dlt cannot load "
            "files from such a path into a DuckDB staging database. Set OLIST_DATA_DIR to a "
            "folder whose full path has no single quote (the lake, warehouse and source folders "
            "may have one), or use a PostgreSQL staging database."
        )


def _check_duckdb_file(
    path: Path,
    what: str = "staging database",
    error_type: type[PipelineError] = StagingDatabaseError,
) -> None:
    import duckdb

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        duckdb.connect(str(path)).close()
    except duckdb.IOException as error:
        raise error_type(
            f"Cannot open the {what} {path}: {error}\n"
            "DuckDB allows one writer: close the program holding it (a `sqlmesh ui`, a DuckDB "
            "shell) and run again."
        ) from None
    except OSError as error:
        raise error_type(f"Cannot create the {what} {path}: {error}") from None


def check_warehouse(settings: Settings) -> None:
    """The warehouse must be usable before `olist run` spends minutes loading data for it: the
    DuckDB file free, or on the spark gateway a Java runtime and the folder Spark writes to; and
    SQLMesh's state database must let us in."""
    if settings.state is not None:
        _check_state_database(settings)
    if settings.gateway != "spark":
        _check_duckdb_file(settings.warehouse_path, "warehouse", WarehouseError)
        return
    from olist.java_runtime import java_version_problem

    if problem := java_version_problem():
        raise WarehouseError(problem)
    try:
        settings.spark_folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise WarehouseError(
            f"Cannot create the Spark folder {settings.spark_folder} (OLIST_SPARK_DIR): {error}"
        ) from None


def _check_state_database(settings: Settings) -> None:
    import psycopg

    state = settings.state
    assert state is not None
    try:
        psycopg.connect(
            host=state.host,
            port=state.port,
            dbname=state.database,
            user=state.user,
            password=state.password,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
        ).close()
    except psycopg.OperationalError as error:
        detail = _refusal(error)
        settings_named = "the OLIST_STATE_* settings"
        advice = _postgres_advice(detail, state.user, state.database, settings_named)
        raise WarehouseError(
            f"Cannot use SQLMesh's state database PostgreSQL at {state.host}:{state.port}"
            f"/{state.database} (OLIST_GATEWAY={settings.gateway}): {advice}. Nothing was "
            f"loaded.\n  ({detail})"
        ) from None


def check_lake(settings: Settings) -> None:
    if settings.s3 is None:
        try:
            # Only the parent: dlt creates the lake folder itself and refuses one it did not make.
            Path(settings.lake_url).parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise LakeError(f"Cannot create the lake folder {settings.lake_url}: {error}") from None
        return
    import s3fs
    from botocore.exceptions import BotoCoreError

    s3 = settings.s3
    bucket = urlsplit(settings.lake_url).netloc
    endpoint = s3.endpoint_url or "AWS S3"
    fs = s3fs.S3FileSystem(
        key=s3.access_key_id,
        secret=s3.secret_access_key,
        client_kwargs={"endpoint_url": s3.endpoint_url, "region_name": s3.region},
        config_kwargs={
            "connect_timeout": CONNECT_TIMEOUT_SECONDS,
            "retries": {"max_attempts": 1},
        },
    )
    try:
        fs.ls(bucket, refresh=True)
    except PermissionError:
        raise LakeError(
            f"S3 at {endpoint} refused the keys for bucket '{bucket}': check "
            "OLIST_S3_ACCESS_KEY_ID and OLIST_S3_SECRET_ACCESS_KEY."
        ) from None
    except FileNotFoundError:
        raise LakeError(
            f"The bucket '{bucket}' does not exist at {endpoint}: create it (docker compose's "
            "init service does; or `mc mb`), or fix OLIST_LAKE_URL."
        ) from None
    except (BotoCoreError, OSError) as error:
        raise LakeError(
            f"Cannot reach S3 at {endpoint}: is the server running and OLIST_S3_ENDPOINT_URL "
            f"right?\n  ({error})"
        ) from None
