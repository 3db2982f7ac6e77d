"""How fast SQLMesh builds the warehouse against the same SQL in plain DuckDB, and what a day costs.

    python bench/bench_warehouse.py [--scale 1 --scale 10] [--work data/bench-warehouse]

For each scale (1 = the real Olist size, 99,441 orders) on data from `olist generate --sf S`,
in one run, side by side (issue 11, item 7):

- Full build: `sqlmesh plan prod --auto-apply --no-prompts` of every model into an empty
  warehouse, unit tests and audits included (as a deployment runs it), against the floor: the
  SQL that full build runs, as plain DuckDB. Each model is rendered in dependency order the way
  SQLMesh renders it for an evaluation (runtime stage EVALUATING, with an engine adapter on the
  floor's own DuckDB file, so the lake macros list the lake and read every file, and the
  incremental macros find no table and render the full-build form), then
  `CREATE TABLE <schema>.<model> AS <query>` runs on that file; only that statement is timed.
  Target: the full build at most 3x the floor at 1x, 1.5x at 10x. A second plan, with nothing
  to do, shows what every plan pays before any model runs.
- Daily run on a typical day D: the median-volume purchase day of the busiest year (the year
  with the most orders). Prod is planned (unit tests skipped) on the lake as of D-1, D's export
  is added to the lake (D's new orders, and the status changes, payments and reviews of earlier
  orders that D brings), and `sqlmesh run --ignore-cron` takes it in, as `olist run` does (the
  ledger is checked to hold exactly the export's files in the run's batch).
  Target: at most 25% of the full build at 1x, 10% at 10x. (The data set's last day would be no
  test: it has a handful of orders.) The run is then repeated with nothing new, to show what a
  run costs whatever the data.
- Cost follows the delta, not the history: the smallest scale's day D export (at 1x: D's files)
  added both to its own history (as in the daily run above) and to the largest scale's history
  as of its D-1, each then taken in by `sqlmesh run --ignore-cron`, the two runs back to back.
  Target: on the 10x history at most 1.5x what it costs on the 1x history. Needs two scales in
  the run.
- `olist run`'s warehouse step with nothing new (issue 11, item 5): after the daily run,
  `olist.warehouse.build.build_warehouse()` is called twice, each in a fresh interpreter with the
  bench warehouse's settings. The first records row counts for a warehouse `sqlmesh` built, the
  second finds nothing to do; its time inside the call (the stage time `olist run` prints) and
  its wall time with Python start-up are reported. Target: at most 3 s at 1x.

The set-up (generate, snapshot, ingest, export) is done once per scale into `<work>/sf<S>/`
and its times reported separately; later runs reuse it. The full build, the daily run and the
floor must agree (fct_orders' rows and revenue), or the timings mean nothing. SQLMesh's own
per-batch times (a model with its audits) show where the time goes, next to the floor's.

The tables are printed and written to `bench/results/warehouse-<timestamp>.md` (git-ignored),
with what else ran on the machine meanwhile (`ps`): SQLMesh and DuckDB use every core, so any
other work slows the figures down.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
from machine_load import MachineLoad, OtherProcesses, machine_line

from ingest.lake_layout import LAKE_LOADS_FOLDER, export_load_id

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "bench/results"
VENV_BIN = REPO_ROOT / ".venv/bin"


@dataclass(frozen=True)
class Targets:
    """Issue 11's targets at one scale: SQLMesh's fixed cost weighs less on more data, and a day
    is a smaller share of a longer history."""

    full_build_vs_floor: float  # the full build's allowed multiple of plain DuckDB
    daily_run_share: float  # the daily run's allowed share of a full build
    no_change_step_s: float | None  # `olist run`'s warehouse step with nothing new (1x only)


TARGETS = {1.0: Targets(3.0, 0.25, 3.0), 10.0: Targets(1.5, 0.10, None)}
# The smallest scale's day taken in on the largest scale's history, against on its own history.
DELTA_ON_HISTORY_TARGET = 1.5


def targets(scale: float) -> Targets:
    """The targets at `scale`; a scale between 1x and 10x uses the 1x targets."""
    return TARGETS[10.0] if scale >= 10 else TARGETS[1.0]


# `sqlmesh plan` and `sqlmesh run` print one line per model batch they evaluate (with a console
# wide enough not to wrap it):
#   [1/1] marts.fct_orders   [insert partitions, audits passed 4]   0.60s
BATCH_LINE = re.compile(
    r"^\[\d+/\d+\]\s+(?P<model>\S+)\s+\[(?P<action>.*?)\]\s+(?P<s>[\d.]+)s", re.M
)
WIDE_CONSOLE = {"COLUMNS": "250"}
PLAN_PROD = ("plan", "prod", "--auto-apply", "--no-prompts")
RUN_PROD = ("run", "--ignore-cron")  # what `olist run` does: Context.run(ignore_cron=True)


# ---------------------------------------------------------------------------------------------
# Running commands
# ---------------------------------------------------------------------------------------------


def run(command: list[str], env: Mapping[str, str], cwd: Path) -> tuple[float, str]:
    """Run `command` with exactly `env`'s `OLIST_*` settings; its wall time and output.

    A failure stops the benchmark with the command's output: a timing of a failed build would
    be meaningless.
    """
    environment = {k: v for k, v in os.environ.items() if not k.startswith("OLIST_")}
    started = time.perf_counter()
    result = subprocess.run(
        command,
        env={**environment, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    return seconds, result.stdout + result.stderr


def olist(env: Mapping[str, str], cwd: Path, *args: str) -> float:
    return run([str(VENV_BIN / "olist"), *args], env, cwd)[0]


@dataclass(frozen=True)
class Warehouse:
    """A warehouse the bench builds: the project's models on a lake, in a DuckDB file of its own
    folder (the `local` gateway, SQLMesh's state in the same file)."""

    project: Path
    lake: Path
    folder: Path

    @property
    def file(self) -> Path:
        # The models' SQL names tables `warehouse.<schema>.<model>`: the catalog is the file's stem.
        return self.folder / "warehouse.duckdb"

    def env(self) -> dict[str, str]:
        return {"OLIST_LAKE_URL": str(self.lake), "OLIST_WAREHOUSE_PATH": str(self.file)}


def sqlmesh(warehouse: Warehouse, *args: str) -> tuple[float, str]:
    """`sqlmesh -p <project> <args>` on `warehouse`; an empty dotenv keeps a developer's .env
    out."""
    warehouse.folder.mkdir(parents=True, exist_ok=True)
    no_dotenv = warehouse.folder / "empty.env"
    no_dotenv.touch()
    command = [str(VENV_BIN / "sqlmesh"), "-p", str(warehouse.project), "--dotenv", str(no_dotenv)]
    return run([*command, *args], {**warehouse.env(), **WIDE_CONSOLE}, warehouse.folder)


# What SQLMesh loads from the checkout: its config, models, macros, audits and unit tests.
PROJECT_FILES = ("config.yaml", "models", "macros", "audits", "tests")


def snapshot_project(work: Path) -> Path:
    """A copy of the checkout's SQLMesh project for the whole run.

    The checkout may be edited while the bench runs (it takes minutes): a model changed between
    the plan of the day before and the daily run would turn the run into a different test, and
    the figures would belong to no one version of the models. Pytest files are left out; the
    macros' imports of `ingest` still come from the checkout (installed in the venv).
    """
    project = work / "project"
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    for name in PROJECT_FILES:
        source = REPO_ROOT / name
        if source.is_file():
            shutil.copy2(source, project / name)
        else:
            ignored = not_unit_tests if name == "tests" else shutil.ignore_patterns("__pycache__")
            shutil.copytree(source, project / name, ignore=ignored)
    return project


def not_unit_tests(folder: str, names: list[str]) -> list[str]:
    """For `shutil.copytree`: what in `tests/` is not one of SQLMesh's YAML unit tests."""
    return [
        name
        for name in names
        if name == "__pycache__"
        or ((Path(folder) / name).is_file() and not name.endswith((".yaml", ".yml")))
    ]


def project_version() -> str:
    """The checkout's commit, and its uncommitted changes to the project, in words."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(REPO_ROOT), *args], capture_output=True, text=True, check=False
        ).stdout.strip()

    changed = git("status", "--porcelain", "--", *PROJECT_FILES).splitlines()
    state = f"with uncommitted changes to {len(changed)} files" if changed else "clean"
    return f"commit {git('rev-parse', '--short', 'HEAD')}, {state}"


def seconds_per_model(output: str) -> dict[str, float]:
    """SQLMesh's reported time per model (its batches and audits), from a plan or run output."""
    per_model: dict[str, float] = defaultdict(float)
    for line in BATCH_LINE.finditer(output):
        per_model[line["model"]] += float(line["s"])
    return dict(per_model)


# ---------------------------------------------------------------------------------------------
# Set-up: generated data as of a typical day and the day before, both in a lake (once per scale)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """A scale's bench folder: the lake before and after the new day, and how it was made."""

    scale: float
    orders: int  # in the data as of the new day: what the warehouses hold
    new_day: str  # D, the typical day the daily run adds
    new_day_orders: int
    changed_orders: int
    seconds: dict[str, float]


def scale_folder(work: Path, scale: float) -> Path:
    return work / f"sf{scale:g}"


def typical_day(csv_folder: Path) -> tuple[date, int]:
    """The data set's typical day (the median-volume purchase day of the year with the most
    orders) and the orders placed on it."""
    orders = f"read_csv('{csv_folder / 'olist_orders_dataset.csv'}', all_varchar = true)"
    with duckdb.connect() as con:
        day, on_day = con.execute(
            f"""
            WITH days AS (
              SELECT CAST(order_purchase_timestamp AS TIMESTAMP)::DATE AS day, count(*) AS orders
              FROM {orders} GROUP BY ALL
            ), busiest_year AS (
              SELECT year(day) AS year FROM days GROUP BY ALL ORDER BY sum(orders) DESC LIMIT 1
            ), in_year AS (
              SELECT day, orders FROM days WHERE year(day) = (SELECT year FROM busiest_year)
            )
            SELECT day, orders FROM in_year
            WHERE orders = (SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY orders) FROM in_year)
            ORDER BY day LIMIT 1
            """
        ).fetchone()
    return day, on_day


def order_count(csv_folder: Path) -> int:
    orders = csv_folder / "olist_orders_dataset.csv"
    with duckdb.connect() as con:
        query = f"SELECT count(*) FROM read_csv('{orders}', all_varchar = true)"
        return con.execute(query).fetchone()[0]


def orders_changed_after(lake_before: Path, lake_after: Path) -> int:
    """Orders of the earlier lake that the later export wrote again (their status moved on)."""
    before = f"read_parquet('{lake_before}/orders/*.parquet')"
    after = f"read_parquet('{lake_after}/orders/*.parquet')"
    with duckdb.connect() as con:
        (changed,) = con.execute(
            f"SELECT count(DISTINCT order_id) FROM {after} "
            f"WHERE order_id IN (SELECT order_id FROM {before}) "
            f"AND _dlt_load_id NOT IN (SELECT _dlt_load_id FROM {before})"
        ).fetchone()
    return changed


def prepare(scale: float, work: Path) -> Setup:
    """Generate, snapshot, ingest and export a scale once; reuse it on later runs.

    Keeps `lake_before/`, the export of the data as of the day before the typical day D, and
    `lake_after/`, which holds it plus the export of the data as of D (the files D's daily
    export adds), with `setup.json` recording how they were made.
    """
    folder = scale_folder(work, scale)
    record = folder / "setup.json"
    if record.exists():
        recorded = json.loads(record.read_text())
        if recorded.get("new_day"):  # older set-ups used the data set's last day: made again
            return Setup(**recorded)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    env = {
        "OLIST_STAGING_URL": f"duckdb:///{folder}/staging.duckdb",
        "OLIST_LAKE_URL": str(folder / "lake_build"),
        "OLIST_DATA_DIR": str(folder / "dlt"),
    }
    seconds = {"generate": olist(env, folder, "generate", "--sf", f"{scale:g}", "--out", "csv")}
    new_day, new_day_orders = typical_day(folder / "csv")
    for name, as_of in (("csv_before", new_day - timedelta(days=1)), ("csv_day", new_day)):
        seconds[f"snapshot {name}"] = olist(
            env, folder, "snapshot", "--source", "csv", "--as-of", as_of.isoformat(), "--out", name
        )
    seconds["ingest (day before)"] = olist(env, folder, "ingest", "--source", "csv_before")
    seconds["export (day before)"] = olist(env, folder, "export")
    shutil.copytree(folder / "lake_build", folder / "lake_before")
    seconds["ingest (the day)"] = olist(env, folder, "ingest", "--source", "csv_day")
    seconds["export (the day)"] = olist(env, folder, "export")
    (folder / "lake_build").rename(folder / "lake_after")
    setup = Setup(
        scale=scale,
        orders=order_count(folder / "csv_day"),
        new_day=new_day.isoformat(),
        new_day_orders=new_day_orders,
        changed_orders=orders_changed_after(folder / "lake_before", folder / "lake_after"),
        seconds=seconds,
    )
    # Later runs need only the two lakes: drop the CSVs, the staging database and dlt's working
    # folders (GBs at 10x).
    for leftover in ("csv", "csv_before", "csv_day", "dlt"):
        shutil.rmtree(folder / leftover)
    for leftover in ("staging.duckdb", "staging.duckdb.lock"):  # the database, its writer lock
        (folder / leftover).unlink()
    record.write_text(json.dumps(asdict(setup), indent=2))
    return setup


# ---------------------------------------------------------------------------------------------
# The day's export: the files D's export added to the lake
# ---------------------------------------------------------------------------------------------


def day_export(setup_folder: Path) -> list[Path]:
    """The files of `lake_after/` that `lake_before/` lacks (paths relative to the lake): D's
    export, with its completion record in `_dlt_loads/`."""
    before, after = setup_folder / "lake_before", setup_folder / "lake_after"
    return sorted(
        path.relative_to(after)
        for path in after.rglob("*")
        if path.is_file() and not (before / path.relative_to(after)).exists()
    )


def export_ids(files: list[Path]) -> set[str]:
    """The load ids of the complete exports among `files` (named by their completion records)."""
    return {export_load_id(str(file)) for file in files if file.parts[0] == LAKE_LOADS_FOLDER}


def lake_export_ids(lake: Path) -> set[str]:
    return {export_load_id(str(record)) for record in (lake / LAKE_LOADS_FOLDER).iterdir()}


def add_new_files(lake: Path, source_lake: Path, files: list[Path]) -> int:
    """Copy `files` of `source_lake` into `lake`, as the daily export writes them; how many of
    them are Parquet files (what the run must take in)."""
    for file in files:
        target = lake / file
        if target.exists():
            raise SystemExit(f"{target} is already in the lake: the day's export would replace it")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source_lake / file, target)
    return sum(file.suffix == ".parquet" for file in files)


def rows_by_table(lake: Path, files: list[Path]) -> dict[str, int]:
    """Rows per bronze table in the Parquet `files` of `lake`."""
    rows: dict[str, int] = defaultdict(int)
    with duckdb.connect() as con:
        for file in files:
            if file.suffix == ".parquet":
                query = f"SELECT count(*) FROM read_parquet('{lake / file}')"
                rows[file.parts[0]] += con.execute(query).fetchone()[0]
    return dict(sorted(rows.items()))


def orders_already_in(lake: Path, source_lake: Path, files: list[Path]) -> tuple[int, int]:
    """Of the orders in the export `files` (of `source_lake`), how many `lake` already holds;
    and how many there are."""
    orders = [f"'{source_lake / file}'" for file in files if file.parts[0] == "orders"]
    with duckdb.connect() as con:
        return con.execute(
            f"SELECT count(*) FILTER (WHERE order_id IN (SELECT order_id "
            f"FROM read_parquet('{lake}/orders/*.parquet'))), count(*) "
            f"FROM (SELECT DISTINCT order_id FROM read_parquet([{', '.join(orders)}]))"
        ).fetchone()


def files_taken_in(warehouse: Path) -> int:
    """The lake files the warehouse's last run took in: the ledger's rows of its latest batch."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "SELECT count(*) FROM staging.lake_files "
            "WHERE batch = (SELECT max(batch) FROM staging.lake_files) AND batch > 1"
        ).fetchone()[0]


def take_in_day(
    warehouse: Warehouse, source_lake: Path, files: list[Path]
) -> tuple[float, str, int]:
    """Add the day's export `files` to the warehouse's lake, then time `sqlmesh run
    --ignore-cron` of its prod; the seconds, the output, and the Parquet files it took in."""
    parquet_files = add_new_files(warehouse.lake, source_lake, files)
    seconds, output = sqlmesh(warehouse, *RUN_PROD)
    taken_in = files_taken_in(warehouse.file)
    if taken_in != parquet_files:
        raise SystemExit(
            f"the daily run of {warehouse.file} took in {taken_in} lake files, not the day's "
            f"{parquet_files}: its time would not be the day's"
        )
    return seconds, output, parquet_files


def plan_history(warehouse: Warehouse) -> float:
    """Prod planned into an empty warehouse, unit tests skipped (where a daily run starts)."""
    return sqlmesh(warehouse, *PLAN_PROD, "--skip-tests")[0]


# ---------------------------------------------------------------------------------------------
# The floor: the SQL of a full build as plain DuckDB
# ---------------------------------------------------------------------------------------------


def build_with_plain_duckdb(floor: Warehouse) -> tuple[dict[str, float], dict[str, str]]:
    """Run every model's full-build SQL into a fresh DuckDB file, in dependency order; the seconds
    each `CREATE TABLE AS` took, and each model's kind.

    The project is loaded with the `local` gateway on the floor's lake and file (config.yaml
    reads the environment when the project loads; an empty dotenv file keeps a developer's .env
    out), so its engine adapter is connected to the floor's own file. Each model
    is rendered just before it runs, as SQLMesh renders it for an evaluation: the lake macros
    need the adapter to list the lake and the ledger (outside an evaluation they render empty
    relations), and with no snapshot given `@this_model` is the model's own name, which has no
    table yet, so the incremental macros render the full-build form. Rendering is not timed.

    Some marts have a post-statement, `DELETE FROM @this_model WHERE <measure> IS NULL`, which
    removes the rows of groups left with no rows by an incremental run; a full build writes no
    such row, so it deletes nothing and is not run here.
    """
    from sqlmesh import Context
    from sqlmesh.core.config import Config
    from sqlmesh.core.config.loader import load_configs
    from sqlmesh.core.macros import RuntimeStage

    shutil.rmtree(floor.folder, ignore_errors=True)
    floor.folder.mkdir(parents=True)
    for name in [name for name in os.environ if name.startswith("OLIST_")]:
        del os.environ[name]
    os.environ.update(floor.env())
    no_dotenv = floor.folder / "empty.env"
    no_dotenv.touch()
    configs = load_configs("config", Config, floor.project, dotenv_path=no_dotenv)
    context = Context(paths=floor.project, config=configs, gateway="local")
    adapter = context.engine_adapter
    cursor = adapter.cursor
    seconds, kinds = {}, {}
    now = time.time()
    try:
        for fqn in context.dag.sorted:
            model = context.get_model(fqn)
            query = model.render_query_or_raise(
                start=model.start,
                end=now,
                execution_time=now,
                engine_adapter=adapter,
                runtime_stage=RuntimeStage.EVALUATING,
            ).sql("duckdb")
            _catalog, schema, table = (part.strip('"') for part in fqn.split("."))
            name = f"{schema}.{table}"
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
            started = time.perf_counter()
            cursor.execute(f"CREATE TABLE {name} AS {query}")
            seconds[name] = time.perf_counter() - started
            kinds[name] = model.kind.name
    finally:
        context.close()
        adapter.close()  # the context leaves its own adapter open: DuckDB allows one writer
    return seconds, kinds


def fct_orders_totals(warehouse: Path) -> tuple[int, float]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT count(*), sum(revenue) FROM marts.fct_orders").fetchone()


# ---------------------------------------------------------------------------------------------
# `olist run`'s warehouse step
# ---------------------------------------------------------------------------------------------

# `build_warehouse(<project>)` in a fresh interpreter, as `olist run` calls it; prints what it did
# and the seconds the call took (the stage time `olist run` prints: the step's own imports of
# SQLMesh are inside it, as there). python-dotenv is silenced so that a developer's .env cannot
# override the bench's settings (`sqlmesh --dotenv` does the same for the commands above).
WAREHOUSE_STEP = """
import json, sys, time
from pathlib import Path
import dotenv
dotenv.load_dotenv = lambda *args, **kwargs: False
from olist.warehouse.build import build_warehouse
started = time.perf_counter()
outcome = build_warehouse(Path(sys.argv[1]))
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "action": outcome.action, "models": outcome.models_built}))
"""


@dataclass(frozen=True)
class WarehouseStep:
    seconds: float  # inside the call
    wall_s: float  # with Python start-up and imports
    action: str
    models_built: int


def warehouse_step(warehouse: Warehouse) -> WarehouseStep:
    command = [str(VENV_BIN / "python"), "-c", WAREHOUSE_STEP, str(warehouse.project)]
    wall_s, output = run(command, warehouse.env(), warehouse.folder)
    # SQLMesh may log to the same output: the step's line is the one that starts with its key.
    reported = json.loads(
        next(line for line in reversed(output.splitlines()) if line.startswith('{"seconds"'))
    )
    return WarehouseStep(reported["seconds"], wall_s, reported["action"], reported["models"])


def no_change_step(warehouse: Warehouse) -> tuple[WarehouseStep, WarehouseStep]:
    """`olist run`'s warehouse step twice on a warehouse `sqlmesh` brought up to date: the first
    call finds no row counts recorded (it runs prod once more and records them), the second has
    nothing to do. Both calls, the second checked to have computed nothing."""
    first = warehouse_step(warehouse)
    second = warehouse_step(warehouse)
    if second.models_built:
        raise SystemExit(
            f"the second warehouse step computed {second.models_built} models ({second.action}): "
            "it is not the no-change path"
        )
    return first, second


# ---------------------------------------------------------------------------------------------
# One scale
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    setup: Setup
    full_build_s: float
    no_change_plan_s: float
    floor_s: float
    plan_day_before_s: float
    daily_run_s: float
    empty_run_s: float
    empty_run_in_models_s: float  # the sum of its per-model times
    day_files: int  # Parquet files of the day's export
    day_rows: dict[str, int]  # rows of the day's export, by bronze table
    step_first: WarehouseStep
    step_no_change: WarehouseStep
    full_per_model: dict[str, float]
    daily_per_model: dict[str, float]
    floor_per_model: dict[str, float]
    kinds: dict[str, str]


def measure(scale: float, work: Path, project: Path) -> Measured:
    setup = prepare(scale, work)
    folder = scale_folder(work, scale)
    runs = folder / "run"
    shutil.rmtree(runs, ignore_errors=True)
    runs.mkdir()
    lake = runs / "lake"
    shutil.copytree(folder / "lake_before", lake)
    day = day_export(folder)
    daily, full, floor = (
        Warehouse(project, lake, runs / name) for name in ("daily", "full", "plain")
    )

    # The daily run: prod built on the lake as of the day before, then the day's export and a run.
    plan_day_before_s = plan_history(daily)
    daily_run_s, daily_output, day_files = take_in_day(daily, folder / "lake_after", day)
    # The same run again with nothing new: what a run costs whatever the data (start-up, project
    # load, and every model rendered, evaluated on an empty delta and audited).
    empty_run_s, empty_output = sqlmesh(daily, *RUN_PROD)

    # The full build of the same lake into an empty warehouse, then a plan with nothing to do:
    # what every plan pays before any model runs (start-up, project load, unit tests, state).
    full_build_s, full_output = sqlmesh(full, *PLAN_PROD)
    no_change_plan_s, _ = sqlmesh(full, *PLAN_PROD)

    floor_per_model, kinds = build_with_plain_duckdb(floor)

    totals = {
        warehouse.folder.name: fct_orders_totals(warehouse.file)
        for warehouse in (daily, full, floor)
    }
    if len(set(totals.values())) != 1:
        raise SystemExit(f"the builds disagree on fct_orders (rows, revenue): {totals}")

    step_first, step_no_change = no_change_step(daily)
    return Measured(
        setup=setup,
        full_build_s=full_build_s,
        no_change_plan_s=no_change_plan_s,
        floor_s=sum(floor_per_model.values()),
        plan_day_before_s=plan_day_before_s,
        daily_run_s=daily_run_s,
        empty_run_s=empty_run_s,
        empty_run_in_models_s=sum(seconds_per_model(empty_output).values()),
        day_files=day_files,
        day_rows=rows_by_table(folder / "lake_after", day),
        step_first=step_first,
        step_no_change=step_no_change,
        full_per_model=seconds_per_model(full_output),
        daily_per_model=seconds_per_model(daily_output),
        floor_per_model=floor_per_model,
        kinds=kinds,
    )


# ---------------------------------------------------------------------------------------------
# The same day on a longer history
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeltaOnHistory:
    """The small scale's day D export taken in on the large scale's history, and again on the
    small scale's own, back to back."""

    day_scale: float
    history_scale: float
    history_orders: int
    plan_s: float  # prod planned on the large scale's history as of its own D-1
    run_s: float
    on_own_history_s: float  # the same export on the small scale's history, just before
    files: int
    orders_in_history: int  # of the export's orders, those the large history already holds
    orders: int
    per_model: dict[str, float]  # of the run on the large history


def history_as_of_day_before(folder: Path, runs: Path, project: Path) -> Warehouse:
    """A warehouse, not planned yet, on a copy of a scale's lake as of the day before D."""
    shutil.rmtree(runs, ignore_errors=True)
    warehouse = Warehouse(project, runs / "lake", runs / "warehouse")
    shutil.copytree(folder / "lake_before", warehouse.lake)
    return warehouse


def measure_delta_on_history(
    small: Measured, large: Measured, work: Path, project: Path
) -> DeltaOnHistory:
    """Take in the small scale's day D export on its own history and on the large scale's lake
    as of the large scale's D-1, the two runs back to back.

    Back to back, because other work on the machine changes by the minute: the small scale's
    daily run measured earlier is no fair comparison for a run made many minutes later.

    A fair stand-in for a day of the same size on the longer history: a run opens only the new
    export's files (named by the ledger) and rewrites the keys their rows touch, so its work is
    set by the export, not by which data set it came from. Generated from the same seed, the two
    data sets share most ids, so most of the export's orders are keys the history already holds
    (the report counts them) and the run rewrites them as it would a real day's changes. Where
    the history's version of a key has the later staging load id, it stays the latest: that
    changes what the rows say, not what the run reads or rewrites. Export load ids are the
    wall-clock times the exports ran, so the added export cannot reuse one of the history's
    (checked, as a clash would merge it into an export the ledger already holds).
    """
    small_folder = scale_folder(work, small.setup.scale)
    large_folder = scale_folder(work, large.setup.scale)
    name = f"day-of-sf{small.setup.scale:g}"
    own = history_as_of_day_before(small_folder, small_folder / "run" / name, project)
    longer = history_as_of_day_before(large_folder, large_folder / "run" / name, project)
    day, source_lake = day_export(small_folder), small_folder / "lake_after"
    clashes = export_ids(day) & lake_export_ids(longer.lake)
    if clashes:
        raise SystemExit(
            f"the {small.setup.scale:g}x export reuses load ids of the history: {clashes}"
        )
    in_history, orders = orders_already_in(longer.lake, source_lake, day)

    plan_history(own)
    plan_s = plan_history(longer)
    on_own_history_s, _, _ = take_in_day(own, source_lake, day)
    run_s, output, files = take_in_day(longer, source_lake, day)
    return DeltaOnHistory(
        day_scale=small.setup.scale,
        history_scale=large.setup.scale,
        history_orders=large.setup.orders,
        plan_s=plan_s,
        run_s=run_s,
        on_own_history_s=on_own_history_s,
        files=files,
        orders_in_history=in_history,
        orders=orders,
        per_model=seconds_per_model(output),
    )


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def verdict(value: float, limit: float) -> str:
    """pass, or MISS with how far `value` is over `limit`."""
    return "pass" if value <= limit else f"MISS by {value / limit - 1:.0%}"


def summary_rows(m: Measured) -> list[str]:
    scale = f"{m.setup.scale:g}x ({m.setup.orders:,} orders)"
    goal = targets(m.setup.scale)
    ratio = m.full_build_s / m.floor_s
    share = m.daily_run_s / m.full_build_s
    step = m.step_no_change
    step_target = (
        "none"
        if goal.no_change_step_s is None
        else f"<= {goal.no_change_step_s:g} s: {verdict(step.seconds, goal.no_change_step_s)}"
    )
    return [
        f"| {scale} | full build, {len(m.kinds)} models | {m.full_build_s:.1f} s | plain DuckDB "
        f"{m.floor_s:.1f} s | {ratio:.1f}x | <= {goal.full_build_vs_floor:g}x: "
        f"{verdict(ratio, goal.full_build_vs_floor)} |",
        f"| {scale} | daily run, the typical day | {m.daily_run_s:.1f} s | full build "
        f"{m.full_build_s:.1f} s | {share:.0%} | <= {goal.daily_run_share:.0%}: "
        f"{verdict(share, goal.daily_run_share)} |",
        f"| {scale} | `olist run` warehouse step, nothing new | {step.seconds:.1f} s "
        f"({step.wall_s:.1f} s with Python start-up) | - | - | {step_target} |",
    ]


def delta_summary_row(d: DeltaOnHistory) -> str:
    ratio = d.run_s / d.on_own_history_s
    return (
        f"| {d.day_scale:g}x day on {d.history_scale:g}x history ({d.history_orders:,} orders) "
        f"| daily run, the same export | {d.run_s:.1f} s | on the {d.day_scale:g}x history, "
        f"just before, {d.on_own_history_s:.1f} s | {ratio:.2f}x | "
        f"<= {DELTA_ON_HISTORY_TARGET:g}x: "
        f"{verdict(ratio, DELTA_ON_HISTORY_TARGET)} |"
    )


def seconds_cell(seconds: float | None) -> str:
    return "not run" if seconds is None else f"{seconds:.2f} s"


def by_kind(m: Measured, delta: DeltaOnHistory | None) -> list[str]:
    """Where the time goes: each model kind, and what the commands spend outside the models."""
    columns = [m.floor_per_model, m.full_per_model, m.daily_per_model]
    header = "| models | plain DuckDB | SQLMesh full build | SQLMesh daily run |"
    if delta is not None:
        columns.append(delta.per_model)
        header += f" the {delta.day_scale:g}x day on this history |"
    lines = [header, "|---|" + "---:|" * len(columns)]
    for kind in sorted(set(m.kinds.values())):
        names = [name for name, k in m.kinds.items() if k == kind]
        cells = [seconds_cell(sum(seconds.get(name, 0.0) for name in names)) for seconds in columns]
        lines.append(f"| {len(names)} {kind} | " + " | ".join(cells) + " |")
    in_models = [sum(seconds.values()) for seconds in columns]
    commands = [m.full_build_s, m.daily_run_s] + ([delta.run_s] if delta else [])
    lines += [
        "| all models (SQLMesh: with their audits) | "
        + " | ".join(f"{s:.2f} s" for s in in_models)
        + " |",
        "| outside the models: start-up, project load, unit tests (plan only), state | - | "
        + " | ".join(f"{c - s:.2f} s" for c, s in zip(commands, in_models[1:], strict=True))
        + " |",
    ]
    return lines


def per_model(m: Measured, delta: DeltaOnHistory | None) -> list[str]:
    header = (
        "| model | kind | plain DuckDB | SQLMesh full build (with audits) | SQLMesh daily run |"
    )
    runs = [m.full_per_model, m.daily_per_model]
    if delta is not None:
        header += f" the {delta.day_scale:g}x day on this history |"
        runs.append(delta.per_model)
    lines = [header, "|---|---|" + "---:|" * (len(runs) + 1)]
    for model, floor in m.floor_per_model.items():
        cells = [seconds_cell(floor), *(seconds_cell(seconds.get(model)) for seconds in runs)]
        lines.append(f"| {model} | {m.kinds[model]} | " + " | ".join(cells) + " |")
    return lines


def detail(m: Measured, delta: DeltaOnHistory | None) -> list[str]:
    s = m.setup
    lines = [
        f"## {s.scale:g}x: {s.orders:,} orders; the daily run's day {s.new_day} (the median-volume "
        "day of the busiest year)",
        "",
        "- set-up (once, reused later): "
        + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in s.seconds.items()),
        f"- the day: {s.new_day_orders:,} orders placed, {s.changed_orders:,} earlier orders "
        f"changed status; its export adds {m.day_files} Parquet files to the lake, "
        + ", ".join(f"{table} {rows:,}" for table, rows in m.day_rows.items())
        + " rows",
        f"- the plan of the day before (unit tests skipped) {m.plan_day_before_s:.1f} s; "
        f"a plan with nothing to do (unit tests run) {m.no_change_plan_s:.1f} s",
        f"- the daily run repeated with nothing new: {m.empty_run_s:.1f} s, of which "
        f"{m.empty_run_in_models_s:.1f} s in the models (each evaluated on an empty delta and "
        "audited)",
        f"- `olist run`'s warehouse step after the daily run: the first call (runs prod once "
        f"more, records row counts) {m.step_first.seconds:.1f} s; the second, with nothing new "
        f"({m.step_no_change.action}), {m.step_no_change.seconds:.2f} s inside the call, "
        f"{m.step_no_change.wall_s:.2f} s with Python start-up",
    ]
    if delta is not None:
        lines.append(
            f"- the {delta.day_scale:g}x day's export on this history (as of its own day before; "
            f"{delta.orders_in_history:,} of the export's {delta.orders:,} orders already in it): "
            f"plan {delta.plan_s:.1f} s, run {delta.run_s:.1f} s taking in {delta.files} files"
        )
    return [*lines, "", *by_kind(m, delta), "", *per_model(m, delta)]


def report(
    measured: list[Measured], delta: DeltaOnHistory | None, load: MachineLoad, version: str
) -> list[str]:
    lines = [
        "# Warehouse build",
        "",
        "| scale | step | SQLMesh | against | ratio | target |",
        "|---|---|---:|---:|---:|---|",
        *(row for m in measured for row in summary_rows(m)),
    ]
    if delta is not None:
        lines.append(delta_summary_row(delta))
    else:
        lines += [
            "",
            "The same day on a longer history (target: at most "
            f"{DELTA_ON_HISTORY_TARGET:g}x) needs two scales in one run: not measured.",
        ]
    lines += [
        "",
        f"The models: the checkout's ({version}), copied when the bench started.",
        "",
        machine_line(load),
    ]
    for m in measured:
        on_this_history = delta if delta and delta.history_scale == m.setup.scale else None
        lines += ["", *detail(m, on_this_history)]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, action="append", help="scale factor (repeatable)")
    parser.add_argument(
        "--work",
        type=Path,
        default=REPO_ROOT / "data/bench-warehouse",
        help="folder for the generated data, lakes and warehouses (kept for reuse)",
    )
    args = parser.parse_args()
    scales = sorted(set(args.scale or [1.0]))
    work = args.work.resolve()
    version, project = project_version(), snapshot_project(work)
    with OtherProcesses() as others:
        measured = [measure(scale, work, project) for scale in scales]
        delta = (
            measure_delta_on_history(measured[0], measured[-1], work, project)
            if len(measured) > 1
            else None
        )
    text = "\n".join(report(measured, delta, others.result(), version))
    print(text)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"warehouse-{time.strftime('%Y%m%d-%H%M%S')}.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
