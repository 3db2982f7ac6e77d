"""Scenarios on a copy of the SQLMesh project, on either gateway.

Tests that change the project (break a model, edit a unit test, change a mart in dev) work on a
copy in a temporary folder, never on the repository: `copy_project` writes one, `run_sqlmesh_on`
runs the `sqlmesh` CLI on it. `gateway_env` gives the `OLIST_*` settings of a fresh warehouse on
the `local` gateway (DuckDB state) or the `full` gateway (lake in S3, state in a new PostgreSQL
database), so one test body covers both; `prod_copy_env` those of a copy of the session's prod,
for a test that starts from a built warehouse. The sample lakes and the session warehouses
themselves come from helpers.warehouse.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest

from helpers.servers import TEST_BUCKET_PREFIX, PostgresRole, S3Server, temporary_database
from helpers.warehouse import (
    NON_UTC_TIME_ZONE,
    REPO_ROOT,
    SampleLake,
    run_sqlmesh,
    state_connection_env,
)
from olist.config import S3Settings, Settings

# What SQLMesh loads: the project's configuration, models, macros, audits and YAML unit tests.
PROJECT_FOLDERS = ("models", "macros", "audits")
GATEWAYS = ("local", "full")


def copy_project(destination: Path) -> Path:
    """Write a fresh copy of the SQLMesh project to `destination`, replacing an earlier copy.

    Copies config.yaml, models/, macros/, audits/ and the YAML unit tests under tests/ (not the
    Python tests), each at the same path as in the repository.
    Returns `destination`, the path to give `run_sqlmesh_on`.
    """
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO_ROOT / "config.yaml", destination / "config.yaml")
    for folder in (*PROJECT_FOLDERS, "tests"):
        shutil.rmtree(destination / folder, ignore_errors=True)
    for folder in PROJECT_FOLDERS:
        shutil.copytree(
            REPO_ROOT / folder, destination / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    for unit_test in unit_test_files():
        copy = destination / unit_test.relative_to(REPO_ROOT)
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(unit_test, copy)
    return destination


def unit_test_files() -> list[Path]:
    """The YAML unit tests, where SQLMesh finds them: tests/models/<layer>/test_<model>.yaml
    beside the models they test, tests/macros/test_<macro>.yaml."""
    return sorted((REPO_ROOT / "tests").glob("**/test_*.yaml"))


def unit_test_file(model: str, project: Path = REPO_ROOT) -> Path:
    """The YAML unit test of `model` (`layer.name`, e.g. `marts.dim_customers`) in `project`."""
    layer, name = model.split(".")
    return project / "tests/models" / layer / f"test_{name}.yaml"


def run_sqlmesh_on(
    project: Path, env: Mapping[str, str], *args: str, cwd: Path
) -> subprocess.CompletedProcess[str]:
    """`run_sqlmesh` on a copy of the project (see `copy_project`)."""
    return run_sqlmesh(env, *args, cwd=cwd, project=project)


def sample_lake_of(request: pytest.FixtureRequest, gateway: str) -> SampleLake:
    """The session's sample lake that `gateway` reads: the local folder, or the S3 bucket."""
    return request.getfixturevalue("sample_lake" if gateway == "local" else "s3_sample_lake")


@contextmanager
def gateway_env(
    request: pytest.FixtureRequest, gateway: str, lake: SampleLake, warehouse: Path
) -> Iterator[dict[str, str]]:
    """The `OLIST_*` settings of a new warehouse file `warehouse` on `gateway`, reading `lake`.

    `local`: SQLMesh state in the warehouse file. `full`: `lake` must be in S3; the state goes to
    a new PostgreSQL database owned by the non-superuser test role, dropped on exit. Both run in
    a non-UTC session time zone, as the session warehouses do.
    """
    env = {
        "OLIST_LAKE_URL": lake.env["OLIST_LAKE_URL"],
        "OLIST_WAREHOUSE_PATH": str(warehouse),
        "TZ": NON_UTC_TIME_ZONE,
    }
    if gateway == "local":
        yield env
        return
    if gateway != "full":
        raise ValueError(f"unknown gateway {gateway!r}: expected one of {GATEWAYS}")
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    role: PostgresRole = request.getfixturevalue("postgres_role")
    with temporary_database(admin_url, owner=role.user) as database:
        yield {
            **env,
            **{k: v for k, v in lake.env.items() if k.startswith("OLIST_S3_")},
            **state_connection_env(role.url(database)),
            "OLIST_GATEWAY": "full",
        }


@contextmanager
def prod_copy_env(
    request: pytest.FixtureRequest, gateway: str, warehouse: Path
) -> Iterator[dict[str, str]]:
    """The `OLIST_*` settings of a copy, at `warehouse`, of the session's prod on `gateway`.

    Planning the sample into prod takes a SQLMesh process 10 to 15 s; a copy takes a fraction
    of a second, and a test may change it freely. `local`: the session's warehouse file
    (`local_warehouse`), state included, copied to `warehouse`. `full`: its warehouse file, and
    its PostgreSQL state database copied into a new one (`CREATE DATABASE ... TEMPLATE`), dropped
    on exit. The project's models are fingerprinted without their folder, so a copy of the
    project (`copy_project`) planned on it finds prod up to date.
    """
    session = request.getfixturevalue(f"{gateway}_warehouse")
    if warehouse.name != session.path.name:
        # SQLMesh's views name their physical tables by the file's stem (the catalog).
        raise ValueError(f"{warehouse} must be named {session.path.name}, as its original is")
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(session.path, warehouse)
    env = {**session.env, "OLIST_WAREHOUSE_PATH": str(warehouse)}
    if gateway == "local":
        yield env
        return
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    role: PostgresRole = request.getfixturevalue("postgres_role")
    template = session.env["OLIST_STATE_DATABASE"]
    with temporary_database(admin_url, owner=role.user, template=template) as database:
        yield {**env, **state_connection_env(role.url(database))}


# ---------------------------------------------------------------------------------------------
# Reading what SQLMesh did
# ---------------------------------------------------------------------------------------------

# Every model of the project as `schema.name`, from models/<schema>/<name>.sql.
PROJECT_MODELS = sorted(
    f"{path.parent.name}.{path.stem}" for path in REPO_ROOT.glob("models/*/*.sql")
)

# SQLMesh's console wraps at the terminal width (80 columns in a pipe); a wide one keeps each
# model's line on one line for the assertions.
WIDE_CONSOLE = {"COLUMNS": "250"}

# `sqlmesh plan` and `sqlmesh run` print one line per model and batch they evaluate:
#   [1/1] marts.fct_orders    [insert 2017-11-03 - 2018-07-31, audits passed 4]    3.40s
_EVALUATED_BATCH = re.compile(
    r"^\[\d+/\d+\]\s+(?P<model>\S+)\s+\[(?P<action>[^,\]]+)", re.MULTILINE
)


def evaluated_batches(result: subprocess.CompletedProcess[str]) -> dict[str, list[str]]:
    """What a plan or run evaluated: each model's actions, one per batch, in order.

    `{"marts.fct_orders": ["insert 2017-11-03 - 2018-07-31"], "marts.dim_customers":
    ["full refresh"], "staging.stg_orders": ["recreate view"]}`; a model it did not touch is
    absent. Needs the output of a run with `WIDE_CONSOLE`.
    """
    batches: dict[str, list[str]] = {}
    for line in _EVALUATED_BATCH.finditer(result.stdout):
        batches.setdefault(line["model"], []).append(line["action"])
    return batches


def succeeded(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    """`result`, once its command exited 0; otherwise fail the test with the command's output."""
    command = " ".join(map(str, result.args))
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}{result.stderr}"
    return result


def new_lake(request: pytest.FixtureRequest, gateway: str, work: Path) -> SampleLake:
    """An empty lake for `gateway` (a local folder, or a new S3 bucket) and its own staging."""
    s3: S3Settings | None = None
    lake_url = str(work / "lake")
    if gateway == "full":
        server: S3Server = request.getfixturevalue("s3_server")
        bucket = server.create_bucket(f"{TEST_BUCKET_PREFIX}{secrets.token_hex(6)}")
        lake_url = f"{bucket}/lake"
        s3 = S3Settings(
            endpoint_url=server.endpoint_url,
            access_key_id=server.access_key_id,
            secret_access_key=server.secret_access_key,
            region=server.region,
        )
    settings = Settings(
        staging_url=f"duckdb:///{work}/staging.duckdb",
        lake_url=lake_url,
        data_dir=work / "data",
        s3=s3,
    )
    env = {
        "OLIST_STAGING_URL": settings.staging_url,
        "OLIST_LAKE_URL": settings.lake_url,
        "OLIST_DATA_DIR": str(settings.data_dir),
    }
    if s3 is not None:
        env |= {
            "OLIST_S3_ENDPOINT_URL": s3.endpoint_url or "",
            "OLIST_S3_ACCESS_KEY_ID": s3.access_key_id,
            "OLIST_S3_SECRET_ACCESS_KEY": s3.secret_access_key,
            "OLIST_S3_REGION": s3.region,
        }
    return SampleLake(settings=settings, env=env)
