"""The `olist` command line: the project's own front door to its pipelines.

    olist ingest --source DIR   load the nine Olist CSV files into the staging database
    olist export                land new bronze rows in the lake as Parquet
    olist run [--source DIR]    ingest + export + build the warehouse, with a summary
    olist generate --sf F --out DIR
                                write a synthetic Olist data set at scale factor F
    olist snapshot --source DIR --as-of DATE --out DIR
                                write the nine files as they looked on DATE (for replays)
    olist plan-diff --base REF  the working tree's SQLMesh changes against REF: plan, backfill,
                                data diff, unit tests and audits, as Markdown
    olist docs [--out DIR]      the static site: report, data quality, model docs and lineage

Errors the user can act on are printed as one clear message (no traceback) with exit code 1.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.markup import escape

from ingest.tables import TABLES, TABLES_BY_NAME
from olist.config import ConfigError, load_settings, parse_scale
from olist.console import console, errors, print_error
from olist.errors import PipelineError
from olist.progress import rows_progress

if TYPE_CHECKING:
    from olist.config import Settings
    from olist.site.build import SiteOutcome


def _parse_tables(value: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in TABLES_BY_NAME]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown table(s) {', '.join(unknown)}; choose from {', '.join(TABLES_BY_NAME)}"
        )
    return names


def _cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.ingest_pipeline import run_ingest
    from olist.reports import print_ingest_report

    settings = load_settings()
    tables = [TABLES_BY_NAME[n] for n in args.tables] if args.tables else list(TABLES)
    with rows_progress("reading") as on_rows:
        outcomes = run_ingest(settings, Path(args.source), tables, on_rows)
    print_ingest_report(outcomes, settings)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from ingest.export_pipeline import run_export
    from olist.reports import print_export_report

    settings = load_settings()
    with rows_progress("exporting") as on_rows:
        outcomes = run_export(settings, on_rows)
    print_export_report(outcomes, settings)
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from olist.reports import print_export_report, print_ingest_report, print_run_summary
    from olist.run import run_pipeline
    from olist.synthetic.generate import print_generate_report

    settings = load_settings()
    printers = {
        "generate": print_generate_report,
        "ingest": lambda outcomes: print_ingest_report(outcomes, settings),
        "export": lambda outcomes: print_export_report(outcomes, settings),
    }
    with rows_progress("working on") as on_rows:
        outcome = run_pipeline(
            settings,
            Path(args.source) if args.source else None,
            on_rows,
            lambda stage, result: printers[stage](result),
        )
    print_run_summary(outcome)
    if settings.gateway == "spark":
        console.print(f"Site: not built: {SITE_NEEDS_DUCKDB}", highlight=False, soft_wrap=True)
        return 0
    try:
        site = _build_site(settings, None)
    except PipelineError as error:
        # The warehouse is built and kept: only the site is missing, and `olist docs` retries it.
        errors.print(
            f"[bold red]error:[/] the site was not built: {escape(str(error).rstrip('.'))}. "
            "The warehouse is up to date: only the site is missing (`olist docs` builds it).",
            highlight=False,
        )
        return 1
    _print_site(site)
    return 0


# The site reads the DuckDB warehouse file (read-only, beside the pipeline); Spark's tables are
# not in one.
SITE_NEEDS_DUCKDB = (
    "the site reads the DuckDB warehouse, and the spark gateway builds Spark tables "
    "(OLIST_GATEWAY=local or full builds the site)."
)


def _build_site(settings: Settings, out: Path | None) -> SiteOutcome:
    from olist.site.build import build_site

    return build_site(settings, out if out is not None else settings.data_dir / "site")


def _print_site(site: SiteOutcome) -> None:
    console.print(
        f"Site: {site.index} ({site.pages} pages, built in {site.seconds:.1f} s); open it in a "
        "browser, no server needed.",
        highlight=False,
        soft_wrap=True,  # a path split across lines cannot be copied
    )


def _cmd_docs(args: argparse.Namespace) -> int:
    settings = load_settings()
    if settings.gateway == "spark":
        raise PipelineError(f"olist docs: {SITE_NEEDS_DUCKDB}")
    site = _build_site(settings, Path(args.out) if args.out else None)
    _print_site(site)
    return 0


def _positive_scale(value: str) -> float:
    try:
        return parse_scale(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _cmd_generate(args: argparse.Namespace) -> int:
    from olist.synthetic.generate import generate, print_generate_report

    with rows_progress("generating") as on_rows:
        result = generate(Path(args.out), args.sf, args.seed, on_rows=on_rows)
    print_generate_report(result)
    return 0


def _parse_as_of(value: str) -> str:
    from olist.snapshot.cutoff import parse_as_of

    try:
        return parse_as_of(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _cmd_snapshot(args: argparse.Namespace) -> int:
    from olist.snapshot.cutoff import print_snapshot_report, take_snapshot

    result = take_snapshot(Path(args.source), Path(args.out), args.as_of)
    print_snapshot_report(result)
    return 0


def _cmd_plan_diff(args: argparse.Namespace) -> int:
    from olist.plan_diff.report import render
    from olist.plan_diff.run import DEFAULT_SCALE, PlanDiffRequest, run_plan_diff

    request = PlanDiffRequest(
        base=args.base,
        source=Path(args.source) if args.source else None,
        scale=args.sf or DEFAULT_SCALE,
        environment=args.env,
        work=Path(args.work) if args.work else None,
    )

    def progress(message: str) -> None:
        errors.print(f"plan-diff: {escape(message)}", highlight=False)

    with rows_progress("loading") as on_rows:
        result, work = run_plan_diff(load_settings(), request, on_rows, progress)
    report = render(result)
    output = Path(args.output) if args.output else work.report
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(report, encoding="utf-8")
    sys.stdout.write(report)  # plain: rich would take the report's [brackets] for markup
    progress(f"report written to {output}")
    if result.failed:
        errors.print(
            "[bold red]plan-diff:[/] the change fails to plan, build, pass a unit test or an "
            "audit; the report says where.",
            highlight=False,
        )
        return 1
    return 0


# What an interrupted command leaves behind: the pipelines resume, the file writers swap folders.
_RERUN_RESUMES = "a rerun resumes where this run stopped"
_NOTHING_WRITTEN = "nothing was written (the output folder is as it was)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="olist", description=__doc__.split("\n\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="show dlt's own logs")
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="load the Olist CSV files into staging")
    ingest.add_argument("--source", required=True, help="folder holding the nine Olist CSVs")
    ingest.add_argument(
        "--tables", type=_parse_tables, help="comma-separated subset of tables (default: all)"
    )
    ingest.set_defaults(handler=_cmd_ingest)

    export = commands.add_parser("export", help="land new bronze rows in the lake as Parquet")
    export.set_defaults(handler=_cmd_export)

    run = commands.add_parser(
        "run",
        help="the whole pipeline: ingest, export, build the warehouse, print a summary",
        description=(
            "Load the source into staging, export it to the lake and build the SQLMesh warehouse "
            "(plan and apply prod), then summarise every layer. The source is --source, else "
            "the CSVs in <data dir>/seeds/, else a demo data set generated once into "
            "<data dir>/demo/ at scale OLIST_DEMO_SF (default 1, the real size). A rerun on "
            "unchanged data computes nothing."
        ),
    )
    run.add_argument("--source", help="folder holding the nine Olist CSVs (default: see above)")
    run.set_defaults(handler=_cmd_run)

    generate = commands.add_parser(
        "generate",
        help="write a synthetic Olist data set of any size",
        description=(
            "Write the nine Olist files with synthetic data calibrated on the real data, at scale "
            "factor F (1 = the real size: 99,441 orders; 0.01 for a quick test). The same seed "
            "and scale give byte-identical files. The folder is written whole or not at all."
        ),
    )
    generate.add_argument(
        "--sf", required=True, type=_positive_scale, metavar="F", help="scale factor, e.g. 0.1"
    )
    generate.add_argument(
        "--out",
        required=True,
        help="folder to write to; replaced whole if it holds only Olist files",
    )
    generate.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    generate.set_defaults(handler=_cmd_generate, on_interrupt=_NOTHING_WRITTEN)

    snapshot = commands.add_parser(
        "snapshot",
        help="write the nine Olist files as they looked on a past date",
        description=(
            "Write the nine Olist files as they looked at the cutoff: orders purchased by then, "
            "with the timestamps and status they had then (later timestamps blank, status "
            "rolled back: delivered -> shipped -> approved -> created); their items and "
            "payments; reviews created by then; the customers, products and sellers they "
            "reference; geolocation and the category translation copied whole. Unchanged rows "
            "keep their original bytes: a cutoff after the last event reproduces the source "
            "exactly. The folder is written whole or not at all."
        ),
    )
    snapshot.add_argument(
        "--source", required=True, help="folder holding the nine Olist CSVs (real or generated)"
    )
    snapshot.add_argument(
        "--as-of",
        required=True,
        type=_parse_as_of,
        metavar="DATE",
        help="the cutoff, inclusive: YYYY-MM-DD (up to the end of that day, 23:59:59) or "
        "'YYYY-MM-DD HH:MM:SS' (up to that instant)",
    )
    snapshot.add_argument(
        "--out",
        required=True,
        help="folder to write the snapshot to; replaced whole if it holds only Olist files, "
        "never the source folder",
    )
    snapshot.set_defaults(handler=_cmd_snapshot, on_interrupt=_NOTHING_WRITTEN)

    plan_diff = commands.add_parser(
        "plan-diff",
        help="what the working tree's SQLMesh changes do to the data, against a base commit",
        description=(
            "Build prod from the base commit on a small data set in a throwaway work folder, "
            "plan the working tree (uncommitted changes included) into the environment "
            "pr_<branch> next to it, and write a Markdown report: modified models with their "
            "change category and SQL diff, intervals to backfill, a data diff against prod for "
            "every directly modified model, unit tests and audits. Prod is kept for the next "
            "run while the base commit and data set are unchanged. Exit code 1 when the change "
            "fails to plan, build, pass a unit test or an audit (the report is written anyway)."
        ),
    )
    plan_diff.add_argument("--base", required=True, metavar="REF", help="git ref to compare with")
    plan_diff.add_argument("--env", help="environment to plan into (default: pr_<current branch>)")
    data = plan_diff.add_mutually_exclusive_group()
    data.add_argument("--source", help="folder of Olist CSVs to build from (default: generated)")
    data.add_argument(
        "--sf",
        type=_positive_scale,
        metavar="F",
        help="scale of the generated data set (default 0.01: 994 orders)",
    )
    plan_diff.add_argument("--work", help="throwaway work folder (default: <data dir>/plan-diff)")
    plan_diff.add_argument("--output", help="report file (default: <work folder>/report.md)")
    plan_diff.set_defaults(handler=_cmd_plan_diff)

    docs = commands.add_parser(
        "docs",
        help="build the static site: report, data quality, model docs and column lineage",
        description=(
            "Write a static site from the warehouse and the SQLMesh project: the report (key "
            "figures and charts, every number read from a mart), data quality (rows per layer, "
            "quarantined rows, audits, freshness) and a page per model with its columns and "
            "their lineage back to the lake, plus the model graph. It opens from file:// with "
            "no network. The folder is replaced whole, and only if it holds a site built here."
        ),
    )
    docs.add_argument("--out", help="folder to write the site to (default: <data dir>/site)")
    docs.set_defaults(handler=_cmd_docs)
    return parser


def _configure_logging(verbose: bool) -> None:
    if verbose:  # dlt reads its log level from the environment (see ingest.dlt_defaults)
        os.environ.setdefault("RUNTIME__LOG_LEVEL", "INFO")
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING)
    if not verbose:
        # A connection dropped mid-upload (S3 gone) leaves aiohttp tasks whose errors asyncio
        # logs as tracebacks; the failure itself reaches the user as one sentence.
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)


# Files olist creates (staging and warehouse databases, the local lake, dlt's state, the site)
# are readable by their owner only: the data holds people's purchases and places.
PRIVATE_UMASK = 0o077


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    os.umask(PRIVATE_UMASK)
    try:
        return args.handler(args)
    except (PipelineError, ConfigError) as error:
        print_error(error)
        return 1
    except KeyboardInterrupt:
        errors.print(f"interrupted; {getattr(args, 'on_interrupt', _RERUN_RESUMES)}")
        return 130


if __name__ == "__main__":
    sys.exit(main())
