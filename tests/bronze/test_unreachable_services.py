"""Unreachable or misconfigured servers: `olist` stops before writing anything and says why.

Every test runs the real CLI entry point in-process against real servers: a port nobody listens
on, the local PostgreSQL cluster, a private cluster that checks passwords (`password_postgres`;
the local one trusts any password) and rclone's S3 server. A failure must exit 1 with one message
and no traceback, name the server and the setting to fix, never echo a password or secret key,
and leave nothing half-written: after the fix, a rerun must deliver every row.
"""

from __future__ import annotations

import importlib
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
from helpers.bronze import SAMPLE_ROWS, current_settings, lake_counts, staging_counts
from helpers.servers import ensure_login_role, find_free_port, temporary_database

from ingest.preflight import CONNECT_TIMEOUT_SECONDS
from olist.cli import main

if TYPE_CHECKING:  # for annotations only: pytest advises against importing conftest at run time
    from conftest import OlistEnv
    from servers import PasswordPostgres, PostgresRole, S3Server

# The smallest sample table (71 rows): enough to prove a load, quick to load.
SMALL_TABLE = "product_category_name_translation"
# Where the embedded default keeps its staging database and dlt its working state, relative to
# the working directory `olist_env` sets.
STAGING_DUCKDB = Path("data/staging.duckdb")
DLT_PIPELINES_DIR = Path("data/dlt")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CliRun:
    rc: int
    out: str
    err: str

    @property
    def message(self) -> str:
        """Everything printed, whitespace collapsed: rich wraps long messages at spaces."""
        return " ".join((self.out + self.err).split())

    def shows(self, secret: str) -> bool:
        """Whether `secret` appears anywhere, even folded across lines by rich."""
        return secret in re.sub(r"\s", "", self.out + self.err)


@pytest.fixture
def olist(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliRun]:
    """Run `olist ARGS...` in-process; return what the user saw (never a traceback)."""

    def run(*args: str) -> CliRun:
        capsys.readouterr()  # drop anything printed before this run
        rc = main(list(args))
        captured = capsys.readouterr()
        assert "Traceback" not in captured.out + captured.err, captured.err
        return CliRun(rc, captured.out, captured.err)

    return run


def load_packages(pipeline_name: str) -> list[Path]:
    """dlt load packages of a pipeline in any state (extracted, normalized, loaded...)."""
    load_dir = DLT_PIPELINES_DIR / pipeline_name / "load"
    return sorted(p for p in load_dir.glob("*/*") if p.is_dir())


def files_in_bucket(server: S3Server, bucket_url: str) -> list[Path]:
    bucket = server.root / bucket_url.removeprefix("s3://")
    return sorted(p for p in bucket.rglob("*") if p.is_file())


def ingest_small_table(olist: Callable[..., CliRun], sample_dir: Path) -> None:
    """Load the small table into the embedded staging database (the default settings)."""
    run = olist("ingest", "--source", str(sample_dir), "--tables", SMALL_TABLE)
    assert run.rc == 0, run.err


def point_lake_at(olist_env: OlistEnv, server: S3Server, bucket_url: str, **overrides: str) -> None:
    """Configure the S3 lake on `server`; `overrides` replace single `OLIST_S3_*` values."""
    variables = {
        "OLIST_LAKE_URL": f"{bucket_url}/lake",
        "OLIST_S3_ENDPOINT_URL": server.endpoint_url,
        "OLIST_S3_ACCESS_KEY_ID": server.access_key_id,
        "OLIST_S3_SECRET_ACCESS_KEY": server.secret_access_key,
        **overrides,
    }
    olist_env.set(**variables)


def wrong_secret() -> str:
    return secrets.token_hex(20)  # AWS-shaped, like the real one


# --------------------------------------------------------------------------------------------
# Staging PostgreSQL
# --------------------------------------------------------------------------------------------


def test_unreachable_staging_postgres_fails_fast_naming_host_port_and_setting_writing_nothing(
    olist_env: OlistEnv, olist: Callable[..., CliRun], sample_dir: Path
) -> None:
    port = find_free_port()
    password = secrets.token_hex(8)
    olist_env.set(OLIST_STAGING_URL=f"postgresql://olist:{password}@127.0.0.1:{port}/olist")
    # Import the pipeline before timing, so the clock measures the run and not Python's imports.
    importlib.import_module("ingest.ingest_pipeline")
    importlib.import_module("olist.reports")

    started = time.monotonic()
    run = olist("ingest", "--source", str(sample_dir))
    elapsed = time.monotonic() - started

    assert run.rc == 1
    assert elapsed < CONNECT_TIMEOUT_SECONDS, f"took {elapsed:.1f}s to give up"
    assert f"127.0.0.1:{port}" in run.message
    assert "nothing answers there" in run.message
    assert "OLIST_STAGING_URL" in run.message
    assert not run.shows(password)
    assert not STAGING_DUCKDB.exists()
    assert load_packages("olist_ingest") == []


def test_missing_staging_database_says_it_does_not_exist_and_how_to_create_it(
    olist_env: OlistEnv,
    olist: Callable[..., CliRun],
    sample_dir: Path,
    postgres_role: PostgresRole,
) -> None:
    database = f"olist_test_missing_{secrets.token_hex(6)}"
    olist_env.set(OLIST_STAGING_URL=postgres_role.url(database))

    run = olist("ingest", "--source", str(sample_dir), "--tables", SMALL_TABLE)

    assert run.rc == 1
    assert f"127.0.0.1:5432/{database}" in run.message
    assert f"no database '{database}'" in run.message
    assert "does not exist" in run.message
    assert f"createdb -O {postgres_role.user} {database}" in run.message
    assert "OLIST_STAGING_URL" in run.message
    assert not run.shows(postgres_role.password)
    assert load_packages("olist_ingest") == []


def test_a_staging_server_shutting_down_is_one_sentence_saying_to_run_again_later(
    olist_env: OlistEnv,
    olist: Callable[..., CliRun],
    sample_dir: Path,
    restartable_postgres: PasswordPostgres,
) -> None:
    postgres = restartable_postgres
    # `localhost`: psycopg tries ::1 (nothing listens) and 127.0.0.1, a line of reasons each.
    olist_env.set(OLIST_STAGING_URL=postgres.url().replace("@127.0.0.1:", "@localhost:"))
    with psycopg.connect(postgres.url()):  # a smart shutdown waits for this session to end
        postgres.begin_shutdown()
        run = olist("ingest", "--source", str(sample_dir), "--tables", SMALL_TABLE)

    assert run.rc == 1
    lines = run.err.strip().splitlines()
    assert len(lines) <= 2, run.err  # the sentence, and the server's own words on one line
    assert f"PostgreSQL at localhost:{postgres.port}/postgres" in lines[0]
    assert "shutting down or starting up: run again once it accepts connections" in lines[0]
    assert "the database system is shutting down" in lines[-1]
    assert not run.shows(postgres.password)
    assert load_packages("olist_ingest") == []


def test_right_password_on_a_password_checking_postgres_passes_preflight_and_loads(
    olist_env: OlistEnv,
    olist: Callable[..., CliRun],
    sample_dir: Path,
    password_postgres: PasswordPostgres,
) -> None:
    with temporary_database(password_postgres.url(), owner=password_postgres.user) as database:
        olist_env.set(OLIST_STAGING_URL=password_postgres.url(database))

        run = olist("ingest", "--source", str(sample_dir), "--tables", SMALL_TABLE)

        assert run.rc == 0, run.err
        assert staging_counts(current_settings(), [SMALL_TABLE]) == {
            SMALL_TABLE: SAMPLE_ROWS[SMALL_TABLE]
        }
        assert not run.shows(password_postgres.password)


def test_a_staging_url_without_a_password_loads_from_a_server_that_trusts_the_client(
    olist_env: OlistEnv, olist: Callable[..., CliRun], sample_dir: Path, postgres_url: str
) -> None:
    # The local cluster trusts every login; dlt used to stop and ask for a password.
    without_password = re.sub(r":[^:@/]*@", "@", postgres_url, count=1)
    assert without_password != postgres_url
    olist_env.set(OLIST_STAGING_URL=without_password)

    assert olist("ingest", "--source", str(sample_dir), "--tables", SMALL_TABLE).rc == 0
    assert olist("export").rc == 0

    settings = current_settings()
    counts = {SMALL_TABLE: SAMPLE_ROWS[SMALL_TABLE]}
    assert staging_counts(settings, [SMALL_TABLE]) == counts
    assert lake_counts(settings, [SMALL_TABLE]) == counts


def test_wrong_password_says_it_was_refused_for_the_user_without_printing_it(
    olist_env: OlistEnv,
    olist: Callable[..., CliRun],
    sample_dir: Path,
    password_postgres: PasswordPostgres,
) -> None:
    wrong = f"wrong-{secrets.token_hex(8)}"
    olist_env.set(OLIST_STAGING_URL=password_postgres.url(password=wrong))

    run = olist("ingest", "--source", str(sample_dir), "--tables", SMALL_TABLE)

    assert run.rc == 1
    assert f"{password_postgres.host}:{password_postgres.port}" in run.message
    assert f"refused the password for user '{password_postgres.user}'" in run.message
    assert "OLIST_STAGING_URL" in run.message
    assert not run.shows(wrong)
    assert not run.shows(password_postgres.password)
    assert load_packages("olist_ingest") == []


def test_a_wrong_state_password_stops_olist_run_before_anything_is_loaded(
    olist_env: OlistEnv,
    olist: Callable[..., CliRun],
    sample_dir: Path,
    password_postgres: PasswordPostgres,
) -> None:
    wrong = f"wrong-{secrets.token_hex(8)}"
    olist_env.set(
        OLIST_GATEWAY="full",
        OLIST_STATE_HOST=password_postgres.host,
        OLIST_STATE_PORT=password_postgres.port,
        OLIST_STATE_DATABASE="postgres",
        OLIST_STATE_USER=password_postgres.user,
        OLIST_STATE_PASSWORD=wrong,
    )

    run = olist("run", "--source", str(sample_dir))

    assert run.rc == 1
    assert "SQLMesh's state database" in run.message
    assert f"refused the password for user '{password_postgres.user}'" in run.message
    assert "OLIST_STATE_" in run.message and "Nothing was loaded" in run.message
    assert not run.shows(wrong)
    assert load_packages("olist_ingest") == []
    assert not Path("data/staging.duckdb").exists()


SPECIAL_PASSWORD = "p@ss/w:rd?#'%x"  # every URL delimiter, a quote and a percent sign


def test_a_password_with_url_delimiters_loads_when_percent_encoded_and_is_never_shown_raw(
    olist_env: OlistEnv,
    olist: Callable[..., CliRun],
    sample_dir: Path,
    password_postgres: PasswordPostgres,
) -> None:
    role = ensure_login_role(password_postgres.url(), "olist_special", SPECIAL_PASSWORD)
    host = f"{password_postgres.host}:{password_postgres.port}"
    with temporary_database(password_postgres.url(), owner=role.user) as database:
        olist_env.set(
            OLIST_STAGING_URL=f"postgresql://{role.user}:{SPECIAL_PASSWORD}@{host}/{database}"
        )
        unencoded = olist("ingest", "--source", str(sample_dir), "--tables", SMALL_TABLE)

        olist_env.set(
            OLIST_STAGING_URL=role.url(database).replace(f"{role.host}:{role.port}", host)
        )
        encoded = olist("ingest", "--source", str(sample_dir), "--tables", SMALL_TABLE)

        assert encoded.rc == 0, encoded.err
        assert staging_counts(current_settings(), [SMALL_TABLE]) == {
            SMALL_TABLE: SAMPLE_ROWS[SMALL_TABLE]
        }
    assert unencoded.rc == 1
    assert "the password holds a character that a URL needs percent-encoded" in unencoded.message
    assert f"postgresql://{role.user}:***@{host}/" in unencoded.message
    for run in (unencoded, encoded):
        for fragment in ("p@ss", "ss/w", "w:rd", "rd?#"):
            assert not run.shows(fragment)


# --------------------------------------------------------------------------------------------
# S3 lake
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "problem", ["endpoint-unreachable", "wrong-secret-key", "unknown-access-key-id", "no-bucket"]
)
def test_export_to_a_broken_s3_lake_exits_1_saying_what_to_fix_and_writes_nothing(
    problem: str,
    olist_env: OlistEnv,
    olist: Callable[..., CliRun],
    sample_dir: Path,
    s3_server: S3Server,
    s3_bucket: str,
) -> None:
    ingest_small_table(olist, sample_dir)
    endpoint, bucket = s3_server.endpoint_url, s3_bucket.removeprefix("s3://")
    wrong = wrong_secret()
    if problem == "endpoint-unreachable":
        endpoint = f"http://127.0.0.1:{find_free_port()}"
        point_lake_at(olist_env, s3_server, s3_bucket, OLIST_S3_ENDPOINT_URL=endpoint)
        expected = [f"Cannot reach S3 at {endpoint}", "OLIST_S3_ENDPOINT_URL"]
    elif problem == "wrong-secret-key":
        point_lake_at(olist_env, s3_server, s3_bucket, OLIST_S3_SECRET_ACCESS_KEY=wrong)
        expected = [
            f"S3 at {endpoint} refused the keys for bucket '{bucket}'",
            "OLIST_S3_SECRET_ACCESS_KEY",
        ]
    elif problem == "unknown-access-key-id":
        unknown_id = f"OLISTUNKNOWN{secrets.token_hex(4).upper()}"
        point_lake_at(olist_env, s3_server, s3_bucket, OLIST_S3_ACCESS_KEY_ID=unknown_id)
        expected = [
            f"S3 at {endpoint} refused the keys for bucket '{bucket}'",
            "OLIST_S3_ACCESS_KEY_ID",
        ]
    else:
        bucket = f"olist-test-missing-{secrets.token_hex(6)}"
        point_lake_at(olist_env, s3_server, f"s3://{bucket}")
        expected = [f"The bucket '{bucket}' does not exist at {endpoint}", "OLIST_LAKE_URL"]

    run = olist("export")

    assert run.rc == 1
    for words in expected:
        assert words in run.message
    assert not run.shows(s3_server.secret_access_key)
    assert not run.shows(wrong)
    assert files_in_bucket(s3_server, f"s3://{bucket}") == []
    assert load_packages("olist_export") == []


def test_export_rerun_after_refused_keys_are_fixed_writes_every_row(
    olist_env: OlistEnv,
    olist: Callable[..., CliRun],
    sample_dir: Path,
    s3_server: S3Server,
    s3_bucket: str,
) -> None:
    ingest_small_table(olist, sample_dir)
    point_lake_at(olist_env, s3_server, s3_bucket, OLIST_S3_SECRET_ACCESS_KEY=wrong_secret())
    assert olist("export").rc == 1

    point_lake_at(olist_env, s3_server, s3_bucket)
    run = olist("export")

    assert run.rc == 0, run.err
    settings = current_settings()
    staged = staging_counts(settings, [SMALL_TABLE])
    assert staged == {SMALL_TABLE: SAMPLE_ROWS[SMALL_TABLE]}
    assert lake_counts(settings, [SMALL_TABLE]) == staged


# --------------------------------------------------------------------------------------------
# Settings refused before any server is contacted
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["ingest", "export"])
@pytest.mark.parametrize("keys_set", [(), ("ID",), ("SECRET",)], ids=["none", "id", "secret"])
def test_s3_lake_without_both_keys_is_a_config_error_naming_both_variables(
    command: str,
    keys_set: tuple[str, ...],
    olist_env: OlistEnv,
    olist: Callable[..., CliRun],
    sample_dir: Path,
) -> None:
    secret = wrong_secret()
    olist_env.set(OLIST_LAKE_URL="s3://olist/lake")
    if "ID" in keys_set:
        olist_env.set(OLIST_S3_ACCESS_KEY_ID="OLISTKEYID")
    if "SECRET" in keys_set:
        olist_env.set(OLIST_S3_SECRET_ACCESS_KEY=secret)
    args = ["ingest", "--source", str(sample_dir)] if command == "ingest" else ["export"]

    run = olist(*args)

    assert run.rc == 1
    assert "OLIST_LAKE_URL='s3://olist/lake'" in run.message
    assert "OLIST_S3_ACCESS_KEY_ID" in run.message
    assert "OLIST_S3_SECRET_ACCESS_KEY" in run.message
    assert not run.shows(secret)
    assert not Path("data").exists()


def test_unsupported_staging_url_lists_the_accepted_forms_without_the_password(
    olist_env: OlistEnv, olist: Callable[..., CliRun], sample_dir: Path
) -> None:
    password = secrets.token_hex(8)
    olist_env.set(OLIST_STAGING_URL=f"mysql://olist:{password}@db:3306/olist")

    run = olist("ingest", "--source", str(sample_dir), "--tables", SMALL_TABLE)

    assert run.rc == 1
    assert "OLIST_STAGING_URL='mysql://olist:***@db:3306/olist'" in run.message
    assert "'duckdb:///<path to file>'" in run.message
    assert "'postgresql://<user>:<password>@<host>:<port>/<database>'" in run.message
    assert not run.shows(password)
    assert not Path("data").exists()
