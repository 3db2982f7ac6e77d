"""Bad source files: what `olist ingest` refuses outright, what it quarantines, what the user sees.

Every test copies only the sample files it needs into its own source folder, breaks a few lines
in a known way, runs the real CLI entry point in-process against the embedded DuckDB default
(`data/staging.duckdb` in the temporary working directory set up by `olist_env`) and then reads
the staging database back. Expected line numbers and record counts are worked out here from the
bytes we wrote, with Python's own csv module, and never taken from the code under test.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import shutil
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import psycopg
import pytest
from helpers.bronze import SAMPLE_ROWS

from ingest.source_records import first_stray_carriage_return
from ingest.tables import TABLES_BY_NAME
from olist.cli import main

if TYPE_CHECKING:  # for annotations only: pytest advises against importing conftest at run time
    from conftest import OlistEnv

# The embedded default staging database, relative to the working directory olist_env sets.
STAGING = Path("data/staging.duckdb")


# --------------------------------------------------------------------------------------------
# Helpers: a source folder of edited copies, the CLI, the staging database
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceFolder:
    """A folder of copies of sample files, edited line by line (physical lines, 1-based)."""

    path: Path
    sample_dir: Path

    def file(self, table: str) -> Path:
        return self.path / TABLES_BY_NAME[table].file_name

    def copy(self, table: str) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        # copyfile, not copy: the sample is read-only and the copy must be writable.
        shutil.copyfile(self.sample_dir / TABLES_BY_NAME[table].file_name, self.file(table))
        return self.file(table)

    def lines(self, table: str) -> list[bytes]:
        """Physical lines without their b"\\n"; line N of the file is item N - 1."""
        return self.file(table).read_bytes().split(b"\n")

    def write_lines(self, table: str, lines: list[bytes]) -> None:
        self.file(table).write_bytes(b"\n".join(lines))

    def line(self, table: str, number: int) -> bytes:
        return self.lines(table)[number - 1]

    def replace_line(self, table: str, number: int, new: bytes) -> bytes:
        lines = self.lines(table)
        lines[number - 1] = new
        self.write_lines(table, lines)
        return new

    def set_field(self, table: str, number: int, column: str, value: bytes) -> bytes:
        """Give `column` of the (unquoted, single-line) record on line `number` a new value."""
        return self.replace_line(
            table, number, with_field(self.line(table, number), table, column, value)
        )

    def insert_line(self, table: str, number: int, new: bytes) -> None:
        """Insert `new` so that it becomes line `number`; later lines move down by one."""
        lines = self.lines(table)
        lines.insert(number - 1, new)
        self.write_lines(table, lines)

    def rewrite_columns(self, table: str, change: Callable[[list[bytes]], list[bytes]]) -> None:
        """Apply `change` to the fields of every line, header included (unquoted files only)."""
        lines = self.lines(table)
        assert not any(b'"' in line for line in lines), "rewrite_columns needs an unquoted file"
        self.write_lines(
            table, [b",".join(change(line.split(b","))) if line else line for line in lines]
        )


def with_field(line: bytes, table: str, column: str, value: bytes) -> bytes:
    assert b'"' not in line, f"pick an unquoted line to edit, not {line!r}"
    fields = line.split(b",")
    assert len(fields) == len(TABLES_BY_NAME[table].columns), line
    fields[TABLES_BY_NAME[table].column_names.index(column)] = value
    return b",".join(fields)


@dataclass(frozen=True)
class CliRun:
    rc: int
    out: str
    err: str


@dataclass(frozen=True)
class Rejected:
    line_number: int
    column_name: str | None
    reason: str
    raw_line: str
    source_file: str


@contextmanager
def staging() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(STAGING), read_only=True)
    try:
        yield connection
    finally:
        connection.close()


def bronze_tables() -> set[str]:
    """Tables in the `raw` schema other than dlt's own; empty when there is no database yet."""
    if not STAGING.exists():
        return set()
    with staging() as con:
        rows = con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
        ).fetchall()
    return {name for (name,) in rows if not name.startswith("_dlt")}


def bronze_count(table: str) -> int:
    with staging() as con:
        return con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0]


def rejected_rows(table: str) -> list[Rejected]:
    if "rejected_rows" not in bronze_tables():
        return []
    with staging() as con:
        rows = con.execute(
            "SELECT line_number, column_name, reason, raw_line, source_file "
            "FROM raw.rejected_rows WHERE table_name = ? ORDER BY line_number",
            [table],
        ).fetchall()
    return [Rejected(*row) for row in rows]


def csv_record_count(path: Path) -> int:
    """Data records as Python's csv module reads them: no header, no blank lines."""
    with path.open(newline="", encoding="utf-8", errors="surrogateescape") as handle:
        records = [row for row in csv.reader(handle) if row]
    return len(records) - 1


def assert_every_record_accounted_for(table: str, path: Path) -> None:
    """Each data record of the source file is either in the bronze table or quarantined."""
    loaded, quarantined = bronze_count(table), len(rejected_rows(table))
    assert loaded + quarantined == csv_record_count(path), (loaded, quarantined)


def summary_counts(out: str, table: str) -> tuple[int, int, int]:
    """(source rows, loaded, quarantined) from the table's row of the printed run summary.

    The summary's columns: source rows, new or changed, unchanged, quarantined.
    """
    number = r" +([\d,]+) [│|]"
    match = re.search(rf"[│|] {re.escape(table)} +[│|]{number * 4}", out)
    assert match, f"no summary row for {table} in:\n{out}"
    source_rows, loaded, _unchanged, quarantined = (int(g.replace(",", "")) for g in match.groups())
    return source_rows, loaded, quarantined


def order_id(line: bytes) -> str:
    return line.split(b",")[0].decode()


@dataclass(frozen=True)
class SourceRecord:
    first_line: int
    last_line: int
    fields: list[str]


def records_with_lines(path: Path) -> list[SourceRecord]:
    """Data records with the physical lines they span, counted by the csv module itself.

    `line_num` is the number of lines the reader has consumed; with `newline=""` a CRLF inside
    a quoted review is one line break (the sample has no lone CR), as in an editor.
    """
    reader = csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline=""))
    next(reader)
    records, consumed = [], reader.line_num
    for fields in reader:
        records.append(SourceRecord(consumed + 1, reader.line_num, fields))
        consumed = reader.line_num
    return records


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps what it prints at the terminal width (80 columns when captured); widen it so a
    long path or header line reaches the test in one piece."""
    monkeypatch.setenv("COLUMNS", "1000")


@pytest.fixture
def source(olist_env: OlistEnv, sample_dir: Path) -> SourceFolder:
    return SourceFolder(olist_env.workdir / "source", sample_dir)


@pytest.fixture
def olist_ingest(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliRun]:
    """Run `olist ingest --source DIR --tables T1,T2` in-process; return what the user saw."""

    def run(folder: SourceFolder, *tables: str) -> CliRun:
        rc = main(["ingest", "--source", str(folder.path), "--tables", ",".join(tables)])
        captured = capsys.readouterr()
        assert "Traceback" not in captured.out + captured.err
        return CliRun(rc, captured.out, captured.err)

    return run


# --------------------------------------------------------------------------------------------
# Whole-file errors: nothing is loaded, the message says which file and what to do
# --------------------------------------------------------------------------------------------


def test_missing_file_exits_1_naming_the_file_and_loads_no_table(
    source: SourceFolder, olist_ingest: Callable[..., CliRun]
) -> None:
    source.copy("customers")  # present and valid, but must not be loaded either

    run = olist_ingest(source, "customers", "orders")

    assert run.rc == 1
    assert str(source.file("orders")) in run.err
    assert "file not found" in run.err
    assert "put the file in the source folder" in run.err.lower()
    assert "--tables" in run.err
    assert bronze_tables() == set()


@pytest.mark.parametrize("problem", ["missing", "empty"])
def test_file_level_error_says_nothing_was_loaded(
    problem: str, source: SourceFolder, olist_ingest: Callable[..., CliRun]
) -> None:
    source.copy("customers")
    if problem == "empty":
        source.file("orders").write_bytes(b"")

    run = olist_ingest(source, "customers", "orders")

    assert run.rc == 1
    # The good customers file was not loaded either; the user must be told so.
    assert "nothing was loaded" in run.err.lower()
    assert bronze_tables() == set()


def test_empty_file_exits_1_saying_it_is_empty(
    source: SourceFolder, olist_ingest: Callable[..., CliRun]
) -> None:
    source.path.mkdir()
    source.file("orders").write_bytes(b"")

    run = olist_ingest(source, "orders")

    assert run.rc == 1
    assert str(source.file("orders")) in run.err
    assert "is empty" in run.err
    assert bronze_tables() == set()


def test_error_message_shows_a_source_path_with_brackets_verbatim(
    olist_env: OlistEnv, sample_dir: Path, olist_ingest: Callable[..., CliRun]
) -> None:
    folder = SourceFolder(olist_env.workdir / "olist [copy]", sample_dir)
    folder.path.mkdir()

    run = olist_ingest(folder, "orders")

    assert run.rc == 1
    assert str(folder.file("orders")) in run.err


def test_a_data_folder_with_a_quote_in_its_path_is_refused_before_loading_and_others_work(
    olist_env: OlistEnv, source: SourceFolder, olist_ingest: Callable[..., CliRun]
) -> None:
    source.copy("sellers")
    olist_env.set(OLIST_DATA_DIR="d'ata", OLIST_STAGING_URL="duckdb:///st'aging/staging.duckdb")

    refused = olist_ingest(source, "sellers")

    assert refused.rc == 1
    assert "holds a single quote (')" in refused.err and "OLIST_DATA_DIR" in refused.err
    assert not Path("st'aging/staging.duckdb").exists()

    olist_env.set(OLIST_DATA_DIR="data")
    loaded = olist_ingest(source, "sellers")

    assert loaded.rc == 0, loaded.err
    with duckdb.connect("st'aging/staging.duckdb", read_only=True) as con:
        [(sellers,)] = con.execute("SELECT count(*) FROM raw.sellers").fetchall()
    assert sellers == SAMPLE_ROWS["sellers"]


ORDERS_HEADER = list(TABLES_BY_NAME["orders"].column_names)


def _drop_approved_at(fields: list[bytes]) -> list[bytes]:
    return fields[:4] + fields[5:]


def _add_channel(fields: list[bytes]) -> list[bytes]:
    return [*fields, b"order_channel" if fields[0] == b"order_id" else b"web"]


def _rename_status(fields: list[bytes]) -> list[bytes]:
    return [b"order_state" if f == b"order_status" else f for f in fields]


def _swap_first_two(fields: list[bytes]) -> list[bytes]:
    return [fields[1], fields[0], *fields[2:]]


@pytest.mark.parametrize(
    ("change", "found_header", "words"),
    [
        pytest.param(
            _drop_approved_at,
            ORDERS_HEADER[:4] + ORDERS_HEADER[5:],
            ["missing 'order_approved_at'"],
            id="missing-column",
        ),
        pytest.param(
            _add_channel,
            [*ORDERS_HEADER, "order_channel"],
            ["unexpected 'order_channel'"],
            id="extra-column",
        ),
        pytest.param(
            _rename_status,
            [("order_state" if n == "order_status" else n) for n in ORDERS_HEADER],
            ["missing 'order_status'", "unexpected 'order_state'", "renamed"],
            id="renamed-column",
        ),
        pytest.param(
            _swap_first_two,
            [ORDERS_HEADER[1], ORDERS_HEADER[0], *ORDERS_HEADER[2:]],
            ["different order"],
            id="reordered-columns",
        ),
    ],
)
def test_wrong_header_exits_1_naming_columns_with_expected_and_found_and_loads_nothing(
    change: Callable[[list[bytes]], list[bytes]],
    found_header: list[str],
    words: list[str],
    source: SourceFolder,
    olist_ingest: Callable[..., CliRun],
) -> None:
    source.copy("customers")
    source.copy("orders")
    source.rewrite_columns("orders", change)

    run = olist_ingest(source, "customers", "orders")

    assert run.rc == 1
    assert f"{source.file('orders')}, line 1 (header)" in run.err
    for word in words:
        assert word in run.err
    assert re.search(r"expected:\s+" + re.escape(",".join(ORDERS_HEADER)) + r"\n", run.err)
    assert re.search(r"found:\s+" + re.escape(",".join(found_header)) + r"\n", run.err)
    assert "Nothing was loaded" in run.err
    assert bronze_tables() == set()


def _cr_line_endings(data: bytes) -> bytes:
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r")


def _zip(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("olist_sellers_dataset.csv", data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("encode", "words"),
    [
        pytest.param(_cr_line_endings, "lone carriage return (CR", id="cr-line-endings"),
        pytest.param(lambda d: d.decode().encode("utf-16"), "encoded as UTF-16", id="utf-16"),
        pytest.param(lambda d: d.decode().encode("utf-16-le"), "NUL bytes", id="utf-16-no-bom"),
        pytest.param(gzip.compress, "gzip-compressed", id="gzip"),
        pytest.param(_zip, "ZIP archive", id="zip"),
    ],
)
def test_a_file_that_is_not_a_utf8_csv_is_named_with_what_it_is_and_nothing_is_loaded(
    encode: Callable[[bytes], bytes],
    words: str,
    source: SourceFolder,
    olist_ingest: Callable[..., CliRun],
) -> None:
    path = source.copy("sellers")
    path.write_bytes(encode(path.read_bytes()))

    run = olist_ingest(source, "sellers")

    assert run.rc == 1
    [message] = run.err.strip().splitlines()  # one sentence, no binary header dumped
    assert message.startswith(f"error: {path}: ")
    assert words in message
    assert "Nothing was loaded" in message
    assert "\\x00" not in message and "\x00" not in message
    assert bronze_tables() == set()


TRANSLATION = "product_category_name_translation"  # CRLF line endings, unquoted values


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        pytest.param(
            lambda line: line.replace(b"_", b"_\r", 1),
            "a carriage return (CR) inside a record, outside quotes",
            id="stray-cr",
        ),
        pytest.param(
            lambda line: line.removesuffix(b"\r"),
            "this record's line ends differently from the header's",
            id="lf-in-a-crlf-file",
        ),
    ],
)
def test_a_line_break_the_parser_cannot_read_is_named_with_its_line_and_nothing_is_loaded(
    edit: Callable[[bytes], bytes],
    words: str,
    source: SourceFolder,
    olist_ingest: Callable[..., CliRun],
) -> None:
    source.copy(TRANSLATION)
    source.replace_line(TRANSLATION, 6, edit(source.line(TRANSLATION, 6)))

    run = olist_ingest(source, TRANSLATION)

    assert run.rc == 1
    [message] = run.err.strip().splitlines()
    assert message.startswith(f"error: {source.file(TRANSLATION)}, line 6: "), message
    assert words in message and "Nothing was loaded" in message
    assert bronze_tables() == set()


def test_a_carriage_return_in_a_quoted_value_is_not_taken_for_a_stray_one(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_bytes(b'id,note\r\n1,"two\rlines"\r\n2,"a ""quoted"" \r\n break"\r\n3,x\ry\r\n')

    assert first_stray_carriage_return(path) == 5  # lines 2-4 hold CRs inside quotes


def test_a_header_holding_an_emoji_code_is_printed_as_written(
    source: SourceFolder, olist_ingest: Callable[..., CliRun]
) -> None:
    source.path.mkdir()
    source.file("sellers").write_bytes(b"seller_id,:x:,seller_city,seller_state\n")

    run = olist_ingest(source, "sellers")

    assert run.rc == 1
    assert "unexpected ':x:'" in run.err
    assert "\u274c" not in run.err  # rich's emoji for :x:


# --------------------------------------------------------------------------------------------
# Row-level errors: the row is quarantined with its line, column, reason and raw text
# --------------------------------------------------------------------------------------------


def test_rows_with_too_few_and_too_many_fields_are_quarantined_with_line_and_raw_text(
    source: SourceFolder, olist_ingest: Callable[..., CliRun]
) -> None:
    path = source.copy("orders")
    records = csv_record_count(path)
    too_few = source.replace_line("orders", 6, source.line("orders", 6).rsplit(b",", 1)[0])
    too_many = source.replace_line("orders", 10, source.line("orders", 10) + b",extra")

    run = olist_ingest(source, "orders")

    assert run.rc == 0
    rejected = rejected_rows("orders")
    assert [(r.line_number, r.raw_line) for r in rejected] == [
        (6, too_few.decode()),
        (10, too_many.decode()),
    ]
    assert "too few fields" in rejected[0].reason
    assert "too many fields" in rejected[1].reason
    assert all("expected 8 fields" in r.reason for r in rejected)
    assert all(r.source_file == "olist_orders_dataset.csv" for r in rejected)
    assert bronze_count("orders") == records - 2
    with staging() as con:
        loaded_ids = {i for (i,) in con.execute("SELECT order_id FROM raw.orders").fetchall()}
    assert order_id(too_few) not in loaded_ids
    assert order_id(too_many) not in loaded_ids
    assert order_id(source.line("orders", 7)) in loaded_ids
    assert_every_record_accounted_for("orders", path)


@pytest.mark.parametrize(
    ("table", "line", "column", "written", "expectation"),
    [
        pytest.param(
            "orders",
            15,
            "order_purchase_timestamp",
            b"14/01/2018 14:33:31",
            "YYYY-MM-DD HH:MM:SS",
            id="unparsable-timestamp",
        ),
        pytest.param("order_items", 9, "price", b"-5.00", "non-negative", id="negative-price"),
        pytest.param(
            "orders",
            12,
            "customer_id",
            b"6489ae5e4333f3693df5ad4372dab6d",
            "32-character",
            id="id-of-wrong-length",
        ),
        # Codes the marts' accepted_values audits refuse would stop the whole warehouse build.
        pytest.param(
            "orders", 7, "order_status", b"returned", "one of created", id="unknown-status"
        ),
        pytest.param(
            "order_payments", 5, "payment_type", b"pix", "one of credit_card", id="unknown-payment"
        ),
    ],
)
def test_bad_value_is_quarantined_with_line_column_value_and_expectation(
    table: str,
    line: int,
    column: str,
    written: bytes,
    expectation: str,
    source: SourceFolder,
    olist_ingest: Callable[..., CliRun],
) -> None:
    path = source.copy(table)
    bad = source.set_field(table, line, column, written)

    run = olist_ingest(source, table)

    assert run.rc == 0
    [rejected] = rejected_rows(table)
    assert rejected.line_number == line
    assert rejected.column_name == column
    assert rejected.reason.startswith(f"{column}:")
    assert expectation in rejected.reason
    assert written.decode() in rejected.reason
    assert rejected.raw_line == bad.decode()
    assert_every_record_accounted_for(table, path)


@pytest.mark.parametrize(
    ("written", "value"),
    [pytest.param(b'"12,50"', "12,50", id="decimal-comma"), pytest.param(b"abc", "abc", id="text")],
)
def test_unparsable_price_is_quarantined_with_column_and_bad_value(
    written: bytes, value: str, source: SourceFolder, olist_ingest: Callable[..., CliRun]
) -> None:
    path = source.copy("order_items")
    # Edit the field list by hand: the quoted value itself holds a comma.
    fields = source.line("order_items", 7).split(b",")
    fields[TABLES_BY_NAME["order_items"].column_names.index("price")] = written
    bad = source.replace_line("order_items", 7, b",".join(fields))

    run = olist_ingest(source, "order_items")

    assert run.rc == 0
    [rejected] = rejected_rows("order_items")
    assert rejected.line_number == 7
    assert rejected.column_name == "price"
    assert rejected.reason.startswith("price:")
    assert f'"{value}"' in rejected.reason
    assert rejected.raw_line == bad.decode()
    assert_every_record_accounted_for("order_items", path)


def test_invalid_utf8_in_a_city_quarantines_that_row_with_the_byte_escaped(
    source: SourceFolder, olist_ingest: Callable[..., CliRun]
) -> None:
    path = source.copy("customers")
    lines = source.lines("customers")
    # Deep in the file, a Latin-1 "ã" (0xE3) where UTF-8 was expected: "s\xe3o paulo".
    number = next(
        n for n, line in enumerate(lines, start=1) if n > 12_000 and line.endswith(b",sao paulo,SP")
    )
    bad = source.replace_line(
        "customers", number, lines[number - 1].replace(b",sao paulo,", b",s\xe3o paulo,")
    )

    run = olist_ingest(source, "customers")

    assert run.rc == 0
    [rejected] = rejected_rows("customers")
    assert rejected.line_number == number
    assert "UTF-8" in rejected.reason
    assert rejected.raw_line == bad.decode("utf-8", errors="backslashreplace")
    assert "s\\xe3o paulo" in rejected.raw_line
    assert bronze_count("customers") == csv_record_count(path) - 1
    assert_every_record_accounted_for("customers", path)


def test_duplicate_key_keeps_first_row_and_quarantines_second_naming_key_and_kept_line(
    source: SourceFolder, olist_ingest: Callable[..., CliRun]
) -> None:
    path = source.copy("orders")
    first = source.line("orders", 4)
    second = with_field(first, "orders", "order_status", b"canceled")
    source.insert_line("orders", 21, second)

    run = olist_ingest(source, "orders")

    assert run.rc == 0
    [rejected] = rejected_rows("orders")
    assert rejected.line_number == 21
    assert rejected.column_name == "order_id"
    assert "duplicate key (order_id)" in rejected.reason
    assert "line 4" in rejected.reason
    assert "kept" in rejected.reason
    assert rejected.raw_line == second.decode()
    with staging() as con:
        kept = con.execute(
            "SELECT order_status FROM raw.orders WHERE order_id = ?", [order_id(first)]
        ).fetchall()
    assert kept == [("delivered",)]
    assert_every_record_accounted_for("orders", path)


def test_duplicate_of_a_quarantined_row_is_loaded_not_lost(
    source: SourceFolder, olist_ingest: Callable[..., CliRun]
) -> None:
    """A key's first row fails a check; its later, valid twin is the one to load."""
    path = source.copy("orders")
    good = source.line("orders", 4)
    source.set_field("orders", 4, "customer_id", b"not-a-customer-id")
    source.insert_line("orders", 21, good)

    run = olist_ingest(source, "orders")

    assert run.rc == 0
    rejected = rejected_rows("orders")
    assert [(r.line_number, r.column_name) for r in rejected] == [(4, "customer_id")]
    assert "duplicate" not in rejected[0].reason
    with staging() as con:
        loaded = con.execute(
            "SELECT customer_id FROM raw.orders WHERE order_id = ?", [order_id(good)]
        ).fetchall()
    assert loaded == [(good.split(b",")[1].decode(),)]
    assert_every_record_accounted_for("orders", path)


def test_a_quote_inside_an_unquoted_value_does_not_shift_the_lines_of_later_bad_rows(
    source: SourceFolder, olist_ingest: Callable[..., CliRun]
) -> None:
    # The parser reads `0"00...` as a value of its own line; the walk that finds rejected rows'
    # lines once took the quote for the start of a quoted field running over the next lines,
    # lost count, and the ingest failed (KeyError) with the row on line 29 never quarantined.
    path = source.copy("customers")
    first = source.line("customers", 2)
    source.replace_line("customers", 2, first[:1] + b'"' + first[1:])
    later = source.line("customers", 29)
    source.replace_line("customers", 29, b"\x00" + later)

    run = olist_ingest(source, "customers")

    assert run.rc == 0, run.err
    assert [r.line_number for r in rejected_rows("customers")] == [2, 29]
    assert_every_record_accounted_for("customers", path)


def test_blank_line_does_not_shift_the_reported_line_of_a_later_bad_row(
    source: SourceFolder, olist_ingest: Callable[..., CliRun]
) -> None:
    path = source.copy("orders")
    source.insert_line("orders", 5, b"")
    bad = source.set_field("orders", 10, "customer_id", b"abc123")

    run = olist_ingest(source, "orders")

    assert run.rc == 0
    [rejected] = rejected_rows("orders")
    assert rejected.line_number == 10
    assert rejected.raw_line == bad.decode()
    assert_every_record_accounted_for("orders", path)


# --------------------------------------------------------------------------------------------
# Multi-line quoted reviews: line numbers are physical lines, as an editor shows them
# --------------------------------------------------------------------------------------------


def _break_score(line: bytes) -> bytes:
    return with_field(line, "order_reviews", "review_score", b"9")


def _break_answer_timestamp(line: bytes) -> bytes:
    return with_field(line, "order_reviews", "review_answer_timestamp", b"31/12/2017 10:00:00")


def _add_field(line: bytes) -> bytes:
    return line + b",extra"


@pytest.mark.parametrize(
    ("breaks", "column", "words"),
    [
        pytest.param(_break_score, "review_score", ["1 to 5", 'got "9"'], id="score-out-of-range"),
        pytest.param(
            _break_answer_timestamp,
            "review_answer_timestamp",
            ['"31/12/2017 10:00:00"'],
            id="unparsable-timestamp",
        ),
        pytest.param(_add_field, None, ["too many fields"], id="too-many-fields"),
    ],
)
def test_bad_row_after_multiline_reviews_is_reported_at_its_physical_line(
    breaks: Callable[[bytes], bytes],
    column: str | None,
    words: list[str],
    source: SourceFolder,
    olist_ingest: Callable[..., CliRun],
) -> None:
    path = source.copy("order_reviews")
    records = records_with_lines(path)
    lines = source.lines("order_reviews")
    # A plain one-line record deep in the file, after many reviews that span several lines.
    index, target = next(
        (i, r)
        for i, r in enumerate(records)
        if r.first_line > 15_000
        and r.first_line == r.last_line
        and b'"' not in lines[r.first_line - 1]
    )
    multiline_before = sum(r.last_line > r.first_line for r in records[:index])
    assert multiline_before > 100
    assert target.first_line > index + 2  # record number and physical line really differ
    bad = source.replace_line(
        "order_reviews", target.first_line, breaks(lines[target.first_line - 1])
    )

    run = olist_ingest(source, "order_reviews")

    assert run.rc == 0
    [rejected] = rejected_rows("order_reviews")
    assert rejected.line_number == target.first_line
    assert rejected.raw_line == bad.decode()
    if column:
        assert rejected.column_name == column
        assert rejected.reason.startswith(f"{column}:")
    for word in words:
        assert word in rejected.reason
    assert_every_record_accounted_for("order_reviews", path)


def test_bad_multiline_review_is_reported_at_its_first_line_with_its_full_text(
    source: SourceFolder, olist_ingest: Callable[..., CliRun]
) -> None:
    path = source.copy("order_reviews")
    target = next(
        r for r in records_with_lines(path) if r.first_line > 15_000 and r.last_line > r.first_line
    )
    lines = source.lines("order_reviews")
    # Score is the third field; the first three fields of a review are never quoted.
    review_id, order, _score, rest = lines[target.first_line - 1].split(b",", 3)
    source.replace_line(
        "order_reviews", target.first_line, b",".join([review_id, order, b"0", rest])
    )
    expected_raw = b"\n".join(
        source.lines("order_reviews")[target.first_line - 1 : target.last_line]
    )

    run = olist_ingest(source, "order_reviews")

    assert run.rc == 0
    [rejected] = rejected_rows("order_reviews")
    assert rejected.line_number == target.first_line
    assert rejected.column_name == "review_score"
    assert 'got "0"' in rejected.reason
    assert rejected.raw_line == expected_raw.decode()
    assert "\r\n" in rejected.raw_line
    assert_every_record_accounted_for("order_reviews", path)


# --------------------------------------------------------------------------------------------
# Reruns and the run summary
# --------------------------------------------------------------------------------------------


def _staging_snapshot(table: str) -> tuple[int, list[tuple], set[str]]:
    with staging() as con:
        count = con.execute(f"SELECT count(*) FROM raw.{table}").fetchone()[0]
        rejected = con.execute(
            "SELECT table_name, source_sha256, line_number, reason, raw_line, _dlt_load_id "
            "FROM raw.rejected_rows ORDER BY table_name, line_number"
        ).fetchall()
        load_ids = {i for (i,) in con.execute(f"SELECT _dlt_load_id FROM raw.{table}").fetchall()}
    return count, rejected, load_ids


def test_rerun_of_the_same_bad_file_changes_nothing_and_reports_it_unchanged(
    source: SourceFolder, olist_ingest: Callable[..., CliRun]
) -> None:
    path = source.copy("orders")
    source.replace_line("orders", 6, source.line("orders", 6).rsplit(b",", 1)[0])
    source.set_field("orders", 30, "customer_id", b"abc")
    source.insert_line("orders", 40, source.line("orders", 8))

    first = olist_ingest(source, "orders")
    assert first.rc == 0
    before = _staging_snapshot("orders")
    assert len(before[1]) == 3
    assert_every_record_accounted_for("orders", path)

    second = olist_ingest(source, "orders")

    assert second.rc == 0
    assert _staging_snapshot("orders") == before
    assert re.search(r"[│|] orders +[│|].*unchanged", second.out)
    assert "quarantined in raw.rejected_rows" not in second.out


def test_run_summary_shows_quarantined_count_per_table_and_reason(
    source: SourceFolder, olist_ingest: Callable[..., CliRun]
) -> None:
    items_path = source.copy("order_items")
    orders_path = source.copy("orders")
    source.set_field("order_items", 3, "price", b"-1.00")
    source.set_field("order_items", 8, "price", b"-2.50")
    source.set_field("order_items", 11, "shipping_limit_date", b"soon")
    source.insert_line("orders", 50, source.line("orders", 2))

    run = olist_ingest(source, "order_items", "orders")

    assert run.rc == 0
    items_records, orders_records = csv_record_count(items_path), csv_record_count(orders_path)
    assert summary_counts(run.out, "order_items") == (items_records, items_records - 3, 3)
    assert summary_counts(run.out, "orders") == (orders_records, orders_records - 1, 1)
    assert "4 row(s) quarantined in raw.rejected_rows" in run.out
    reason_lines = [
        line.strip() for line in run.out.splitlines() if re.match(r"\s+\w+: [\d,]+ rows?: ", line)
    ]
    expected = [
        r"order_items: 2 rows?: price: .*non-negative.*",
        r"order_items: 1 rows?: shipping_limit_date: .*YYYY-MM-DD HH:MM:SS, from 2000 to 2099",
        r"orders: 1 rows?: duplicate key.*",
    ]
    assert len(reason_lines) == len(expected), run.out
    for pattern in expected:
        assert sum(bool(re.fullmatch(pattern, line)) for line in reason_lines) == 1, pattern
    assert_every_record_accounted_for("order_items", items_path)
    assert_every_record_accounted_for("orders", orders_path)


# --------------------------------------------------------------------------------------------
# Values loaded exactly or not at all: no rounding, no bytes a staging database cannot store,
# no dates outside the data set's era
# --------------------------------------------------------------------------------------------


def test_a_price_with_a_third_decimal_is_quarantined_not_rounded(
    source: SourceFolder, olist_ingest: Callable[..., CliRun]
) -> None:
    path = source.copy("order_items")
    bad = source.set_field("order_items", 6, "price", b"1.234")
    source.set_field("order_items", 7, "price", b"12.300")  # exact: trailing zeros change nothing
    exact_order = order_id(source.line("order_items", 7))

    run = olist_ingest(source, "order_items")

    assert run.rc == 0
    [rejected] = rejected_rows("order_items")
    assert (rejected.line_number, rejected.column_name) == (6, "price")
    assert 'got "1.234"' in rejected.reason
    assert rejected.raw_line == bad.decode()
    with staging() as con:
        [(price,)] = con.execute(
            "SELECT CAST(price AS VARCHAR) FROM raw.order_items WHERE order_id = ? "
            "AND order_item_id = 1",
            [exact_order],
        ).fetchall()
    assert price == "12.30"
    assert_every_record_accounted_for("order_items", path)


@pytest.mark.parametrize(
    ("column", "written"),
    [
        pytest.param("order_purchase_timestamp", b"1900-01-01 00:00:00", id="purchase-in-1900"),
        pytest.param("order_purchase_timestamp", b"2100-01-01 00:00:00", id="purchase-in-2100"),
        pytest.param("order_delivered_customer_date", b"2999-12-31 23:59:59", id="delivered-later"),
        pytest.param("order_estimated_delivery_date", b"1970-01-01 00:00:00", id="estimate-1970"),
    ],
)
def test_a_timestamp_outside_the_data_sets_era_is_quarantined_with_the_rule(
    column: str, written: bytes, source: SourceFolder, olist_ingest: Callable[..., CliRun]
) -> None:
    path = source.copy("orders")
    line = next(
        n for n, text in enumerate(source.lines("orders"), start=1) if n > 1 and b",," not in text
    )
    bad = source.set_field("orders", line, column, written)

    run = olist_ingest(source, "orders")

    assert run.rc == 0
    [rejected] = rejected_rows("orders")
    assert (rejected.line_number, rejected.column_name) == (line, column)
    assert "from 2000 to" in rejected.reason
    assert f'got "{written.decode()}"' in rejected.reason
    assert rejected.raw_line == bad.decode()
    assert_every_record_accounted_for("orders", path)


def test_a_purchase_after_the_file_was_written_is_quarantined(
    source: SourceFolder, olist_ingest: Callable[..., CliRun]
) -> None:
    path = source.copy("orders")
    source.set_field("orders", 2, "order_purchase_timestamp", b"2018-08-01 10:00:00")
    # The file says it was written on 2018-07-01: an order placed a month later cannot be in it.
    written = datetime(2018, 7, 1, tzinfo=UTC).timestamp()
    os.utime(path, (written, written))

    run = olist_ingest(source, "orders")

    assert run.rc == 0
    [rejected] = [r for r in rejected_rows("orders") if r.line_number == 2]
    assert rejected.column_name == "order_purchase_timestamp"
    assert "the day the file was written" in rejected.reason


@pytest.mark.parametrize("staging_database", ["duckdb", "postgres"])
def test_a_nul_byte_is_quarantined_alike_on_both_staging_databases_and_a_fixed_file_loads(
    staging_database: str,
    source: SourceFolder,
    olist_env: OlistEnv,
    request: pytest.FixtureRequest,
    olist_ingest: Callable[..., CliRun],
) -> None:
    if staging_database == "postgres":
        olist_env.set(OLIST_STAGING_URL=request.getfixturevalue("postgres_url"))
    path = source.copy("orders")
    good = source.line("orders", 4)
    source.replace_line("orders", 4, good.replace(b",delivered,", b",deliv\x00ered,"))
    key = order_id(good)

    first = olist_ingest(source, "orders")

    assert first.rc == 0, first.err
    [rejected] = bronze_rows(
        "SELECT line_number, column_name, reason, raw_line FROM raw.rejected_rows"
    )
    assert rejected[:2] == (4, "order_status")
    assert "NUL byte" in rejected[2]
    assert "deliv\\x00ered" in rejected[3]  # escaped: shown, and storable
    assert bronze_rows("SELECT count(*) FROM raw.orders") == [(csv_record_count(path) - 1,)]

    source.replace_line("orders", 4, good)  # the file fixed: the next ingest loads the row
    second = olist_ingest(source, "orders")

    assert second.rc == 0, second.err
    assert bronze_rows("SELECT order_status FROM raw.orders WHERE order_id = ?", key) == [
        ("delivered",)
    ]
    assert bronze_rows("SELECT count(*) FROM raw.orders") == [(csv_record_count(path),)]


def bronze_rows(query: str, *parameters: object) -> list[tuple]:
    """Rows of `query` on the staging database the test's OLIST_STAGING_URL names."""
    url = os.environ.get("OLIST_STAGING_URL")
    if url is None:
        with staging() as con:
            return con.execute(query, list(parameters)).fetchall()
    with psycopg.connect(url) as con:
        return [tuple(row) for row in con.execute(query.replace("?", "%s"), parameters)]
