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


def _postgres_advice(message: str, user: str, database: str) -> str:
    if "password authentication failed" in message:
        return f"it refused the password for user '{user}': check the password in OLIST_STAGING_URL"
    if f'role "{user}" does not exist' in message:
        return f"it has no role '{user}': create it or fix the user in OLIST_STAGING_URL"
    if f'database "{database}" does not exist' in message:
        return (
            f"it has no database '{database}': create it (createdb -O {user} {database}) "
            "or fix the name in OLIST_STAGING_URL"
        )
    if "Connection refused" in message or "timeout expired" in message:
        return (
            "nothing answers there; check that the server runs and that the host and port "
            "in OLIST_STAGING_URL are right"
        )
    if "resolve host" in message:
        return "the host name does not resolve: fix the host in OLIST_STAGING_URL"
    return "check OLIST_STAGING_URL"


def check_staging(settings: Settings) -> None:
    if not settings.staging_is_postgres:
        _check_duckdb_file(settings.duckdb_staging_path)
        return
    import psycopg

    parts = urlsplit(settings.staging_url)
    user, database = parts.username or "", parts.path.strip("/")
    try:
        psycopg.connect(settings.staging_url, connect_timeout=CONNECT_TIMEOUT_SECONDS).close()
    except psycopg.OperationalError as error:
        detail = str(error).replace("connection failed: ", "").strip()
        raise StagingDatabaseError(
            f"Cannot use the staging database PostgreSQL at {parts.hostname}:{parts.port or 5432}"
            f"/{database}: {_postgres_advice(detail, user, database)}.\n  ({detail})"
        ) from None


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
    DuckDB file free, or on the spark gateway a Java runtime and the folder Spark writes to."""
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
