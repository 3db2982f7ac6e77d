"""Summaries printed at the end of a run: rows per table, quarantine counts by reason."""

from __future__ import annotations

from collections import Counter

from rich.markup import escape
from rich.table import Table

from ingest.config import Settings
from ingest.console import console
from ingest.export_pipeline import ExportOutcome
from ingest.ingest_pipeline import TableOutcome

# Reasons vary in their values ("got -5.00"); group quarantined rows by the part before that.
_REASON_GROUP_CUT = (", got ", " (", ": the row on line ")


def reason_group(reason: str) -> str:
    first = reason.split("; ")[0]
    for cut in _REASON_GROUP_CUT:
        first = first.split(cut)[0]
    return first


def print_ingest_report(outcomes: list[TableOutcome], settings: Settings) -> None:
    table = Table(title=f"olist ingest → {settings.staging_display}")
    for column in ("table", "source rows", "new or changed", "unchanged", "quarantined", "note"):
        table.add_column(column, justify="left" if column in ("table", "note") else "right")
    for o in outcomes:
        if o.skipped:
            table.add_row(o.table, "", "", "", "", "file unchanged, skipped")
            continue
        c = o.counts
        counts = (c.source_rows, c.loaded_rows, c.unchanged_rows, len(c.rejections))
        table.add_row(o.table, *(f"{n:,}" for n in counts), "")
    console.print(table)
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
    table = Table(title=f"olist export → {settings.lake_url}")
    table.add_column("bronze table")
    table.add_column("lake folder")
    table.add_column("rows written", justify="right")
    for o in outcomes:
        table.add_row(o.table, f"{o.lake_folder}/", f"{o.rows_written:,}")
    console.print(table)
    if not any(o.rows_written for o in outcomes):
        console.print("Nothing new since the last export: no files written.")
