"""Benchmark the bronze layer: our ingest and export against their floors, on the same files.

    .venv/bin/python bench/bench_bronze.py --scale 1 [--scale 10] [--runs 3]

Scale 1 is the issue's "real size" (full Olist customers + orders + order_items, 311,532 rows),
built by replicating the shared sample with new ids (see `scaled_data.py`). Contenders:

    ingest  psycopg-copy (floor)       COPY FROM STDIN of each file into pre-created typed tables
            ours                       ingest.ingest_pipeline.run_ingest
    export  dlt-connectorx (reference) dlt sql_database(backend="connectorx") → local Parquet
            psycopg-copy-arrow (ref.)  COPY (SELECT ...) TO STDOUT → pyarrow CSV → Parquet
            ours                       ingest.export_pipeline.run_export → local folder
            ours → S3 (rclone)         the same into a bucket on `rclone serve s3` (times it too)

Every ingest run gets a fresh PostgreSQL database owned by a non-superuser role; the exports all
read the database the last "ours" ingest loaded. Every timed run is a fresh interpreter
(`contenders.py`), so imports and dlt's first-run costs count for everyone. It is started and
measured by a small launcher (`launcher.py`: wall time, CPU time and peak RSS from wait4, for the
run and its descendants but not the PostgreSQL or rclone servers), so the peak RSS is the run's
own and not inherited from this process.
Runs are interleaved (run 1 of each contender, then run 2, ...) so drift hits all alike.

Prints a Markdown table (median wall seconds, ratio to the floor, peak RSS) and writes it to
`bench/results/<timestamp>.md` (git-ignored). Targets from the issue: ingest ≤ 1.5x the COPY
floor with peak RSS ≤ 1.5 GB at scale 10; export ≤ 1.5x the fastest reference.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

import psycopg
from contenders import RESULT_PREFIX, S3Spec, Spec
from scaled_data import (
    BENCH_TABLES,
    REPO_ROOT,
    ScaledData,
    sample_data,
    scale_label,
    scaled_data,
)

from ingest.tables import Kind, SourceTable

# tests/ has no __init__.py; its server helpers import as a top-level module, as in conftest.py.
sys.path.insert(0, str(REPO_ROOT / "tests"))
from servers import (
    POSTGRES_ADMIN_URL,
    PostgresRole,
    S3Server,
    check_postgres_answers,
    ensure_login_role,
    serve_s3,
    temporary_database,
)

CHILD_SCRIPT = Path(__file__).with_name("contenders.py")
LAUNCHER_SCRIPT = Path(__file__).with_name("launcher.py")
RESULTS_DIR = REPO_ROOT / "bench/results"
PYCACHE_DIR = REPO_ROOT / ".cache/bench-pycache"
BENCH_ROLE = "olist_bench"  # its own role: resetting it never disturbs a test session's role
BENCH_BUCKET_PREFIX = "olist-bench-"
TARGET_RATIO = 1.5
TARGET_PEAK_RSS_MB = 1536.0  # 1.5 GB, the bound for ingest at scale 10
TARGET_RSS_SCALE = 10.0

POSTGRES_TYPES = {
    Kind.ID: "text",
    Kind.ZIP: "text",
    Kind.TEXT: "text",
    Kind.TIMESTAMP: "timestamp",
    Kind.MONEY: "numeric(12,2)",
    Kind.COUNT: "integer",
    Kind.SCORE: "integer",
    Kind.COORDINATE: "double precision",
}


@dataclass(frozen=True)
class Sample:
    """One timed run, measured from outside the child."""

    wall_s: float  # spawn to exit: interpreter start, imports and work
    import_s: float  # the child's own measure of its imports
    cpu_s: float  # the child's user + system CPU time (servers' work is not in it)
    rows: int
    peak_rss_mb: float
    dlt_steps: dict[str, float]  # dlt's extract/normalize/load seconds, for dlt contenders


@dataclass
class Row:
    """One contender at one scale: all its runs."""

    stage: str  # "ingest" or "export"
    label: str
    scale: float
    is_ours: bool = False
    is_reference: bool = False  # a floor: ratios are to the fastest reference of the stage
    samples: list[Sample] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        return statistics.median(s.wall_s for s in self.samples)

    @property
    def median_import_s(self) -> float:
        return statistics.median(s.import_s for s in self.samples)

    @property
    def median_cpu_s(self) -> float:
        return statistics.median(s.cpu_s for s in self.samples)

    @property
    def peak_rss_mb(self) -> float:
        return max(s.peak_rss_mb for s in self.samples)

    @property
    def rows(self) -> int:
        return self.samples[0].rows

    def median_dlt_steps(self) -> dict[str, float]:
        steps = self.samples[0].dlt_steps
        return {step: statistics.median(s.dlt_steps[step] for s in self.samples) for step in steps}


# --------------------------------------------------------------------------------------------
# Running one contender in a fresh interpreter
# --------------------------------------------------------------------------------------------


def _child_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OLIST_", "RUNTIME__"))}
    # Quiet logs as the CLI sets them, and no telemetry: its network calls would time the network.
    env["RUNTIME__LOG_LEVEL"] = "WARNING"
    env["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    # Cached bytecode, as an installed pipeline has after its first run. With
    # PYTHONDONTWRITEBYTECODE (set in some sandboxes) and no .pyc in .venv, every run would
    # recompile dlt, pandas & co. from source: ~4 s a run, which is no cost of the pipeline.
    # The cache lives outside .venv (in the git-ignored .cache/), so the venv is left untouched.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE_DIR)
    return env


def run_child(spec: Spec, expected_rows: int) -> Sample:
    """Run one contender in a fresh interpreter, through the launcher that measures it."""
    run_dir = Path(spec["run_dir"])
    stdout_path, stderr_path = run_dir / "stdout.txt", run_dir / "stderr.txt"
    measured_path = run_dir / "measured.json"
    command = [sys.executable, str(CHILD_SCRIPT), json.dumps(spec)]
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        subprocess.run(
            [sys.executable, str(LAUNCHER_SCRIPT), str(measured_path), "--", *command],
            cwd=run_dir,  # no project .env or .dlt/ config can leak into a run
            env=_child_environment(),
            stdout=stdout,
            stderr=stderr,
            check=True,
        )
    measured = json.loads(measured_path.read_text())
    output = stdout_path.read_text(errors="replace")
    results = [line for line in output.splitlines() if line.startswith(RESULT_PREFIX)]
    if measured["exit_code"] != 0 or not results:
        raise RuntimeError(
            f"{spec['contender']} failed (exit {measured['exit_code']}); its stderr:\n"
            + stderr_path.read_text(errors="replace")[-5000:]
        )
    result = json.loads(results[-1].removeprefix(RESULT_PREFIX))
    if result["rows"] != expected_rows:
        raise RuntimeError(
            f"{spec['contender']} handled {result['rows']:,} rows, expected {expected_rows:,}"
        )
    return Sample(
        wall_s=measured["wall_s"],
        import_s=result["import_s"],
        cpu_s=measured["cpu_s"],
        rows=result["rows"],
        peak_rss_mb=measured["peak_rss_kib"] / 1024,
        dlt_steps=result["steps"],
    )


@contextmanager
def run_directory(parent: Path, name: str) -> Iterator[Path]:
    """A fresh folder for one run (dlt state, temp files, local lake), removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=parent))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# Ingest contenders
# --------------------------------------------------------------------------------------------


def _floor_table_ddl(table: SourceTable) -> str:
    columns = ", ".join(
        f"{c.name} {POSTGRES_TYPES[c.kind]}{'' if c.nullable else ' NOT NULL'}"
        for c in table.columns
    )
    return f"CREATE TABLE raw.{table.name} ({columns})"


def create_floor_tables(url: str) -> None:
    """The COPY floor's tables, created before its timer starts (ours creates its own)."""
    with psycopg.connect(url) as con:
        con.execute("CREATE SCHEMA raw")
        for table in BENCH_TABLES:
            con.execute(_floor_table_ddl(table))


def _ingest_spec(contender: str, url: str, run_dir: Path, data: ScaledData) -> Spec:
    return Spec(
        contender=contender,
        staging_url=url,
        run_dir=str(run_dir),
        tables=[t.name for t in BENCH_TABLES],
        source_dir=str(data.directory),
        files={t.name: t.file_name for t in BENCH_TABLES},
    )


def bench_ingest_copy(role: PostgresRole, workdir: Path, data: ScaledData) -> Sample:
    with (
        temporary_database(POSTGRES_ADMIN_URL, owner=role.user) as database,
        run_directory(workdir, "ingest-copy") as run_dir,
    ):
        url = role.url(database)
        create_floor_tables(url)
        spec = _ingest_spec("ingest-psycopg-copy", url, run_dir, data)
        return run_child(spec, data.total_rows)


def bench_ingest_ours(
    role: PostgresRole, workdir: Path, data: ScaledData, keep: ExitStack
) -> tuple[Sample, str]:
    """Time our ingest into a fresh database; `keep` owns that database (the export source)."""
    url = role.url(keep.enter_context(temporary_database(POSTGRES_ADMIN_URL, owner=role.user)))
    with run_directory(workdir, "ingest-ours") as run_dir:
        spec = _ingest_spec("ingest-ours", url, run_dir, data)
        return run_child(spec, data.total_rows), url


# --------------------------------------------------------------------------------------------
# Export contenders
# --------------------------------------------------------------------------------------------


def _export_spec(contender: str, url: str, run_dir: Path) -> Spec:
    return Spec(
        contender=contender,
        staging_url=url,
        run_dir=str(run_dir),
        tables=[t.name for t in BENCH_TABLES],
        lake_url=str(run_dir / "lake"),
    )


def bench_export_dlt_connectorx(url: str, workdir: Path, rows: int) -> Sample:
    with run_directory(workdir, "export-dlt") as run_dir:
        return run_child(_export_spec("export-dlt-connectorx", url, run_dir), rows)


def bench_export_copy_arrow(url: str, workdir: Path, rows: int) -> Sample:
    with run_directory(workdir, "export-copy") as run_dir:
        return run_child(_export_spec("export-psycopg-copy-arrow", url, run_dir), rows)


def bench_export_ours(url: str, workdir: Path, rows: int) -> Sample:
    with run_directory(workdir, "export-ours") as run_dir:
        return run_child(_export_spec("export-ours", url, run_dir), rows)


def bench_export_ours_s3(url: str, workdir: Path, rows: int, server: S3Server) -> Sample:
    bucket = server.create_bucket(f"{BENCH_BUCKET_PREFIX}{secrets.token_hex(6)}")
    try:
        with run_directory(workdir, "export-ours-s3") as run_dir:
            spec = _export_spec("export-ours", url, run_dir)
            spec["lake_url"] = f"{bucket}/lake"
            spec["s3"] = S3Spec(
                endpoint_url=server.endpoint_url,
                access_key_id=server.access_key_id,
                secret_access_key=server.secret_access_key,
            )
            return run_child(spec, rows)
    finally:
        # Buckets are folders under the server's root; removing one keeps the disk from filling.
        shutil.rmtree(server.root / bucket.removeprefix("s3://"), ignore_errors=True)


# --------------------------------------------------------------------------------------------
# One scale
# --------------------------------------------------------------------------------------------


def bench_scale(
    data: ScaledData, runs: int, role: PostgresRole, workdir: Path, s3: S3Server | None
) -> list[Row]:
    scale = data.scale
    copy = Row("ingest", "ingest: psycopg COPY FROM STDIN (floor)", scale, is_reference=True)
    ours_in = Row("ingest", "ingest: ours (run_ingest)", scale, is_ours=True)
    dlt_cx = Row("export", "export: dlt sql_database connectorx (ref)", scale, is_reference=True)
    copy_arrow = Row("export", "export: psycopg COPY TO → pyarrow (ref)", scale, is_reference=True)
    ours_out = Row("export", "export: ours (run_export) → local", scale, is_ours=True)
    ours_s3 = Row("export", "export: ours (run_export) → S3 rclone", scale)

    with ExitStack() as export_source:
        url = ""
        for run in range(1, runs + 1):
            print(f"  scale {scale_label(scale)} ingest run {run}/{runs}", flush=True)
            copy.samples.append(bench_ingest_copy(role, workdir, data))
            # Only the last run's database is kept (for the exports); earlier ones drop now.
            with ExitStack() as this_run:
                sample, url = bench_ingest_ours(role, workdir, data, this_run)
                ours_in.samples.append(sample)
                if run == runs:
                    export_source.push(this_run.pop_all())

        for run in range(1, runs + 1):
            print(f"  scale {scale_label(scale)} export run {run}/{runs}", flush=True)
            rows = data.total_rows
            dlt_cx.samples.append(bench_export_dlt_connectorx(url, workdir, rows))
            copy_arrow.samples.append(bench_export_copy_arrow(url, workdir, rows))
            ours_out.samples.append(bench_export_ours(url, workdir, rows))
            if s3 is not None:
                ours_s3.samples.append(bench_export_ours_s3(url, workdir, rows, s3))

    rows_ = [copy, ours_in, dlt_cx, copy_arrow, ours_out]
    return [*rows_, ours_s3] if s3 is not None else rows_


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def floor_seconds(rows: list[Row], stage: str, scale: float) -> float:
    """The stage's floor at a scale: the fastest reference's median."""
    return min(r.median_s for r in rows if r.stage == stage and r.scale == scale and r.is_reference)


def results_table(rows: list[Row]) -> str:
    lines = [
        "| contender | scale | rows | median s | runs | ratio to floor | peak RSS MB "
        "| import s | CPU s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ratio = r.median_s / floor_seconds(rows, r.stage, r.scale)
        lines.append(
            f"| {r.label} | {scale_label(r.scale)} | {r.rows:,} | {r.median_s:.2f} "
            f"| {len(r.samples)} | {ratio:.2f}x | {r.peak_rss_mb:,.0f} | {r.median_import_s:.2f} "
            f"| {r.median_cpu_s:.2f} |"
        )
    return "\n".join(lines)


def dlt_step_lines(rows: list[Row]) -> list[str]:
    """Where the dlt contenders' time goes; the rest of their wall time is start-up, imports
    and the code around the pipeline run."""
    lines = []
    for r in rows:
        steps = r.median_dlt_steps()
        if steps:
            parts = ", ".join(f"{step} {seconds:.2f}" for step, seconds in steps.items())
            lines.append(
                f"- {r.label}, scale {scale_label(r.scale)}: {parts} (of {r.median_s:.2f} s)"
            )
    return lines


def verdicts(rows: list[Row]) -> list[str]:
    """The issue's targets, checked for every scale that was run."""
    lines = []
    for r in (r for r in rows if r.is_ours):
        ratio = r.median_s / floor_seconds(rows, r.stage, r.scale)
        verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
        floor = "the COPY floor" if r.stage == "ingest" else "the fastest reference"
        lines.append(
            f"- scale {scale_label(r.scale)} {r.stage}: ours {ratio:.2f}x {floor} "
            f"(target ≤ {TARGET_RATIO}x): **{verdict}**"
        )
        if r.stage == "ingest" and r.scale >= TARGET_RSS_SCALE:
            verdict = "PASS" if r.peak_rss_mb <= TARGET_PEAK_RSS_MB else "FAIL"
            lines.append(
                f"- scale {scale_label(r.scale)} ingest peak RSS: {r.peak_rss_mb:,.0f} MB "
                f"(target ≤ {TARGET_PEAK_RSS_MB:,.0f} MB): **{verdict}**"
            )
    return lines


def code_version() -> str:
    """The commit, and a digest of ingest/*.py: the code under test may be edited while we run."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    dirty = " + uncommitted changes" if git("status", "--porcelain", "--", "ingest") else ""
    digest = hashlib.sha256()
    for path in sorted((REPO_ROOT / "ingest").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    commit = git("rev-parse", "--short", "HEAD")
    return f"{commit}{dirty}, ingest/*.py sha256 {digest.hexdigest()[:12]}"


def load_average() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min), {five:.1f} (5 min)"


@dataclass(frozen=True)
class Conditions:
    """The code and the machine's load when the benchmark started, to compare with the end."""

    started: datetime
    code: str
    load_average: str

    @classmethod
    def now(cls) -> Conditions:
        return cls(datetime.now(), code_version(), load_average())


def _postgres_version() -> str:
    with psycopg.connect(POSTGRES_ADMIN_URL) as con:
        row = con.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def environment_lines(before: Conditions) -> list[str]:
    packages = ", ".join(
        f"{name} {version(name)}" for name in ("dlt", "duckdb", "connectorx", "pyarrow", "psycopg")
    )
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    code_now = code_version()
    code = before.code if code_now == before.code else f"{before.code} → {code_now} (CHANGED)"
    return [
        f"- code: {code}",
        f"- machine: {os.cpu_count()} CPUs, {memory_gb:.0f} GB RAM, {platform.platform()}",
        f"- Python {platform.python_version()}, PostgreSQL {_postgres_version()} on 127.0.0.1",
        f"- {packages}",
        f"- load average before: {before.load_average}; after: {load_average()} (other work "
        "on the machine slows every contender; compare ratios more than seconds)",
    ]


def data_lines(datasets: list[ScaledData]) -> list[str]:
    return [
        f"- scale {scale_label(d.scale)}: {d.copies} copies of the sample, "
        + ", ".join(f"{name} {count:,}" for name, count in d.rows.items())
        + f" = {d.total_rows:,} rows ({d.directory.relative_to(REPO_ROOT)}/)"
        for d in datasets
    ]


def markdown_report(rows: list[Row], datasets: list[ScaledData], before: Conditions) -> str:
    return "\n".join(
        [
            f"# Bronze benchmark, {before.started:%Y-%m-%d %H:%M}",
            "",
            "Median wall seconds per run (fresh interpreter: start-up, imports and work); "
            "`import s` is the part spent importing, `CPU s` the run's own CPU time (the servers' "
            "is not in it). Ingest ratios are to the COPY floor, export ratios to the fastest "
            "reference. Peak RSS is the run's own process tree (not the PostgreSQL or rclone "
            "servers). The S3 row also times the rclone server. Every contender ran once on the "
            "sample, untimed, before the timed runs (bytecode cache, PostgreSQL catalogs).",
            "",
            results_table(rows),
            "",
            "Targets:",
            "",
            *verdicts(rows),
            "",
            "dlt steps (median seconds; the rest is start-up, imports and code around dlt):",
            "",
            *dlt_step_lines(rows),
            "",
            "Data:",
            "",
            *data_lines(datasets),
            "",
            "Environment:",
            "",
            *environment_lines(before),
            "",
        ]
    )


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--scale",
        type=float,
        action="append",
        help="data size as a multiple of the real Olist size (repeatable; default 1)",
    )
    parser.add_argument("--runs", type=int, default=3, help="timed runs per contender (median)")
    parser.add_argument("--no-s3", action="store_true", help="skip the export into rclone S3")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    scales: list[float] = args.scale or [1.0]
    check_postgres_answers(POSTGRES_ADMIN_URL)
    role = ensure_login_role(POSTGRES_ADMIN_URL, BENCH_ROLE)
    datasets = [scaled_data(scale) for scale in scales]
    before = Conditions.now()

    rows: list[Row] = []
    with ExitStack() as stack:
        workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="olist-bench-")))
        s3 = None if args.no_s3 else stack.enter_context(serve_s3(workdir / "s3"))
        # Untimed: fills the bytecode cache (modules dlt imports lazily too) and warms PostgreSQL,
        # so the first timed contender is not the one that pays for it.
        print("warm-up on the sample (untimed)", flush=True)
        bench_scale(sample_data(), 1, role, workdir, s3)
        for data in datasets:
            print(f"scale {scale_label(data.scale)}: {data.total_rows:,} rows", flush=True)
            rows.extend(bench_scale(data, args.runs, role, workdir, s3))

    report = markdown_report(rows, datasets, before)
    print()
    print(report)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{before.started:%Y%m%dT%H%M%S}.md"
    path.write_text(report)
    print(f"written to {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
