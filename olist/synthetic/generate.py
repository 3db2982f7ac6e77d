"""`olist generate`: write the nine Olist files for a scale factor and a seed.

Scale factor 1 is the real data's size (99,441 orders); orders, customers, items, payments and
reviews grow linearly with it, the catalogue and the geography slower (see `profile.py`). The same
seed and scale give byte-identical files. Orders are drawn and written a chunk at a time, so memory
stays bounded at any scale; the folder is swapped into place only when all nine files are complete.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rich.table import Table

from ingest.tables import TABLES, TABLES_BY_NAME
from olist.console import console, print_table
from olist.output_folder import check_replaceable, replaced_whole
from olist.progress import RowsCallback, ignore_rows
from olist.synthetic import profile
from olist.synthetic.catalog import (
    Catalog,
    build_catalog,
    product_rows,
    seller_rows,
    translation_rows,
)
from olist.synthetic.csv_writer import OlistCsvWriter, open_output
from olist.synthetic.geography import STATES
from olist.synthetic.orders import CHUNK_ORDERS, ChunkPlan, order_chunk
from olist.synthetic.places import Places, build_places, geolocation_rows

DEFAULT_SEED = 42
Batch = dict[str, list[str]]  # column name -> formatted values
BatchCounter = Callable[[str, Batch], None]
_ORDER_TABLES = ("orders", "customers", "order_items", "order_payments", "order_reviews")
_TRANSLATION = "product_category_name_translation"


@dataclass(frozen=True)
class GenerateResult:
    out: Path
    scale: float
    seed: int
    rows: dict[str, int]  # per table, in TABLES order
    seconds: float


def order_count(scale: float) -> int:
    return max(1, round(profile.ORDERS * scale))


def generate(
    out: Path, scale: float, seed: int = DEFAULT_SEED, *, on_rows: RowsCallback = ignore_rows
) -> GenerateResult:
    """Write the nine files into `out` (replaced whole); `scale` > 0."""
    started = time.perf_counter()
    check_replaceable(out)
    rows: Counter[str] = Counter()

    def count(table: str, batch: Batch) -> None:
        rows[table] += len(batch[TABLES_BY_NAME[table].columns[0].name])
        on_rows(table, rows[table])

    with replaced_whole(out) as folder:
        places = build_places(seed, scale)
        catalog = build_catalog(seed, scale)
        for table, batches in (
            ("geolocation", geolocation_rows(places, seed, scale)),
            ("sellers", [seller_rows(catalog, places, seed)]),
            ("products", [product_rows(catalog, seed)]),
            (_TRANSLATION, [translation_rows()]),
        ):
            _write_file(folder, table, batches, count)
        _write_orders(folder, scale, seed, places, catalog, count)
    return GenerateResult(
        out, scale, seed, {t.name: rows[t.name] for t in TABLES}, time.perf_counter() - started
    )


def _write_file(folder: Path, table: str, batches: Iterable[Batch], count: BatchCounter) -> None:
    spec = TABLES_BY_NAME[table]
    plain = table == _TRANSLATION  # the translation file's own style: BOM, no quotes, CRLF
    with open_output(folder / spec.file_name, bom=plain) as handle:
        writer = OlistCsvWriter(handle, spec, plain=plain)
        for batch in batches:
            writer.write(batch)
            count(table, batch)


def _write_orders(
    folder: Path, scale: float, seed: int, places: Places, catalog: Catalog, count: BatchCounter
) -> None:
    """The five order files grow together, one chunk of orders at a time."""
    total = order_count(scale)
    chunks = -(-total // CHUNK_ORDERS)
    customer_areas = places.sampler(np.array([state.customer_share for state in STATES]))
    handles = {t: open_output(folder / TABLES_BY_NAME[t].file_name) for t in _ORDER_TABLES}
    try:
        writers = {t: OlistCsvWriter(handles[t], TABLES_BY_NAME[t]) for t in _ORDER_TABLES}
        for index in range(chunks):
            size = min(CHUNK_ORDERS, total - index * CHUNK_ORDERS)
            plan = ChunkPlan(index=index, count=size, chunks=chunks, total_orders=total)
            for table, batch in order_chunk(plan, catalog, places, customer_areas, seed).items():
                writers[table].write(batch)
                count(table, batch)
    finally:
        for handle in handles.values():
            handle.close()


def print_generate_report(result: GenerateResult) -> None:
    table = Table()
    table.add_column("file")
    table.add_column("rows", justify="right")
    for spec in TABLES:
        table.add_row(spec.file_name, f"{result.rows[spec.name]:,}")
    print_table(
        table, f"olist generate → {result.out} (scale {result.scale:g}, seed {result.seed})"
    )
    console.print(f"Generated in {result.seconds:.1f} s.")
