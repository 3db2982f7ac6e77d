"""`olist snapshot`: the nine Olist files as they looked at a moment in the past.

The warehouse's incremental tests and the demo's "a new day arrives" replay load the data as of
month M, then as of month M+1. This module cuts any Olist-format data set (real or generated) at
a cutoff and writes what the source system would have exported then:

- Cutoff: `YYYY-MM-DD` means the end of that day (`23:59:59`), `YYYY-MM-DD HH:MM:SS` that
  instant; events at the cutoff count as happened. Timestamps are compared as text, which orders
  them correctly because the format is fixed-width; a timestamp that is not in that format stops
  the run, naming the file, line and column (at every cutoff, not only where it matters).
- Orders purchased by the cutoff are kept. Their approval, carrier pickup and customer delivery
  times are blanked when later than the cutoff; the estimated delivery date is known at purchase
  and kept. When nothing was blanked the final status stays (canceled, unavailable, invoiced,
  processing orders and the few `delivered` orders without a delivery date included); otherwise
  it is the status of the latest stage reached: delivered, shipped, approved, or created.
- Items and payments exist from their order's purchase: kept with their order. Reviews are kept
  once created (`review_creation_date` by the cutoff) if their order is kept; their answer
  timestamp is kept even when later, since blanking it would create nulls the real data never
  has.
- Customers are those of kept orders; products and sellers those of kept items. Geolocation and
  the category translation file are copied whole.
- Byte-faithful: rows keep their source order and every record the snapshot does not change is
  written with its original bytes (irregular quoting, CRLF inside reviews, BOM); only orders
  rolled back are re-serialised (minimal quoting, the file's line break). A snapshot after the
  last event is therefore byte-identical to the source.
- Atomic (`olist.output_folder`): the files are written to a hidden folder next to `--out`,
  which replaces `--out` whole only once all nine are complete; an error removes it. `--out`
  must not be the source folder, and an existing `--out` is replaced only if it holds nothing
  but Olist files.

Memory holds only the sets of kept order, customer, product and seller ids; the files stream.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from rich.table import Table

from ingest.tables import TABLES
from olist.console import console, print_table
from olist.errors import PipelineError
from olist.output_folder import check_replaceable, replaced_whole
from olist.snapshot.olist_csv import CsvRow, OlistCsv, format_record

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
END_OF_DAY = " 23:59:59"
AS_OF_FORMATS = "YYYY-MM-DD (the end of that day) or 'YYYY-MM-DD HH:MM:SS' (that instant)"
TIMESTAMP_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")

# The statuses an order moves through, in order (it may skip some), and the ones it can end in
# from any point of that lifecycle and never leaves.
ORDER_LIFECYCLE = ("created", "approved", "invoiced", "processing", "shipped", "delivered")
ORDER_ENDINGS = frozenset({"canceled", "unavailable"})
# The timestamped stages, earliest first, and the status an order has once it reached each. An
# order with none of them is `created` (some orders were picked up before their approval was
# recorded: the latest stage reached, not the latest time, gives the status).
ORDER_STAGES = (
    ("order_approved_at", "approved"),
    ("order_delivered_carrier_date", "shipped"),
    ("order_delivered_customer_date", "delivered"),
)

# Copied byte for byte: neither changes as orders come in.
COPIED_TABLES = ("geolocation", "product_category_name_translation")


def parse_as_of(value: str) -> str:
    """The cutoff `YYYY-MM-DD HH:MM:SS` for an `--as-of` value; ValueError naming the formats."""
    for text in (value, value + END_OF_DAY):
        try:
            # The round trip refuses what strptime lets through: `2018-3-1`, missing zeros.
            if datetime.strptime(text, TIMESTAMP_FORMAT).strftime(TIMESTAMP_FORMAT) == text:
                return text
        except ValueError:
            continue
    raise ValueError(f"expected {AS_OF_FORMATS}, got {value!r}")


def moves_forward(before: str, after: str) -> bool:
    """Whether an order may have status `before` at one time and `after` later."""
    if before == after or (after in ORDER_ENDINGS and before not in ORDER_ENDINGS):
        return True
    if before in ORDER_LIFECYCLE and after in ORDER_LIFECYCLE:
        return ORDER_LIFECYCLE.index(before) < ORDER_LIFECYCLE.index(after)
    return False


@dataclass
class FileCounts:
    file_name: str
    source_rows: int = 0
    snapshot_rows: int = 0
    changed_rows: int = 0  # kept rows written with values as of the cutoff (rolled-back orders)


@dataclass(frozen=True)
class SnapshotResult:
    cutoff: str
    out: Path
    files: list[FileCounts]  # in the order of ingest.tables.TABLES


@dataclass
class _KeptIds:
    """Ids kept so far; a file's rule reads the ids kept by the files processed before it."""

    orders: set[str] = field(default_factory=set)
    customers: set[str] = field(default_factory=set)
    products: set[str] = field(default_factory=set)
    sellers: set[str] = field(default_factory=set)


# Decides one row: None drops it, its own fields keep its raw bytes, other fields are re-serialised.
RowRule = Callable[[CsvRow], list[str] | None]


def _timestamp_reader(source: OlistCsv) -> Callable[[CsvRow, int, bool], str]:
    def timestamp(row: CsvRow, column: int, required: bool) -> str:
        value = row.fields[column]
        if (value or required) and not TIMESTAMP_TEXT.fullmatch(value):
            expected = "a timestamp YYYY-MM-DD HH:MM:SS" + ("" if required else " or nothing")
            raise source.row_error(
                row.record, f"column {source.columns[column]}: expected {expected}, got {value!r}"
            )
        return value

    return timestamp


def _orders_at(source: OlistCsv, cutoff: str, kept: _KeptIds) -> RowRule:
    order_id, customer_id, status = map(source.index, ("order_id", "customer_id", "order_status"))
    purchased_at = source.index("order_purchase_timestamp")
    stages = [(source.index(column), reached) for column, reached in ORDER_STAGES]
    timestamp = _timestamp_reader(source)

    def order_at_cutoff(row: CsvRow) -> list[str] | None:
        fields = row.fields
        purchased = timestamp(row, purchased_at, True)
        times = [timestamp(row, column, False) for column, _ in stages]
        if purchased > cutoff:
            return None
        kept.orders.add(fields[order_id])
        kept.customers.add(fields[customer_id])
        if all(time <= cutoff for time in times):  # a blank time sorts first
            return fields
        then = fields.copy()
        then[status] = ORDER_LIFECYCLE[0]
        for (column, reached), time in zip(stages, times, strict=True):
            if time > cutoff:
                then[column] = ""
            elif time:
                then[status] = reached
        return then

    return order_at_cutoff


def _items_of_kept_orders(source: OlistCsv, kept: _KeptIds) -> RowRule:
    order_id, product_id, seller_id = map(source.index, ("order_id", "product_id", "seller_id"))

    def item(row: CsvRow) -> list[str] | None:
        fields = row.fields
        if fields[order_id] not in kept.orders:
            return None
        kept.products.add(fields[product_id])
        kept.sellers.add(fields[seller_id])
        return fields

    return item


def _reviews_created_by(source: OlistCsv, cutoff: str, kept_orders: set[str]) -> RowRule:
    order_id, created_at = map(source.index, ("order_id", "review_creation_date"))
    timestamp = _timestamp_reader(source)

    def review(row: CsvRow) -> list[str] | None:
        created = timestamp(row, created_at, True)
        return row.fields if created <= cutoff and row.fields[order_id] in kept_orders else None

    return review


def _kept_when_in(source: OlistCsv, column: str, ids: set[str]) -> RowRule:
    position = source.index(column)
    return lambda row: row.fields if row.fields[position] in ids else None


def _rules(files: dict[str, OlistCsv], cutoff: str, kept: _KeptIds) -> dict[str, RowRule]:
    """The rule of each filtered file, in the order they run: parents' referrers first.

    Building them resolves every column the snapshot reads, so a missing one stops the run
    before anything is written. The sets are filled as the earlier files are read.
    """
    return {
        "orders": _orders_at(files["orders"], cutoff, kept),
        "order_items": _items_of_kept_orders(files["order_items"], kept),
        "order_payments": _kept_when_in(files["order_payments"], "order_id", kept.orders),
        "order_reviews": _reviews_created_by(files["order_reviews"], cutoff, kept.orders),
        "customers": _kept_when_in(files["customers"], "customer_id", kept.customers),
        "products": _kept_when_in(files["products"], "product_id", kept.products),
        "sellers": _kept_when_in(files["sellers"], "seller_id", kept.sellers),
    }


def _write_rows(source: OlistCsv, target: Path, rule: RowRule) -> FileCounts:
    """Write the header and the rows the rule keeps, unchanged ones as their original bytes."""
    counts = FileCounts(target.name)
    last_record_written = False
    with target.open("wb") as out:
        out.write(source.header_line)
        for row in source.rows():
            if not row.fields:  # a blank line is no row: no rule applies, it stays in place
                out.write(row.record.raw + source.line_break)
                last_record_written = True
                continue
            counts.source_rows += 1
            fields = rule(row)
            last_record_written = fields is not None
            if fields is None:
                continue
            counts.snapshot_rows += 1
            if fields == row.fields:
                out.write(row.record.raw)
            else:
                out.write(format_record(fields))
                counts.changed_rows += 1
            out.write(source.line_break)
        if last_record_written and not source.ends_with_line_break:
            out.truncate(out.tell() - len(source.line_break))
    return counts


def _copy(source: OlistCsv, target: Path) -> FileCounts:
    shutil.copyfile(source.path, target)
    rows = source.count_rows()
    return FileCounts(target.name, source_rows=rows, snapshot_rows=rows)


def _check_folders(source_dir: Path, out: Path) -> None:
    if not source_dir.is_dir():
        raise PipelineError(
            f"{source_dir}: source folder not found. Pass the folder that holds the nine Olist "
            "CSV files as --source."
        )
    if out.resolve() == source_dir.resolve():
        raise PipelineError(
            f"--out {out} is the source folder: the snapshot would replace the files it reads. "
            "Write it to another folder."
        )
    check_replaceable(out)


def take_snapshot(source_dir: Path, out: Path, cutoff: str) -> SnapshotResult:
    """Write the nine files of `source_dir` as of `cutoff` (see `parse_as_of`) into `out`."""
    _check_folders(source_dir, out)
    files = {table.name: OlistCsv.open(source_dir / table.file_name) for table in TABLES}
    kept = _KeptIds()
    rules = _rules(files, cutoff, kept)
    counts: dict[str, FileCounts] = {}
    with replaced_whole(out) as folder:
        for name, rule in rules.items():
            counts[name] = _write_rows(files[name], folder / files[name].path.name, rule)
        for name in COPIED_TABLES:
            counts[name] = _copy(files[name], folder / files[name].path.name)
    return SnapshotResult(cutoff, out, [counts[table.name] for table in TABLES])


def print_snapshot_report(result: SnapshotResult) -> None:
    table = Table()
    table.add_column("file")
    table.add_column("source rows", justify="right")
    table.add_column("snapshot rows", justify="right")
    for counts in result.files:
        table.add_row(counts.file_name, f"{counts.source_rows:,}", f"{counts.snapshot_rows:,}")
    print_table(table, f"olist snapshot as of {result.cutoff} → {result.out}")
    rolled_back = sum(counts.changed_rows for counts in result.files)
    console.print(
        f"Cutoff {result.cutoff} (inclusive): {rolled_back:,} orders rolled back to their status "
        "then (later timestamps blank)."
    )
