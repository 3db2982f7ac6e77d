"""The warehouse on Spark against DuckDB: a full build and a daily run, side by side, per scale.

    .venv/bin/python bench/bench_spark.py --scale 1 [--scale 10]

Uses bench_warehouse.py's generated set-up (`data/bench-warehouse/<scale>/`: the lake as of the
day before a typical day D, and the files D's export adds), made once and reused. For each
engine, in a folder of its own:

- **full build**: `sqlmesh plan prod --auto-apply --skip-tests` on the lake as of D-1;
- **daily run**: D's export added to the lake, then `sqlmesh run --ignore-cron`, what
  `olist run` does.

Spark runs in local mode on this machine (`local[*]`, OLIST_SPARK_SHUFFLE_PARTITIONS=4) with
SQLMesh's state in a DuckDB file; each command's time includes starting Python, loading the
project and, for Spark, starting the JVM. The table is printed and written to
`bench/results/spark-<timestamp>.md` (git-ignored), with what else ran on the machine.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench_warehouse import (
    PLAN_PROD,
    REPO_ROOT,
    RESULTS_DIR,
    RUN_PROD,
    VENV_BIN,
    Setup,
    add_new_files,
    day_export,
    prepare,
    project_version,
    run,
    scale_folder,
    snapshot_project,
)
from machine_load import MachineLoad, OtherProcesses, machine_line

ENGINES = ("duckdb", "spark")
SPARK_SETTINGS = {
    "OLIST_GATEWAY": "spark",
    "OLIST_SPARK_MASTER": "local[*]",
    "OLIST_SPARK_SHUFFLE_PARTITIONS": "4",
}


@dataclass(frozen=True)
class Timing:
    scale: float
    engine: str
    orders: int
    full_build_s: float
    daily_run_s: float


def engine_env(engine: str, folder: Path, lake: Path) -> dict[str, str]:
    if engine == "duckdb":
        return {
            "OLIST_LAKE_URL": str(lake),
            "OLIST_WAREHOUSE_PATH": str(folder / "warehouse.duckdb"),
        }
    (folder / "spark").mkdir(parents=True, exist_ok=True)
    return {**SPARK_SETTINGS, "OLIST_LAKE_URL": str(lake), "OLIST_SPARK_DIR": str(folder / "spark")}


def sqlmesh(project: Path, env: dict[str, str], folder: Path, *args: str) -> float:
    no_dotenv = folder / "empty.env"
    no_dotenv.touch()
    command = [str(VENV_BIN / "sqlmesh"), "-p", str(project), "--dotenv", str(no_dotenv), *args]
    return run(command, env, folder)[0]


def measure(setup: Setup, engine: str, work: Path, project: Path) -> Timing:
    """A full build as of D-1 and the daily run of D, on `engine`, from scratch."""
    source = scale_folder(work, setup.scale)
    folder = source / f"engine-{engine}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    lake = folder / "lake"
    shutil.copytree(source / "lake_before", lake)
    env = engine_env(engine, folder, lake)
    full_build = sqlmesh(project, env, folder, *PLAN_PROD, "--skip-tests")
    add_new_files(lake, source / "lake_after", day_export(source))
    daily_run = sqlmesh(project, env, folder, *RUN_PROD)
    return Timing(setup.scale, engine, setup.orders, full_build, daily_run)


def report(timings: list[Timing], others: MachineLoad, version: str) -> list[str]:
    lines = [
        f"# The warehouse on Spark (local mode) and DuckDB, {time.strftime('%Y-%m-%d')}",
        "",
        f"Project {version}. {machine_line(others)}",
        "",
        "| scale | orders | engine | full build | daily run | per million orders (build) |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for t in timings:
        per_million = t.full_build_s / (t.orders / 1e6)
        lines.append(
            f"| {t.scale:g}x | {t.orders:,} | {t.engine} | {t.full_build_s:.1f} s "
            f"| {t.daily_run_s:.1f} s | {per_million:.0f} s |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, action="append", help="scale factor (repeatable)")
    parser.add_argument("--work", type=Path, default=REPO_ROOT / "data/bench-warehouse")
    args = parser.parse_args()
    work = args.work.resolve()
    version, project = project_version(), snapshot_project(work)
    with OtherProcesses() as others:
        timings = [
            measure(prepare(scale, work), engine, work, project)
            for scale in sorted(set(args.scale or [1.0]))
            for engine in ENGINES
        ]
    text = "\n".join(report(timings, others.result(), version))
    print(text)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / f"spark-{time.strftime('%Y%m%d-%H%M%S')}.md").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
