"""Fixtures and helpers for testing the SQLMesh warehouse on the real sample.

The root conftest.py registers this module as a fixture plugin, so any test can ask for:

- `sample_lake` / `s3_sample_lake`: the sample exported once per session (`olist ingest` into a
  DuckDB staging file, `olist export` into a local folder / a bucket on the `s3_server`).
- `local_warehouse` / `full_warehouse`: the whole project planned into prod once per session,
  with the `local` gateway (state in the warehouse file) and the `full` gateway (lake in S3,
  state in a fresh PostgreSQL database owned by the non-superuser test role). Tests that read
  them must not change them.
- `run_sqlmesh(env, *args)`: the `sqlmesh` CLI on this repository with exactly the given
  `OLIST_*` settings, for tests that need a warehouse of their own.

SQLMesh runs as a subprocess because config.yaml reads the environment when the project loads;
a separate process gets exactly the settings a test gives it and nothing from the test process.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from filelock import FileLock
from psycopg.conninfo import conninfo_to_dict

from helpers.bronze import lake_connection, lake_glob
from helpers.servers import TEST_BUCKET_PREFIX, PostgresRole, S3Server, temporary_database
from olist.config import S3Settings, Settings

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent

# What `built_once` leaves in a folder it finished building, and where the session's prod plan
# keeps its output (the tests assert on it; other workers read it from there).
BUILT_MARK = ".built"
PLAN_RECORD = "plan.json"

# A session time zone other than UTC (a laptop in Brazil): staging must not depend on it.
NON_UTC_TIME_ZONE = "America/Sao_Paulo"

# The grain of each staging model, as columns of its lake folder: the model must have exactly
# one row per distinct value. Reviews and geolocation are coarser than their bronze keys.
STAGING_GRAIN_IN_LAKE: dict[str, tuple[str, tuple[str, ...]]] = {
    "stg_customers": ("customers", ("customer_id",)),
    "stg_geolocation": ("geolocation", ("geolocation_zip_code_prefix",)),
    "stg_order_items": ("order_items", ("order_id", "order_item_id")),
    "stg_order_payments": ("order_payments", ("order_id", "payment_sequential")),
    "stg_order_reviews": ("order_reviews", ("order_id",)),
    "stg_orders": ("orders", ("order_id",)),
    "stg_product_category_translations": (
        "product_category_name_translation",
        ("product_category_name",),
    ),
    "stg_products": ("products", ("product_id",)),
    "stg_sellers": ("sellers", ("seller_id",)),
}


@dataclass(frozen=True)
class SampleLake:
    """The sample in a lake, and the `OLIST_*` settings that reach it."""

    settings: Settings
    env: dict[str, str]


@dataclass(frozen=True)
class Warehouse:
    """A warehouse SQLMesh planned into prod, with the plan's output for assertions."""

    path: Path
    lake: SampleLake
    env: dict[str, str]
    plan: subprocess.CompletedProcess[str]

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """Read-only DuckDB on the warehouse that can also read its lake (S3 secret included).

        The warehouse is attached under its file's stem, the catalog name SQLMesh's views use.
        """
        with lake_connection(self.lake.settings) as con:
            con.execute(f"ATTACH '{self.path}' AS {self.path.stem} (READ_ONLY)")
            con.execute(f"USE {self.path.stem}")
            yield con


def clean_environment(env: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any `OLIST_*` variable, plus `env`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("OLIST_")}
    return {**base, **env}


def run_olist(env: Mapping[str, str], *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The `olist` CLI with exactly `env`'s `OLIST_*` settings; fails the test if it fails."""
    result = subprocess.run(
        [str(VENV_BIN / "olist"), *args],
        cwd=cwd,
        env=clean_environment(env),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"olist {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    return result


def run_sqlmesh(
    env: Mapping[str, str], *args: str, cwd: Path, project: Path = REPO_ROOT
) -> subprocess.CompletedProcess[str]:
    """`sqlmesh -p <project> <args>` with exactly `env`'s `OLIST_*` settings (and `TZ` if given).

    `project` is this repository unless a test works on a copy of it. SQLMesh loads
    `<project>/.env` over the environment; an empty `--dotenv` file in `cwd` keeps a developer's
    .env out of the tests.
    """
    no_dotenv = cwd / "empty.env"
    no_dotenv.touch()
    return subprocess.run(
        [str(VENV_BIN / "sqlmesh"), "-p", str(project), "--dotenv", str(no_dotenv), *args],
        cwd=cwd,
        env=clean_environment(env),
        capture_output=True,
        text=True,
        check=False,
    )


def plan_prod(env: Mapping[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Plan and apply every model into prod, no questions asked."""
    return run_sqlmesh(env, "plan", "--auto-apply", "--no-prompts", cwd=cwd)


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def distinct_lake_keys(con: duckdb.DuckDBPyConnection, settings: Settings, model: str) -> int:
    """Distinct values of a staging model's grain in its lake folder (every version counted)."""
    table, key = STAGING_GRAIN_IN_LAKE[model]
    source = f"read_parquet('{lake_glob(settings, table)}')"
    query = f"SELECT count(*) FROM (SELECT DISTINCT {', '.join(key)} FROM {source})"
    return con.execute(query).fetchone()[0]


def state_connection_env(postgres_url: str) -> dict[str, str]:
    """The `OLIST_STATE_*` settings of a PostgreSQL URL."""
    info = conninfo_to_dict(postgres_url)
    return {
        "OLIST_STATE_HOST": str(info["host"]),
        "OLIST_STATE_PORT": str(info["port"]),
        "OLIST_STATE_DATABASE": str(info["dbname"]),
        "OLIST_STATE_USER": str(info["user"]),
        "OLIST_STATE_PASSWORD": str(info.get("password", "")),
    }


# ---------------------------------------------------------------------------------------------
# Session fixtures: the sample exported once, each gateway planned once
# ---------------------------------------------------------------------------------------------


def built_once(
    tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], None]
) -> Path:
    """The folder `name`, filled by `build(folder)` once per test run and then only read.

    Under pytest-xdist every worker has a temporary folder of its own, below one base folder of
    the run; the folder goes there, and the first worker to get here builds it while holding a
    file lock, so the others wait and then reuse it instead of building it again. A build that
    fails leaves no `.built` mark: the next worker tries again (and fails the same way).
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    folder = root / name
    with FileLock(root / f"{name}.lock"):
        if not (folder / BUILT_MARK).exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            (folder / BUILT_MARK).touch()
    return folder


@contextmanager
def exporting_from_sample_staging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One export from the session's staging file at a time, across xdist workers: an export
    opens the file for writing (dlt's pipeline state), and DuckDB lets one process do that."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    with FileLock(root / "sample-staging-export.lock"):
        yield


@pytest.fixture(scope="session")
def sample_staging(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> dict[str, str]:
    """The sample ingested into a DuckDB staging file (once per run); the settings that reach it.

    Not changed after it is built; the exports below take turns (exporting_from_sample_staging).
    """

    def env_of(work: Path) -> dict[str, str]:
        return {"OLIST_STAGING_URL": f"duckdb:///{work}/staging.duckdb"}

    def ingest(work: Path) -> None:
        run_olist(env_of(work), "ingest", "--source", str(sample_dir), cwd=work)

    return env_of(built_once(tmp_path_factory, "sample-staging", ingest))


@pytest.fixture(scope="session")
def sample_lake(
    tmp_path_factory: pytest.TempPathFactory, sample_staging: dict[str, str]
) -> SampleLake:
    """The sample exported to a local lake folder (once per run; tests only read it)."""

    def env_of(work: Path) -> dict[str, str]:
        return {
            **sample_staging,
            "OLIST_LAKE_URL": str(work / "lake"),
            "OLIST_DATA_DIR": str(work / "data"),
        }

    def export(work: Path) -> None:
        with exporting_from_sample_staging(tmp_path_factory):
            run_olist(env_of(work), "export", cwd=work)

    work = built_once(tmp_path_factory, "sample-lake", export)
    settings = Settings(
        staging_url=sample_staging["OLIST_STAGING_URL"],
        lake_url=str(work / "lake"),
        data_dir=work / "data",
        s3=None,
    )
    return SampleLake(settings=settings, env=env_of(work))


@pytest.fixture(scope="session")
def s3_sample_lake(
    tmp_path_factory: pytest.TempPathFactory, sample_staging: dict[str, str], s3_server: S3Server
) -> SampleLake:
    """The sample exported to `s3://olist-test-<hex>/lake` on the session's S3 server."""
    work = tmp_path_factory.mktemp("warehouse-s3-lake")
    bucket = s3_server.create_bucket(f"{TEST_BUCKET_PREFIX}{secrets.token_hex(6)}")
    lake_url = f"{bucket}/lake"
    s3 = S3Settings(
        endpoint_url=s3_server.endpoint_url,
        access_key_id=s3_server.access_key_id,
        secret_access_key=s3_server.secret_access_key,
        region=s3_server.region,
    )
    env = {
        **sample_staging,
        "OLIST_LAKE_URL": lake_url,
        "OLIST_DATA_DIR": str(work / "data"),
        "OLIST_S3_ENDPOINT_URL": s3.endpoint_url or "",
        "OLIST_S3_ACCESS_KEY_ID": s3.access_key_id,
        "OLIST_S3_SECRET_ACCESS_KEY": s3.secret_access_key,
        "OLIST_S3_REGION": s3.region,
    }
    with exporting_from_sample_staging(tmp_path_factory):
        run_olist(env, "export", cwd=work)
    settings = Settings(
        staging_url=sample_staging["OLIST_STAGING_URL"],
        lake_url=lake_url,
        data_dir=work / "data",
        s3=s3,
    )
    return SampleLake(settings=settings, env=env)


@pytest.fixture(scope="session")
def local_warehouse(tmp_path_factory: pytest.TempPathFactory, sample_lake: SampleLake) -> Warehouse:
    """Every model planned into prod by the default `local` gateway, in a non-UTC session.

    Built once per run and only read: a test that changes a warehouse works on a copy
    (helpers.scenarios.prod_copy_env).
    """

    def env_of(work: Path) -> dict[str, str]:
        return {
            "OLIST_LAKE_URL": sample_lake.env["OLIST_LAKE_URL"],
            "OLIST_WAREHOUSE_PATH": str(work / "warehouse.duckdb"),
            "TZ": NON_UTC_TIME_ZONE,
        }

    def plan(work: Path) -> None:
        result = plan_prod(env_of(work), cwd=work)
        (work / PLAN_RECORD).write_text(
            json.dumps(
                {
                    "args": result.args,
                    "returncode": result.returncode,
                    "stdout": result.stdout,
                    "stderr": result.stderr,
                }
            ),
            encoding="utf-8",
        )

    work = built_once(tmp_path_factory, "local-warehouse", plan)
    recorded = json.loads((work / PLAN_RECORD).read_text(encoding="utf-8"))
    return Warehouse(
        path=work / "warehouse.duckdb",
        lake=sample_lake,
        env=env_of(work),
        plan=subprocess.CompletedProcess(**recorded),
    )


@pytest.fixture(scope="session")
def full_warehouse(
    tmp_path_factory: pytest.TempPathFactory,
    s3_sample_lake: SampleLake,
    postgres_admin_url: str,
    postgres_role: PostgresRole,
) -> Iterator[Warehouse]:
    """Every model planned into prod by the `full` gateway: lake in S3, state in PostgreSQL."""
    work = tmp_path_factory.mktemp("warehouse-full")
    path = work / "warehouse.duckdb"
    with temporary_database(postgres_admin_url, owner=postgres_role.user) as database:
        env = {
            **{k: v for k, v in s3_sample_lake.env.items() if k.startswith("OLIST_S3_")},
            **state_connection_env(postgres_role.url(database)),
            "OLIST_GATEWAY": "full",
            "OLIST_LAKE_URL": s3_sample_lake.env["OLIST_LAKE_URL"],
            "OLIST_WAREHOUSE_PATH": str(path),
            "TZ": NON_UTC_TIME_ZONE,
        }
        yield Warehouse(path=path, lake=s3_sample_lake, env=env, plan=plan_prod(env, cwd=work))
