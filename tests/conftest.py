"""Shared pytest fixtures: real PostgreSQL and S3 servers, the Olist sample, a clean environment.

Server fixtures are session-scoped (starting a server is slow) while the things tests write to
(a database, a bucket) are fresh for every test, so tests never see each other's data. A missing
server or sample fails the run loudly instead of skipping: a skipped integration test looks green.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import pytest

# pytest-xdist's workers start with COLUMNS=80 and LINES=24 (its controller's terminal). The CLI's
# console and SQLMesh's read COLUMNS, so a test would see 80-column output only under xdist;
# drop them so a worker runs as a plain `pytest` does.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for name in ("COLUMNS", "LINES"):
        os.environ.pop(name, None)

# tests/ is on sys.path (pyproject.toml: pythonpath), so the shared helpers import as the package
# `helpers`. Registered for assertion rewriting before anything imports them, so a failed
# `assert` inside a helper shows its values too.
pytest.register_assert_rewrite("helpers")

from helpers.servers import (  # noqa: E402
    POSTGRES_ADMIN_URL,
    TEST_BUCKET_PREFIX,
    TEST_ROLE_NAME,
    PostgresRole,
    S3Server,
    ServerUnavailableError,
    check_postgres_answers,
    ensure_login_role,
    serve_s3,
    temporary_database,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO_ROOT.parent / "shared/data/olist/sample"
OLIST_PREFIX = "OLIST_"


def _fail_with_message(error: ServerUnavailableError) -> NoReturn:
    # The message already says what to do; `from None` keeps pytest from printing the chain of
    # low-level exceptions under it (and pytrace=False, the fixture's own traceback).
    raise pytest.fail.Exception(str(error), pytrace=False) from None


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """Superuser URL of the local cluster, once it is known to answer."""
    try:
        check_postgres_answers(POSTGRES_ADMIN_URL)
    except ServerUnavailableError as error:
        _fail_with_message(error)
    return POSTGRES_ADMIN_URL


@pytest.fixture(scope="session")
def postgres_role(postgres_admin_url: str) -> PostgresRole:
    """The non-superuser `olist_test` login role, with a password new to this session."""
    return ensure_login_role(postgres_admin_url, TEST_ROLE_NAME)


@pytest.fixture
def postgres_url(postgres_admin_url: str, postgres_role: PostgresRole) -> Iterator[str]:
    """URL of a fresh database owned by `postgres_role`, dropped (WITH FORCE) after the test."""
    with temporary_database(postgres_admin_url, owner=postgres_role.user) as database:
        yield postgres_role.url(database)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """`rclone serve s3` on a free local port; each top-level folder of `root` is a bucket."""
    try:
        with serve_s3(tmp_path_factory.mktemp("s3")) as server:
            yield server
    except ServerUnavailableError as error:
        _fail_with_message(error)


@pytest.fixture
def s3_bucket(s3_server: S3Server) -> str:
    """`s3://olist-test-<hex>`: an empty bucket of this test's own."""
    return s3_server.create_bucket(f"{TEST_BUCKET_PREFIX}{secrets.token_hex(6)}")


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    """The Olist sample CSVs, shared by every checkout at ../shared/data/olist/sample."""
    if not SAMPLE_DIR.is_dir():
        pytest.fail(
            f"The Olist sample data is missing: expected a folder at {SAMPLE_DIR} "
            "(../shared/data/olist/sample relative to the repository root).",
            pytrace=False,
        )
    return SAMPLE_DIR


@dataclass(frozen=True)
class OlistEnv:
    """Sets `OLIST_*` variables for one test; monkeypatch restores the environment afterwards."""

    monkeypatch: pytest.MonkeyPatch
    workdir: Path

    def set(self, **variables: str | os.PathLike[str] | int) -> None:
        """Set each `OLIST_*` variable, e.g. `olist_env.set(OLIST_LAKE_URL=s3_bucket)`."""
        for name, value in variables.items():
            # Refusing other names catches typos such as LAKE_URL that would be silently ignored.
            if not name.startswith(OLIST_PREFIX):
                raise ValueError(f"{name} is not an {OLIST_PREFIX}* variable")
            text = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
            self.monkeypatch.setenv(name, text)


@pytest.fixture
def olist_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> OlistEnv:
    """A clean configuration: no `OLIST_*` variables, and a fresh empty working directory.

    The working directory matters because the CLI also reads `.env` from it, and its default
    data folders are relative to it.
    """
    for name in list(os.environ):
        if name.startswith(OLIST_PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return OlistEnv(monkeypatch=monkeypatch, workdir=tmp_path)


from helpers.servers import PasswordPostgres, serve_password_postgres  # noqa: E402 (appended)

# The sample lakes and session warehouses (helpers/warehouse.py) and the daily replay's lake
# (helpers/replay.py), for every test directory.
pytest_plugins = ["helpers.warehouse", "helpers.replay"]


@pytest.fixture(scope="session")
def password_postgres() -> Iterator[PasswordPostgres]:
    """A private PostgreSQL cluster that checks passwords (scram-sha-256), on a free port.

    The local cluster at 127.0.0.1:5432 trusts every login, so a wrong password can only be
    tested here. Its superuser `postgres` has a password new to this session.
    """
    try:
        with serve_password_postgres() as server:
            yield server
    except ServerUnavailableError as error:
        _fail_with_message(error)


@pytest.fixture
def restartable_postgres() -> Iterator[PasswordPostgres]:
    """A private cluster like `password_postgres`, but this test's own, so it may stop it
    (`stop_immediately()`, as a crash would) and `start()` it again: the shared cluster on
    5432 and the session's private one must never go away under other tests."""
    try:
        with serve_password_postgres() as server:
            yield server
    except ServerUnavailableError as error:
        _fail_with_message(error)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[str], Path]]:
    """`small_disk("4m")`: a new tmpfs of that size (the tests run as root), for a full-disk
    test; `helpers.disks.grow(path)` gives it room afterwards. All are unmounted at the end."""
    from helpers.disks import mount_tmpfs, unmount

    mounted: list[Path] = []

    def mount(size: str) -> Path:
        mountpoint = tmp_path / f"small-disk-{len(mounted)}"
        mount_tmpfs(mountpoint, size)
        mounted.append(mountpoint)
        return mountpoint

    yield mount
    for mountpoint in reversed(mounted):
        unmount(mountpoint)


@pytest.fixture
def full_stack(olist_env: OlistEnv, postgres_url: str, s3_server: S3Server, s3_bucket: str) -> Path:
    """The full stack's configuration: PostgreSQL staging and a lake in a fresh S3 bucket; the
    working directory."""
    olist_env.set(
        OLIST_STAGING_URL=postgres_url,
        OLIST_LAKE_URL=f"{s3_bucket}/lake",
        OLIST_S3_ENDPOINT_URL=s3_server.endpoint_url,
        OLIST_S3_ACCESS_KEY_ID=s3_server.access_key_id,
        OLIST_S3_SECRET_ACCESS_KEY=s3_server.secret_access_key,
    )
    return olist_env.workdir
