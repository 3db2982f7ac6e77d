"""The project's configuration: every setting comes from `OLIST_*` environment variables.

Values are read from the process environment first, then from a `.env` file in the working
directory (git-ignored; `.env.example` documents every variable). This module is the only place
that reads them, so switching between the embedded default (DuckDB + local folder) and the full
stack (PostgreSQL + S3) never needs a code or toml change.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

DEFAULT_STAGING_URL = "duckdb:///data/staging.duckdb"
DEFAULT_LAKE_URL = "data/lake"
DEFAULT_DATA_DIR = "data"
DEFAULT_WAREHOUSE_PATH = "data/warehouse.duckdb"  # also config.yaml's default
DEFAULT_DEMO_SCALE = 1.0  # the real data's size: `olist run` builds it in about 40 s here
DEFAULT_LOCK_WAIT_SECONDS = 300.0  # how long an ingest or export waits for another one to end


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable and what to do."""


@dataclass(frozen=True)
class S3Settings:
    endpoint_url: str | None
    access_key_id: str
    secret_access_key: str = ""
    region: str = "us-east-1"

    def __repr__(self) -> str:  # never print the secret
        return f"S3Settings(endpoint_url={self.endpoint_url!r}, key_id={self.access_key_id!r})"


@dataclass(frozen=True)
class StateSettings:
    """The PostgreSQL database holding SQLMesh's state on the `full` gateway (config.yaml)."""

    host: str
    port: str
    database: str
    user: str
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class Settings:
    staging_url: str
    lake_url: str
    data_dir: Path
    s3: S3Settings | None
    demo_scale: float = DEFAULT_DEMO_SCALE  # scale of the demo data `olist run` generates
    # The DuckDB file SQLMesh builds (config.yaml reads OLIST_WAREHOUSE_PATH itself); relative to
    # the working directory, like sqlmesh's own connection.
    warehouse_path: Path = Path(DEFAULT_WAREHOUSE_PATH)
    lock_wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS  # see ingest/writer_lock.py
    # The SQLMesh gateway (config.yaml reads OLIST_GATEWAY itself): local, full or spark.
    gateway: str = "local"
    state: StateSettings | None = None  # where that gateway keeps SQLMesh's state, if a server
    # The spark gateway's tables, metastore and (without PostgreSQL) state; config.yaml reads
    # OLIST_SPARK_DIR itself, with the same default.
    spark_dir: Path | None = None

    @property
    def spark_folder(self) -> Path:
        """Where the spark gateway keeps its tables and metastore (`<data dir>/spark`)."""
        return self.spark_dir or self.data_dir / "spark"

    @property
    def seeds_dir(self) -> Path:
        """Where `olist run` looks for the real Olist CSVs (`<data dir>/seeds`)."""
        return self.data_dir / "seeds"

    @property
    def demo_dir(self) -> Path:
        """Where `olist run` generates a demo data set when there are no seeds."""
        return self.data_dir / "demo"

    @property
    def staging_display(self) -> str:
        """The staging URL with its password masked, for messages and summaries."""
        return redact(self.staging_url)

    @property
    def staging_is_postgres(self) -> bool:
        return self.staging_url.startswith(("postgresql://", "postgres://"))

    @property
    def duckdb_staging_path(self) -> Path:
        """The DuckDB file behind a `duckdb:///<path>` staging URL."""
        return Path(self.staging_url.removeprefix("duckdb:///"))

    @property
    def lake_is_s3(self) -> bool:
        return self.lake_url.startswith("s3://")

    @property
    def dlt_pipelines_dir(self) -> Path:
        """dlt's working state, kept inside the project's data folder (not ~/.dlt or /var/dlt)."""
        return self.data_dir / "dlt"


def _read_environment(env_file: Path) -> dict[str, str]:
    values = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    values.update({k: v for k, v in os.environ.items() if k.startswith("OLIST_")})
    return values


def _validate_staging_url(url: str) -> str:
    if url.startswith("duckdb:///") and len(url) > len("duckdb:///"):
        return url
    if url.startswith(("postgresql://", "postgres://")):
        _check_password_is_encoded(url)
        parts = urlsplit(url)
        if parts.hostname and parts.path.strip("/"):
            return url
    raise ConfigError(
        f"OLIST_STAGING_URL={redact(url)!r} is not a staging database URL. Use "
        "'duckdb:///<path to file>' (the embedded default) or "
        "'postgresql://<user>:<password>@<host>:<port>/<database>'."
    )


def _validate_lake_url(url: str) -> str:
    if "://" in url and not url.startswith(("s3://", "file://")):
        raise ConfigError(
            f"OLIST_LAKE_URL={url!r} is not supported. Use a local folder such as 'data/lake' "
            "or 's3://<bucket>/<prefix>'."
        )
    if url.startswith("s3://") and not (urlsplit(url).netloc and urlsplit(url).path.strip("/")):
        raise ConfigError(
            f"OLIST_LAKE_URL={url!r} needs a bucket and a prefix, e.g. 's3://olist/lake': "
            "the tables land in folders under the prefix."
        )
    return url.removeprefix("file://").rstrip("/") or "/"


# Characters that end a URL's password early unless percent-encoded (`@` as %40, `/` as %2F...).
_URL_DELIMITERS = "@/?#"


def _check_password_is_encoded(url: str) -> None:
    """Refuse a password whose special characters are not percent-encoded, without showing it:
    parsed as it is, part of it would become the host or the path, and appear in messages."""
    userinfo = url.partition("://")[2].rpartition("@")[0]
    password = userinfo.partition(":")[2]
    if any(c in password for c in _URL_DELIMITERS) or ":" in password:
        raise ConfigError(
            f"OLIST_STAGING_URL={redact(url)!r}: the password holds a character that a URL "
            f"needs percent-encoded ({' '.join(_URL_DELIMITERS)} or :). Write it encoded, e.g. "
            'the output of: python3 -c "import getpass, urllib.parse; '
            "print(urllib.parse.quote(getpass.getpass(), safe=''))\""
        )


def redact(url: str) -> str:
    """The URL with its password masked, even one whose special characters are not encoded."""
    scheme, separator, rest = url.partition("://")
    if not separator or "@" not in rest:
        return url
    userinfo, _, location = rest.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    return f"{scheme}://{user}{':***' if colon else ''}@{location}"


def load_settings(env_file: Path = Path(".env")) -> Settings:
    """Read every `OLIST_*` setting once; raise ConfigError naming the variable at fault."""
    env = _read_environment(env_file)
    gateway = env.get("OLIST_GATEWAY") or "local"
    state_in_postgres = gateway == "full" or (
        gateway == "spark" and bool(env.get("OLIST_STATE_HOST"))
    )
    lake_url = _validate_lake_url(env.get("OLIST_LAKE_URL") or DEFAULT_LAKE_URL)
    s3 = None
    if lake_url.startswith("s3://"):
        key_id = env.get("OLIST_S3_ACCESS_KEY_ID", "")
        secret = env.get("OLIST_S3_SECRET_ACCESS_KEY", "")
        if not key_id or not secret:
            raise ConfigError(
                f"OLIST_LAKE_URL={lake_url!r} is in S3, but OLIST_S3_ACCESS_KEY_ID and "
                "OLIST_S3_SECRET_ACCESS_KEY are not both set. Set them in the environment or .env."
            )
        s3 = S3Settings(
            endpoint_url=env.get("OLIST_S3_ENDPOINT_URL") or None,
            access_key_id=key_id,
            secret_access_key=secret,
            region=env.get("OLIST_S3_REGION") or "us-east-1",
        )
    return Settings(
        staging_url=_validate_staging_url(env.get("OLIST_STAGING_URL") or DEFAULT_STAGING_URL),
        lake_url=lake_url,
        data_dir=Path(env.get("OLIST_DATA_DIR") or DEFAULT_DATA_DIR),
        s3=s3,
        demo_scale=_validate_demo_scale(env.get("OLIST_DEMO_SF") or str(DEFAULT_DEMO_SCALE)),
        warehouse_path=Path(env.get("OLIST_WAREHOUSE_PATH") or DEFAULT_WAREHOUSE_PATH),
        lock_wait_seconds=_validate_lock_wait(env.get("OLIST_LOCK_WAIT_SECONDS")),
        gateway=gateway,
        # config.yaml: state in PostgreSQL on `full`, and on `spark` when OLIST_STATE_HOST is set.
        state=_state_settings(env) if state_in_postgres else None,
        spark_dir=Path(env["OLIST_SPARK_DIR"]) if env.get("OLIST_SPARK_DIR") else None,
    )


def _state_settings(env: dict[str, str]) -> StateSettings:
    # The same defaults as config.yaml's state_connection.
    return StateSettings(
        host=env.get("OLIST_STATE_HOST") or "127.0.0.1",
        port=env.get("OLIST_STATE_PORT") or "5432",
        database=env.get("OLIST_STATE_DATABASE") or "olist",
        user=env.get("OLIST_STATE_USER") or "olist",
        password=env.get("OLIST_STATE_PASSWORD") or "",
    )


def parse_scale(value: str) -> float:
    """A scale factor: a finite number above 0 (1 = the real data's size); ValueError if not."""
    try:
        scale = float(value)
    except ValueError:
        scale = 0.0
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(
            f"{value!r} is not a scale factor; use a number above 0, e.g. 1 for the real data's "
            "size or 0.1 for a tenth of it"
        )
    return scale


def _validate_demo_scale(value: str) -> float:
    try:
        return parse_scale(value)
    except ValueError as error:
        raise ConfigError(f"OLIST_DEMO_SF: {error}") from None


def _validate_lock_wait(value: str | None) -> float:
    if value is None or value == "":
        return DEFAULT_LOCK_WAIT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not (math.isfinite(seconds) and seconds >= 0):
        raise ConfigError(
            f"OLIST_LOCK_WAIT_SECONDS={value!r} is not a number of seconds; use e.g. 300, or 0 to "
            "stop at once when another ingest or export is running."
        )
    return seconds
