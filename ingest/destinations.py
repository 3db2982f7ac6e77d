"""dlt destinations for the staging database and the lake, built from the settings.

Both pipelines get their destinations here, so the embedded default and the full stack differ
only in the settings they are given.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import dlt
from dlt.common.destination import Destination
from dlt.destinations.impl.postgres.configuration import PostgresCredentials

from ingest.lake_layout import LAKE_LAYOUT
from olist.config import Settings

STAGING_DATASET = "raw"  # bronze tables live in this schema of the staging database


def staging_destination(settings: Settings) -> Destination:
    if settings.staging_is_postgres:
        credentials = PostgresCredentials()
        credentials.parse_native_representation(settings.staging_url)
        # A URL without a password is valid for a server that trusts the client (a local
        # socket, a CI database); dlt would stop and ask for one. Empty is what libpq gets then.
        credentials.password = credentials.password or ""
        # The server's warnings would reach stderr raw: the ADBC driver that copies the rows in
        # prints them through libpq (a restart's "WARNING: terminating connection due to
        # immediate shutdown", which dlt's retry then makes moot). Errors still arrive as errors.
        # Not added to options of the user's own: dlt writes a space in them as '+' in the URL
        # it gives ADBC, which libpq does not read back, so the two could not be joined.
        query = credentials.get_query()
        credentials.query = {"options": "-cclient_min_messages=error", **query}
        return dlt.destinations.postgres(credentials=credentials)
    path = settings.duckdb_staging_path
    path.parent.mkdir(parents=True, exist_ok=True)
    return dlt.destinations.duckdb(credentials=str(path))


def lake_root_and_name(settings: Settings) -> tuple[str, str]:
    """Split the lake URL into dlt's bucket URL and dataset name.

    dlt writes `<bucket_url>/<dataset_name>/<table>/`, so the lake's last path segment becomes the
    dataset name and tables land directly under the lake URL.
    """
    url = settings.lake_url
    if settings.lake_is_s3:
        parts = urlsplit(url)
        parent, _, name = parts.path.strip("/").rpartition("/")
        return f"s3://{parts.netloc}/{parent}".rstrip("/"), name
    parent, _, name = url.rpartition("/")
    return parent or ".", name


def lake_destination(settings: Settings) -> Destination:
    bucket_url, _ = lake_root_and_name(settings)
    # The dataset name is the lake folder's own name: dlt must not "normalize" `lake-2024` to
    # `lake_2024`, or the export would write where neither the user nor SQLMesh looks.
    exact_name = {"enable_dataset_name_normalization": False}
    options = {**exact_name, "layout": LAKE_LAYOUT}
    if settings.s3 is None:
        return dlt.destinations.filesystem(bucket_url=bucket_url, **options)
    s3 = settings.s3
    credentials = {
        "aws_access_key_id": s3.access_key_id,
        "aws_secret_access_key": s3.secret_access_key,
        "region_name": s3.region,
    }
    if s3.endpoint_url:
        credentials["endpoint_url"] = s3.endpoint_url
    return dlt.destinations.filesystem(bucket_url=bucket_url, credentials=credentials, **options)
