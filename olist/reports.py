"""Summaries printed at the end of a run: rows per table, quarantine counts by reason."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from ingest.export_pipeline import ExportOutcome
from ingest.ingest_pipeline import REJECTED_TABLE, TableOutcome
from ingest.tables import TABLES
from olist.config import Settings
from olist.console import console, print_table
from olist.run import RunOutcome
from olist.warehouse.build import WarehouseOutcome
from olist.warehouse.row_counts import STAGING_MODELS

# Reasons vary in their values ("got -5.00"); group quarantined rows by the part before that.
_REASON_GROUP_CUT = (", got ", " (", ": the row on line ")


def reason_group(reason: str) -> str:
    first = reason.split("; ")[0]
    for cut in _REASON_GROUP_CUT:
        first = first.split(cut)[0]
    return first


def print_ingest_report(outcomes: list[TableOutcome], settings: Settings) -> None:
    table = Table()
    for column in ("table", "source rows", "new or changed", "unchanged", "quarantined", "note"):
        table.add_column(column, justify="left" if column in ("table", "note") else "right")
    for o in outcomes:
        if o.skipped:
            table.add_row(o.table, "", "", "", "", "file unchanged, skipped")
            continue
        c = o.counts
        counts = (c.source_rows, c.loaded_rows, c.unchanged_rows, len(c.rejections))
        table.add_row(o.table, *(f"{n:,}" for n in counts), "")
    print_table(table, f"olist ingest → {settings.staging_display}")
    quarantined = [(o.table, r) for o in outcomes for r in o.counts.rejections]
    if not quarantined:
        return
    counts = Counter((name, reason_group(r.reason)) for name, r in quarantined)
    console.print(
        f"[yellow]{len(quarantined):,} row(s) quarantined[/] in raw.rejected_rows "
        "(each with its file, line, reason and raw text):"
    )
    for (name, reason), count in sorted(counts.items()):
        rows = "row" if count == 1 else "rows"
        console.print(f"  {name}: {count:,} {rows}: {escape(reason)}", highlight=False)


def print_export_report(outcomes: list[ExportOutcome], settings: Settings) -> None:
    table = Table()
    table.add_column("bronze table")
    table.add_column("lake folder")
    table.add_column("rows written", justify="right")
    for o in outcomes:
        table.add_row(o.table, f"{o.lake_folder}/", f"{o.rows_written:,}")
    print_table(table, f"olist export → {settings.lake_url}")
    finished = [o for o in outcomes if o.rows_finished]
    if finished:
        rows = ", ".join(f"{o.table} {o.rows_finished:,}" for o in finished)
        console.print(
            f"Finished an interrupted export first; rows it had left unwritten: {rows}.",
            highlight=False,
        )
    if not any(o.rows_written for o in outcomes):
        console.print("Nothing new since the last export: no files written.")


# Shown at the end of `olist run`: the original project's two queries, runnable as they are.
EXAMPLE_QUERIES = (
    "SELECT * FROM marts.daily_sales_summary ORDER BY order_purchase_date DESC LIMIT 10",
    "SELECT * FROM marts.top_customers LIMIT 20",
)


def print_run_summary(outcome: RunOutcome) -> None:
    """Rows per layer, quarantine, audits, time per stage, where the warehouse is, what to try."""
    warehouse = outcome.warehouse
    layers = Table()
    layers.add_column("bronze table (raw.*)")
    layers.add_column("rows", justify="right")
    layers.add_column("silver (staging.*)")
    layers.add_column("rows", justify="right")
    for table in TABLES:
        model = f"staging.{STAGING_MODELS[table.name]}"
        current = warehouse.models.get(model)
        layers.add_row(
            table.name,
            f"{outcome.bronze_rows.get(table.name, 0):,}",
            model.removeprefix("staging."),
            f"{current.rows:,}" if current else "-",
        )
    print_table(layers, "olist run: rows per layer")
    print_table(_warehouse_models(warehouse), "warehouse models (staging, intermediate, marts)")

    quarantined = outcome.bronze_rows.get(REJECTED_TABLE, 0)
    console.print(
        f"Quarantined rows: {quarantined:,}"
        + (" (raw.rejected_rows holds each with its reason)" if quarantined else "")
    )
    audits = (
        f"{warehouse.models_built} model(s) computed, {warehouse.audits_passed} audit(s) passed"
        if warehouse.models_built
        else "nothing to compute"
    )
    console.print(f"Warehouse {warehouse.action}; {audits}.")
    times = ", ".join(f"{stage} {s:.1f} s" for stage, s in outcome.stage_seconds.items())
    total = sum(outcome.stage_seconds.values())
    console.print(f"Time: {times}; total {total:.1f} s.")
    console.print(f"Warehouse {warehouse.location}")
    console.print("Try:")
    for query in EXAMPLE_QUERIES:
        console.print(f'  {_sqlmesh_command()} fetchdf "{query}"', highlight=False)


def _warehouse_models(warehouse: WarehouseOutcome) -> Table:
    """Every model's rows, and what this update took in and wrote (`-`: not computed)."""
    table = Table()
    table.add_column("model")
    table.add_column("rows", justify="right")
    table.add_column("new rows in", justify="right")
    table.add_column("rows written", justify="right")
    for name, model in warehouse.models.items():
        table.add_row(
            name,
            f"{model.rows:,}",
            "-" if model.rows_in is None else f"{model.rows_in:,}",
            "-" if model.rows_written is None else f"{model.rows_written:,}",
        )
    return table


def _sqlmesh_command() -> str:
    """This environment's sqlmesh, as short as it can be written from here (.venv/bin/sqlmesh)."""
    sqlmesh = Path(sys.executable).parent / "sqlmesh"
    try:
        return str(sqlmesh.relative_to(Path.cwd()))
    except ValueError:
        return str(sqlmesh)
