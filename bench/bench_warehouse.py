"""How fast SQLMesh builds the warehouse, against the same SQL in plain DuckDB; what a day costs.

    python bench/bench_warehouse.py [--scale 1 --scale 10] [--work data/bench-warehouse]

For each scale (1 = the real Olist size, 99,441 orders) on data from `olist generate --sf S`:

- Full build: `sqlmesh plan prod --auto-apply` of every model into an empty warehouse (unit
  tests and audits included, as a deployment runs it), against the floor: the same models,
  rendered by SQLMesh (`Context.render`) and run in dependency order as plain DuckDB into a
  fresh file (`CREATE VIEW` for the staging views, as SQLMesh makes them; `CREATE TABLE AS` for
  every other model); only that SQL is timed. Target: at most 3x the floor at 1x, 1.5x at 10x.
- Daily run on a typical day D: the median-volume purchase day of the busiest year (the year
  with the most orders). The data as of D-1 (`olist snapshot`) is planned into prod, then the
  data as of D (D's new orders, and the status changes, payments and reviews of earlier orders
  that D brings) is exported and `sqlmesh run --end D` brings prod up to date. Target: at most
  25% of the full build at 1x, 10% at 10x. (The data set's last day would be no test: it has
  a handful of orders.)

The set-up (generate, snapshot, ingest, export) is done once per scale into `<work>/sf<S>/`
and its times reported separately; later runs reuse it. The full build and the daily run must
agree (fct_orders' rows and revenue), and so must the floor, or the timings mean nothing.
SQLMesh's own per-batch times (model plus its audits) show where the time goes.

The tables are printed and written to `bench/results/warehouse-<timestamp>.md` (git-ignored).
Run it alone on the machine: SQLMesh and DuckDB use every core.
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

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "bench/results"
VENV_BIN = REPO_ROOT / ".venv/bin"
FULL_SIZE_ORDERS = 99_441

# The targets (issue 11), per scale: SQLMesh's fixed cost weighs less on more data, and a day is
# a smaller share of a longer history. A scale between uses the 1x targets.
TARGETS = {1.0: (3.0, 0.25), 10.0: (1.5, 0.10)}  # scale: (full build / floor, daily run share)


def targets(scale: float) -> tuple[float, float]:
    """The full build's allowed multiple of plain DuckDB and the daily run's allowed share of
    a full build, at `scale`."""
    return TARGETS[10.0] if scale >= 10 else TARGETS[1.0]


# The incremental models' lookback (their MODEL blocks explain it).
LOOKBACK = timedelta(days=240)

# `sqlmesh plan` and `sqlmesh run` print one line per model batch they evaluate (with a console
# wide enough not to wrap it):
#   [1/4] marts.fct_orders   [insert 2016-09-01 - 2019-08-31, audits passed 4]   3.57s
BATCH_LINE = re.compile(
    r"^\[\d+/\d+\]\s+(?P<model>\S+)\s+\[(?P<action>.*?)\]\s+(?P<s>[\d.]+)s", re.M
)
WIDE_CONSOLE = {"COLUMNS": "250"}
PLAN_PROD = ("plan", "prod", "--auto-apply", "--no-prompts")


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


def sqlmesh(env: Mapping[str, str], cwd: Path, *args: str) -> tuple[float, str]:
    """`sqlmesh -p <repo> <args>`; an empty dotenv keeps a developer's .env out."""
    no_dotenv = cwd / "empty.env"
    no_dotenv.touch()
    command = [str(VENV_BIN / "sqlmesh"), "-p", str(REPO_ROOT), "--dotenv", str(no_dotenv)]
    return run([*command, *args], {**env, **WIDE_CONSOLE}, cwd)


def warehouse_env(lake: Path, warehouse: Path) -> dict[str, str]:
    """The `local` gateway on `lake`, with its state in the warehouse file."""
    return {"OLIST_LAKE_URL": str(lake), "OLIST_WAREHOUSE_PATH": str(warehouse)}


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
    for leftover in ("csv", "csv_before", "csv_day", "dlt", "lake_build_staging"):
        shutil.rmtree(folder / leftover)
    (folder / "staging.duckdb").unlink()
    record.write_text(json.dumps(asdict(setup), indent=2))
    return setup


def add_new_files(lake: Path, lake_after: Path) -> int:
    """Copy into `lake` the files of `lake_after` it lacks: what the daily export wrote."""
    added = 0
    for path in lake_after.rglob("*"):
        target = lake / path.relative_to(lake_after)
        if path.is_file() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
            added += 1
    return added


# ---------------------------------------------------------------------------------------------
# The floor: the models' own SQL as plain DuckDB
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderedModel:
    name: str  # schema.model
    kind: str  # VIEW, FULL, INCREMENTAL_BY_TIME_RANGE
    sql: str


def rendered_models(lake: Path, scratch: Path, day: date) -> list[RenderedModel]:
    """Every model's query as SQLMesh runs it for a full build, in dependency order.

    Rendered with the `local` gateway on `lake` (config.yaml reads the environment when the
    project loads) and an empty dotenv file, so a developer's .env cannot point it elsewhere.
    The queries name models as `warehouse.<schema>.<model>`: the catalog is the stem of the
    warehouse file, so the floor's file is called warehouse.duckdb too.
    """
    from sqlmesh import Context
    from sqlmesh.core.config import Config
    from sqlmesh.core.config.loader import load_configs

    scratch.mkdir(parents=True, exist_ok=True)
    for name in [name for name in os.environ if name.startswith("OLIST_")]:
        del os.environ[name]
    os.environ.update(warehouse_env(lake, scratch / "warehouse.duckdb"))
    no_dotenv = scratch / "empty.env"
    no_dotenv.touch()
    configs = load_configs("config", Config, REPO_ROOT, dotenv_path=no_dotenv)
    context = Context(paths=REPO_ROOT, config=configs, gateway="local")
    models = []
    for fqn in context.dag.sorted:
        model = context.get_model(fqn)
        query = context.render(
            model, start=model.start, end=day, execution_time=day + timedelta(days=1)
        )
        _catalog, schema, table = (part.strip('"') for part in fqn.split("."))
        models.append(RenderedModel(f"{schema}.{table}", model.kind.name, query.sql("duckdb")))
    context.close()
    return models


def build_with_plain_duckdb(models: list[RenderedModel], warehouse: Path) -> dict[str, float]:
    """Run each model's SQL into a fresh DuckDB file; the seconds each statement took."""
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    warehouse.unlink(missing_ok=True)
    seconds = {}
    with duckdb.connect(str(warehouse)) as con:
        for schema in sorted({model.name.split(".")[0] for model in models}):
            con.execute(f"CREATE SCHEMA {schema}")
        for model in models:
            created = "VIEW" if model.kind == "VIEW" else "TABLE"
            started = time.perf_counter()
            con.execute(f"CREATE {created} {model.name} AS {model.sql}")
            seconds[model.name] = time.perf_counter() - started
    return seconds


def fct_orders_totals(warehouse: Path) -> tuple[int, float]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT count(*), sum(revenue) FROM marts.fct_orders").fetchone()


def lookback_share(warehouse: Path, day: date) -> float:
    """The share of fct_orders a daily run rewrites: orders of the new day and the lookback."""
    since = day - LOOKBACK
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (share,) = con.execute(
            f"SELECT avg(CAST(order_purchase_date >= '{since}' AS INT)) FROM marts.fct_orders"
        ).fetchone()
    return share


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
    files_added: int
    lookback_share: float
    sqlmesh_per_model: dict[str, float]
    run_per_model: dict[str, float]
    floor_per_model: dict[str, float]
    kinds: dict[str, str]


def measure(scale: float, work: Path) -> Measured:
    setup = prepare(scale, work)
    folder = scale_folder(work, scale)
    day = date.fromisoformat(setup.new_day)
    day_after = (day + timedelta(days=1)).isoformat()
    runs = folder / "run"
    shutil.rmtree(runs, ignore_errors=True)
    lake = runs / "lake"
    shutil.copytree(folder / "lake_before", lake)

    # The daily run: prod built up to the day before, then the new day's export and a run.
    daily = warehouse_env(lake, runs / "daily/warehouse.duckdb")
    (runs / "daily").mkdir(parents=True)
    plan_day_before_s, _ = sqlmesh(
        daily, runs, *PLAN_PROD, "--skip-tests", "--execution-time", setup.new_day
    )
    files_added = add_new_files(lake, folder / "lake_after")
    daily_run_s, run_output = sqlmesh(daily, runs, "run", "--end", setup.new_day)

    # The full build of the same data into an empty warehouse, then a plan with nothing to do:
    # what every plan pays before any model runs (start-up, project load, unit tests, state).
    full = warehouse_env(lake, runs / "full/warehouse.duckdb")
    (runs / "full").mkdir()
    full_build_s, full_output = sqlmesh(full, runs, *PLAN_PROD, "--execution-time", day_after)
    no_change_plan_s, _ = sqlmesh(full, runs, *PLAN_PROD, "--execution-time", day_after)

    models = rendered_models(lake, runs / "render", day)
    floor_per_model = build_with_plain_duckdb(models, runs / "plain/warehouse.duckdb")

    totals = {
        where: fct_orders_totals(runs / where / "warehouse.duckdb")
        for where in ("daily", "full", "plain")
    }
    if len(set(totals.values())) != 1:
        raise SystemExit(f"the builds disagree on fct_orders (rows, revenue): {totals}")
    return Measured(
        setup=setup,
        full_build_s=full_build_s,
        no_change_plan_s=no_change_plan_s,
        floor_s=sum(floor_per_model.values()),
        plan_day_before_s=plan_day_before_s,
        daily_run_s=daily_run_s,
        files_added=files_added,
        lookback_share=lookback_share(runs / "full/warehouse.duckdb", day),
        sqlmesh_per_model=seconds_per_model(full_output),
        run_per_model=seconds_per_model(run_output),
        floor_per_model=floor_per_model,
        kinds={model.name: model.kind for model in models},
    )


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "pass" if ok else "MISS"


def summary_rows(m: Measured) -> list[str]:
    scale = f"{m.setup.scale:g}x ({m.setup.orders:,} orders)"
    ratio = m.full_build_s / m.floor_s
    share = m.daily_run_s / m.full_build_s
    max_ratio, max_share = targets(m.setup.scale)
    return [
        f"| {scale} | full build, {len(m.kinds)} models | {m.full_build_s:.1f} s | plain DuckDB "
        f"{m.floor_s:.1f} s | {ratio:.1f}x | <= {max_ratio:g}x: {verdict(ratio <= max_ratio)} |",
        f"| {scale} | daily run, the typical day | {m.daily_run_s:.1f} s | full build "
        f"{m.full_build_s:.1f} s | {share:.0%} | <= {max_share:.0%}: "
        f"{verdict(share <= max_share)} |",
    ]


def seconds_cell(seconds: float | None) -> str:
    return "not run" if seconds is None else f"{seconds:.2f} s"


def by_kind(m: Measured) -> list[str]:
    """Where the time goes: each model kind, and what the commands spend outside the models."""
    lines = [
        "| models | plain DuckDB | SQLMesh full build | SQLMesh daily run |",
        "|---|---:|---:|---:|",
    ]
    for kind in sorted(set(m.kinds.values())):
        names = [name for name, k in m.kinds.items() if k == kind]
        lines.append(
            f"| {len(names)} {kind} | "
            + " | ".join(
                seconds_cell(sum(per_model.get(name, 0.0) for name in names))
                for per_model in (m.floor_per_model, m.sqlmesh_per_model, m.run_per_model)
            )
            + " |"
        )
    full_models = sum(m.sqlmesh_per_model.values())
    run_models = sum(m.run_per_model.values())
    lines += [
        f"| all models (SQLMesh: with their audits) | {m.floor_s:.2f} s | {full_models:.2f} s | "
        f"{run_models:.2f} s |",
        "| outside the models: start-up, project load, unit tests (plan only), state | - | "
        f"{m.full_build_s - full_models:.2f} s | {m.daily_run_s - run_models:.2f} s |",
    ]
    return lines


def detail(m: Measured) -> list[str]:
    s = m.setup
    lines = [
        f"## {s.scale:g}x: {s.orders:,} orders; the daily run's day {s.new_day} (the median-volume "
        "day of the busiest year)",
        "",
        "- set-up (once, reused later): "
        + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in s.seconds.items()),
        f"- the new day: {s.new_day_orders:,} orders placed, {s.changed_orders:,} earlier orders "
        f"changed status; the daily export added {m.files_added} files to the lake",
        f"- a plan with nothing to do takes {m.no_change_plan_s:.1f} s; the plan of the day "
        f"before the daily run (unit tests skipped) {m.plan_day_before_s:.1f} s",
        f"- the daily run rewrites the new day and the {LOOKBACK.days}-day lookback, "
        f"{m.lookback_share:.0%} of fct_orders, and rebuilds every FULL model",
        "",
        *by_kind(m),
        "",
        "| model | kind | plain DuckDB | SQLMesh full build (with audits) | SQLMesh daily run |",
        "|---|---|---:|---:|---:|",
    ]
    for model, floor in m.floor_per_model.items():
        cells = [
            seconds_cell(floor),
            *(seconds_cell(d.get(model)) for d in (m.sqlmesh_per_model, m.run_per_model)),
        ]
        lines.append(f"| {model} | {m.kinds[model]} | " + " | ".join(cells) + " |")
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
    measured = [measure(scale, args.work.resolve()) for scale in args.scale or [1.0]]

    report = [
        "# Warehouse build",
        "",
        "| scale | step | SQLMesh | against | ratio | target |",
        "|---|---|---:|---:|---:|---|",
        *(row for m in measured for row in summary_rows(m)),
    ]
    for m in measured:
        report += ["", *detail(m)]
    text = "\n".join(report)
    print(text)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"warehouse-{time.strftime('%Y%m%d-%H%M%S')}.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
