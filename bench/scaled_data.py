"""Scaled copies of the Olist customers, orders and order_items files for the benchmark.

The shared sample (20,864 orders) is much smaller than the real dataset, and the real files are not
available. So we replicate the sample k times, each copy with new ids derived from the old ones
(`md5(old_id || '-' || copy_no)`), until the three files together hold at least
`REAL_SIZE_ROWS x scale` rows. The ids stay 32-character lowercase hex and stay consistent across
the files (an order's customer and items follow it into its copy); products and sellers are kept,
as more orders of the same catalogue is what growth looks like. Every other field is copied as
text, so the files keep the exact Olist format, and each file is checked with the pipeline's own
`CsvScan`: a benchmark on rows that get quarantined would time the wrong code path.

The copies live in `data/bench/scale-<N>/` (git-ignored) and are rebuilt only when missing.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingest.csv_scan import CsvScan
from ingest.tables import TABLES_BY_NAME, SourceTable

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO_ROOT.parent / "shared/data/olist/sample"
BENCH_DATA_DIR = REPO_ROOT / "data/bench"
MANIFEST_NAME = "manifest.json"

# The "real size": full Olist customers + orders + order_items.
REAL_SIZE_ROWS = 99_441 + 99_441 + 112_650  # 311,532

BENCH_TABLES: tuple[SourceTable, ...] = tuple(
    TABLES_BY_NAME[name] for name in ("customers", "orders", "order_items")
)

# Id columns that get a new value in each copy. product_id and seller_id are not here on purpose,
# and order_item_id is a position inside its order, so it is unchanged too.
REMAPPED_IDS: dict[str, tuple[str, ...]] = {
    "customers": ("customer_id", "customer_unique_id"),
    "orders": ("order_id", "customer_id"),
    "order_items": ("order_id",),
}

# Sort like the sample (by key), so the files look like an export and not like k blocks.
SORT_KEYS: dict[str, str] = {
    "customers": "customer_id",
    "orders": "order_id",
    "order_items": "order_id, CAST(order_item_id AS INTEGER)",
}


@dataclass(frozen=True)
class ScaledData:
    """One scale's three files and their exact row counts (header excluded)."""

    scale: float
    directory: Path
    copies: int
    rows: dict[str, int]

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def scale_label(scale: float) -> str:
    return f"{scale:g}"


def _sample_rows() -> dict[str, int]:
    with duckdb.connect() as con:
        return {t.name: _count_rows(con, SAMPLE_DIR / t.file_name) for t in BENCH_TABLES}


def _count_rows(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    row = con.execute(
        "SELECT count(*) FROM read_csv(?, header = true, all_varchar = true)", [str(path)]
    ).fetchone()
    assert row is not None
    return int(row[0])


def copies_for(scale: float, sample_rows: int) -> int:
    """How many copies of the sample reach REAL_SIZE_ROWS x scale (rounding up: slightly over)."""
    return max(1, math.ceil(REAL_SIZE_ROWS * scale / sample_rows))


def _replicate_query(table: SourceTable, source: Path, copies: int) -> str:
    selected = []
    for name in table.column_names:
        if name in REMAPPED_IDS[table.name]:
            selected.append(f"md5({name} || '-' || copy_no::VARCHAR) AS {name}")
        else:
            selected.append(name)
    # all_varchar: every value goes through as the text it was (timestamps, "129.90", zip "04195");
    # empty fields read as NULL and are written back as empty fields, as in the original.
    return f"""
        SELECT {", ".join(selected)}
        FROM read_csv('{source}', header = true, all_varchar = true, auto_detect = false,
                      columns = {{{", ".join(f"'{n}': 'VARCHAR'" for n in table.column_names)}}})
        CROSS JOIN range({copies}) AS copies(copy_no)
        ORDER BY {SORT_KEYS[table.name]}
    """


def _write_copies(table: SourceTable, target: Path, copies: int) -> None:
    query = _replicate_query(table, SAMPLE_DIR / table.file_name, copies)
    with duckdb.connect() as con:
        con.execute(f"COPY ({query}) TO '{target}' (FORMAT csv, HEADER true, DELIMITER ',')")


def _verify(table: SourceTable, path: Path, expected_rows: int) -> None:
    """Fail unless the pipeline's own scanner loads every row of the file."""
    with tempfile.TemporaryDirectory(prefix="olist-bench-scan-") as temp_dir:
        scan = CsvScan(path, table, temp_dir=Path(temp_dir))
        for _ in scan.batches():
            pass
    result = scan.result
    if result.rejections or result.loaded_rows != expected_rows:
        first = result.rejections[0] if result.rejections else None
        raise RuntimeError(
            f"{path}: csv_scan loaded {result.loaded_rows:,} of {expected_rows:,} rows and "
            f"rejected {len(result.rejections):,} (first: {first}); the generator is wrong."
        )


def _read_manifest(directory: Path) -> ScaledData | None:
    manifest = directory / MANIFEST_NAME
    if not manifest.is_file():
        return None
    content = json.loads(manifest.read_text())
    files_present = all((directory / t.file_name).is_file() for t in BENCH_TABLES)
    if not files_present:
        return None
    return ScaledData(
        scale=float(content["scale"]),
        directory=directory,
        copies=int(content["copies"]),
        rows={name: int(count) for name, count in content["rows"].items()},
    )


def sample_data() -> ScaledData:
    """The shared sample itself (read in place, never copied), for untimed warm-up runs."""
    rows = _sample_rows()
    scale = sum(rows.values()) / REAL_SIZE_ROWS
    return ScaledData(scale=scale, directory=SAMPLE_DIR, copies=1, rows=rows)


def scaled_data(scale: float, log: bool = True) -> ScaledData:
    """The scale's files, generated and verified on first use and read from cache afterwards."""
    directory = BENCH_DATA_DIR / f"scale-{scale_label(scale)}"
    cached = _read_manifest(directory)
    if cached is not None:
        return cached
    if not SAMPLE_DIR.is_dir():
        raise FileNotFoundError(f"The Olist sample is missing: expected it at {SAMPLE_DIR}")
    sample_rows = _sample_rows()
    copies = copies_for(scale, sum(sample_rows.values()))
    if log:
        print(f"generating scale {scale_label(scale)}: {copies} copies of the sample → {directory}")
    directory.mkdir(parents=True, exist_ok=True)
    rows = {}
    for table in BENCH_TABLES:
        path = directory / table.file_name
        _write_copies(table, path, copies)
        rows[table.name] = sample_rows[table.name] * copies
        _verify(table, path, rows[table.name])
    # The manifest is written last: its presence means every file is complete and verified.
    manifest = {"scale": scale, "copies": copies, "rows": rows}
    (directory / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2) + "\n")
    return ScaledData(scale=scale, directory=directory, copies=copies, rows=rows)
