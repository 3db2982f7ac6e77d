"""`olist generate`: real sizes at scale 1, the originals' byte format, determinism, integrity.

The scale-1 data set is generated once per session (a few seconds) and shared by the tests that
only read it; the calibration against the real sample is in test_generate_calibration.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from pathlib import Path

import duckdb
import pytest
from helpers.bronze import current_settings, olist, staging_counts
from olist_profile import orphan_counts

from ingest.tables import TABLES, TABLES_BY_NAME
from olist.synthetic.csv_writer import OlistCsvWriter
from olist.synthetic.generate import generate

FULL_DIR = Path(__file__).resolve().parents[3] / "shared/data/olist/full"

# The real data's row counts (SOURCE.md); scale 1 must be within 2% of each.
REAL_ROWS = {
    "orders": 99_441,
    "customers": 99_441,
    "order_items": 112_650,
    "order_payments": 103_886,
    "order_reviews": 99_224,
    "products": 32_951,
    "sellers": 3_095,
    "geolocation": 1_000_163,
}
REAL_DISTINCT = {
    ("customers", "customer_unique_id"): 96_096,
    ("order_reviews", "review_id"): 98_410,
    ("geolocation", "geolocation_zip_code_prefix"): 19_015,
}


@pytest.fixture(scope="session")
def scale_one(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("generated") / "sf1"
    generate(out, 1.0)
    return out


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _distinct(folder: Path, table: str, column: str) -> int:
    path = folder / TABLES_BY_NAME[table].file_name
    sql = f"SELECT count(DISTINCT {column}) FROM read_csv('{path}', all_varchar = true)"
    return duckdb.sql(sql).fetchone()[0]


def _records(path: Path) -> int:
    """CSV records after the header (a quoted review may span several lines)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def test_scale_one_row_counts_are_within_two_percent_of_the_real_data(scale_one):
    for table, real in REAL_ROWS.items():
        rows = _records(scale_one / TABLES_BY_NAME[table].file_name)
        assert abs(rows - real) / real <= 0.02, (table, rows, real)
    for (table, column), real in REAL_DISTINCT.items():
        distinct = _distinct(scale_one, table, column)
        assert abs(distinct - real) / real <= 0.02, (table, column, distinct, real)


def test_every_foreign_key_resolves(scale_one):
    assert orphan_counts(scale_one) == dict.fromkeys(orphan_counts(scale_one), 0)


def test_every_product_and_seller_is_sold_at_least_once(scale_one):
    items = scale_one / "olist_order_items_dataset.csv"
    for table, key in (("products", "product_id"), ("sellers", "seller_id")):
        listed = scale_one / TABLES_BY_NAME[table].file_name
        unsold = duckdb.sql(
            f"SELECT count(*) FROM read_csv('{listed}', all_varchar = true) l "
            f"ANTI JOIN read_csv('{items}', all_varchar = true) i USING ({key})"
        ).fetchone()[0]
        assert unsold == 0, table


@pytest.mark.slow  # ingests the whole scale-1 data set
def test_generated_data_ingests_with_nothing_quarantined(scale_one, olist_env):
    assert olist("ingest", "--source", str(scale_one)) == 0
    settings = current_settings()
    assert staging_counts(settings, ("orders",)) == {"orders": 99_441}
    with duckdb.connect(str(settings.duckdb_staging_path), read_only=True) as con:
        quarantine = con.sql(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = 'raw' AND table_name = 'rejected_rows'"
        ).fetchone()[0]
    assert quarantine == 0, "rows were quarantined (raw.rejected_rows exists)"


def test_same_seed_gives_identical_bytes_and_another_seed_does_not(tmp_path):
    first, second, other = (tmp_path / name for name in ("first", "second", "other"))
    generate(first, 0.05, seed=7)
    generate(second, 0.05, seed=7)
    generate(other, 0.05, seed=8)
    assert _digests(first) == _digests(second)
    assert len(_digests(first)) == len(TABLES)
    differing = {
        name for name, digest in _digests(other).items() if _digests(first)[name] != digest
    }
    # The translation file is the same vocabulary whatever the seed; every data file differs.
    assert differing == {t.file_name for t in TABLES} - {"product_category_name_translation.csv"}


@pytest.mark.parametrize("name", ["sellers", "products", "order_payments"])
def test_writer_reproduces_the_original_files_byte_for_byte(name):
    """The originals' quoting (ids and zips quoted when they start with a digit, nothing else)
    is exactly what the writer produces: rewrite the byte-exact real files and compare."""
    table = TABLES_BY_NAME[name]
    original = (FULL_DIR / table.file_name).read_bytes()
    rows = list(csv.reader(io.StringIO(original.decode("utf-8"))))[1:]
    columns = {c.name: [row[i] for row in rows] for i, c in enumerate(table.columns)}
    written = io.StringIO(newline="")
    OlistCsvWriter(written, table).write(columns)
    assert written.getvalue().encode("utf-8") == original


def test_translation_file_has_the_originals_bom_and_crlf(scale_one):
    raw = (scale_one / "product_category_name_translation.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfproduct_category_name,product_category_name_english\r\n")
    assert raw.count(b"\r\n") == raw.count(b"\n")
    assert b'"' not in raw


def test_timestamps_are_olist_formatted_and_nulls_are_empty(scale_one):
    stamp = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
    with (scale_one / "olist_orders_dataset.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for column in ("order_purchase_timestamp", "order_estimated_delivery_date"):
        assert all(stamp.fullmatch(row[column]) for row in rows), column
    assert all(row["order_estimated_delivery_date"].endswith("00:00:00") for row in rows)
    undelivered = [r for r in rows if r["order_status"] in ("shipped", "invoiced", "processing")]
    assert undelivered and all(r["order_delivered_customer_date"] == "" for r in undelivered)


def test_cli_writes_the_folder_whole_and_refuses_a_folder_with_other_files(olist_env, tmp_path):
    out = tmp_path / "seeds"
    assert olist("generate", "--sf", "0.01", "--out", str(out)) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(t.file_name for t in TABLES)
    assert olist("generate", "--sf", "0.01", "--out", str(out), "--seed", "1") == 0  # replaced
    (out / "notes.txt").write_text("mine")
    assert olist("generate", "--sf", "0.01", "--out", str(out)) == 1
    assert (out / "notes.txt").read_text() == "mine"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


@pytest.mark.parametrize("scale", ["0", "-1", "many", "inf"])
def test_cli_rejects_a_scale_that_is_not_a_positive_number(olist_env, tmp_path, scale, capsys):
    with pytest.raises(SystemExit) as exit_info:
        olist("generate", "--sf", scale, "--out", str(tmp_path / "x"))
    assert exit_info.value.code == 2
    assert "is not a scale factor" in capsys.readouterr().err
