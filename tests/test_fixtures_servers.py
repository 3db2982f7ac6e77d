"""Proof that the shared fixtures give every test what it is promised.

Each test here would fail if a fixture quietly handed out something weaker: a superuser instead of
the pipeline's role, a database that outlives its test, an S3 server that accepts any secret, or
an environment that still carries a developer's `OLIST_*` settings.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import pytest
import s3fs
from helpers.servers import PostgresRole, S3Server, temporary_database
from psycopg.conninfo import conninfo_to_dict

if TYPE_CHECKING:  # for annotations only: pytest advises against importing conftest at run time
    from conftest import OlistEnv


def _bucket_name(s3_url: str) -> str:
    assert s3_url.startswith("s3://"), s3_url
    return s3_url.removeprefix("s3://")


def _client(server: S3Server, access_key_id: str, secret_access_key: str) -> s3fs.S3FileSystem:
    return s3fs.S3FileSystem(
        key=access_key_id,
        secret=secret_access_key,
        client_kwargs={"endpoint_url": server.endpoint_url, "region_name": server.region},
        skip_instance_cache=True,
    )


# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------


def test_admin_url_connects_as_superuser(postgres_admin_url: str) -> None:
    with psycopg.connect(postgres_admin_url) as connection:
        row = connection.execute("SELECT current_setting('is_superuser')").fetchone()
    assert row == ("on",)


def test_role_is_a_password_protected_non_superuser(
    postgres_admin_url: str, postgres_role: PostgresRole
) -> None:
    with psycopg.connect(postgres_admin_url) as connection:
        row = connection.execute(
            "SELECT rolsuper, rolcanlogin, rolcreatedb, rolcreaterole, rolpassword"
            " FROM pg_authid WHERE rolname = %s",
            (postgres_role.user,),
        ).fetchone()
    assert row is not None, f"role {postgres_role.user} does not exist"
    is_superuser, can_login, can_create_db, can_create_role, stored_password = row
    assert (is_superuser, can_login, can_create_db, can_create_role) == (False, True, False, False)
    # PostgreSQL 15 stores a SCRAM verifier, never the password itself.
    assert stored_password is not None
    assert stored_password.startswith("SCRAM-SHA-256$")


def test_postgres_url_carries_the_role_credentials(
    postgres_url: str, postgres_role: PostgresRole
) -> None:
    parts = conninfo_to_dict(postgres_url)
    assert parts["user"] == postgres_role.user == "olist_test"
    assert parts["password"] == postgres_role.password
    assert (parts["host"], parts["port"]) == ("127.0.0.1", "5432")
    assert re.fullmatch(r"olist_test_[0-9a-f]{12}", str(parts["dbname"]))


def test_postgres_url_is_owned_by_the_role_which_can_build_in_it(
    postgres_url: str, postgres_role: PostgresRole
) -> None:
    with psycopg.connect(postgres_url) as connection:
        row = connection.execute(
            "SELECT current_user, current_setting('is_superuser'), pg_get_userbyid(datdba)"
            " FROM pg_database WHERE datname = current_database()"
        ).fetchone()
        assert row == (postgres_role.user, "off", postgres_role.user)
        # The pipeline creates its own schemas, which only the owner (or a superuser) may do.
        connection.execute("CREATE SCHEMA bronze")
        connection.execute("CREATE TABLE bronze.orders (order_id text PRIMARY KEY)")
        connection.execute("INSERT INTO bronze.orders VALUES ('o-1')")
        assert connection.execute("SELECT order_id FROM bronze.orders").fetchall() == [("o-1",)]


def test_temporary_database_is_dropped_even_while_connected(
    postgres_admin_url: str, postgres_role: PostgresRole
) -> None:
    with temporary_database(postgres_admin_url, owner=postgres_role.user) as name:
        # Left open on purpose, as a failing test would: the drop must not wait for it.
        lingering = psycopg.connect(postgres_role.url(name))
    try:
        with psycopg.connect(postgres_admin_url) as connection:
            still_there = connection.execute(
                "SELECT count(*) FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
        assert still_there == (0,)
        with pytest.raises(psycopg.OperationalError):
            lingering.execute("SELECT 1")
    finally:
        lingering.close()


# --------------------------------------------------------------------------------------------
# S3
# --------------------------------------------------------------------------------------------


def test_s3_bucket_is_a_new_empty_folder_under_root(s3_server: S3Server, s3_bucket: str) -> None:
    bucket = _bucket_name(s3_bucket)
    assert re.fullmatch(r"olist-test-[0-9a-f]{12}", bucket)
    assert (s3_server.root / bucket).is_dir()
    client = s3_server.filesystem()
    assert bucket in client.ls("")
    assert client.ls(bucket) == []


def test_object_written_to_bucket_reads_back_and_lands_on_disk(
    s3_server: S3Server, s3_bucket: str
) -> None:
    bucket = _bucket_name(s3_bucket)
    key = "bronze/orders/part-0001.csv"
    payload = b"order_id,customer_id\no-1,c-1\n"
    client = s3_server.filesystem()

    client.pipe(f"{bucket}/{key}", payload)

    assert client.cat(f"{bucket}/{key}") == payload
    assert (s3_server.root / bucket / key).read_bytes() == payload


def test_wrong_secret_is_refused(s3_server: S3Server, s3_bucket: str) -> None:
    bucket = _bucket_name(s3_bucket)
    impostor = _client(s3_server, s3_server.access_key_id, s3_server.secret_access_key + "x")

    with pytest.raises(PermissionError):
        impostor.pipe(f"{bucket}/intruder.txt", b"should not land")
    with pytest.raises(PermissionError):
        impostor.ls(bucket)
    assert not (s3_server.root / bucket / "intruder.txt").exists()


def test_unknown_key_and_anonymous_access_are_refused(s3_server: S3Server, s3_bucket: str) -> None:
    bucket = _bucket_name(s3_bucket)
    stranger = _client(s3_server, "OLISTUNKNOWNKEY00000", s3_server.secret_access_key)
    with pytest.raises(PermissionError):
        stranger.ls(bucket)
    # Without --auth-key rclone would serve anyone; unsigned requests must fail here.
    anonymous = s3fs.S3FileSystem(
        anon=True, client_kwargs={"endpoint_url": s3_server.endpoint_url}, skip_instance_cache=True
    )
    with pytest.raises(OSError):
        anonymous.ls(bucket)


def test_secrets_stay_out_of_reprs(s3_server: S3Server, postgres_role: PostgresRole) -> None:
    assert s3_server.secret_access_key not in repr(s3_server)
    assert postgres_role.password not in repr(postgres_role)


# --------------------------------------------------------------------------------------------
# Sample data and environment
# --------------------------------------------------------------------------------------------


def test_sample_dir_holds_the_olist_csvs(sample_dir: Path) -> None:
    names = {path.name for path in sample_dir.glob("*.csv")}
    assert {"olist_orders_dataset.csv", "olist_customers_dataset.csv"} <= names


@pytest.fixture
def developer_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Settings a developer's shell might export, set before `olist_env` runs."""
    monkeypatch.setenv("OLIST_LAKE_URL", "s3://someone-elses-bucket")
    monkeypatch.setenv("UNRELATED_SETTING", "kept")
    yield


def test_olist_env_starts_clean_in_an_empty_directory(
    developer_settings: None, olist_env: OlistEnv, tmp_path: Path
) -> None:
    assert not [name for name in os.environ if name.startswith("OLIST_")]
    assert os.environ["UNRELATED_SETTING"] == "kept"
    assert Path.cwd() == tmp_path
    assert list(tmp_path.iterdir()) == []


def test_olist_env_sets_only_olist_variables(olist_env: OlistEnv, tmp_path: Path) -> None:
    olist_env.set(OLIST_DATA_DIR=tmp_path / "data", OLIST_S3_REGION="eu-west-1")
    assert os.environ["OLIST_DATA_DIR"] == str(tmp_path / "data")
    assert os.environ["OLIST_S3_REGION"] == "eu-west-1"
    with pytest.raises(ValueError, match="LAKE_URL"):
        olist_env.set(LAKE_URL="data/lake")
    assert "LAKE_URL" not in os.environ
