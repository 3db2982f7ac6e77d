"""Property: whatever is done to a source file's rows, every row is loaded exactly or quarantined.

Hypothesis mutates the first records of real sample files (bytes, quotes, delimiters, line
endings, field counts, encodings, numbers, dates, codes), then the real CLI loads the file into
a staging database: the embedded DuckDB default, or PostgreSQL (fewer examples: each one creates
a database and loads it over the network). All nine tables are mutated. For every example: no
traceback, loaded + quarantined rows = the records Python's own csv module reads from the mutated
file, and every loaded row equals, value for value, a record of the file with its key, read as
the column's kind says.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pytest
from helpers.servers import PostgresRole, temporary_database
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.tables import TABLES_BY_NAME, Kind, SourceTable
from olist.cli import main

# Every table: between them they hold every kind of column (timestamps and empty optional values,
# money, counts, scores, coordinates, zip prefixes, codes) and quoted reviews spanning lines.
TABLES = list(TABLES_BY_NAME)
RECORDS = 30  # data records kept from each sample file

ODD_BYTES = [b"\x00", b"\xff", b"\xe3", b'"', b",", b";", b"\r", b"\n", b"\t", b" ", b"\\"]
ODD_VALUES = [
    b"",
    b"1.234",
    b"12.300",
    b"-0.01",
    b"1e3",
    b"99999999999.99",
    b"0",
    b"+5",
    b"2147483648",
    b"2018-02-30 10:00:00",
    b"1900-01-01 00:00:00",
    b"2100-01-01 00:00:00",
    b"2018-1-1 1:2:3",
    b"2018-01-01T10:00:00",
    b"NaN",
    b'"quoted, with comma"',
    b'"an ""escaped"" quote"',
    "s\u00e3o paulo".encode(),
    "s\u00e3o paulo".encode("latin-1"),
    b":x: [bold]markup[/]",
    b"returned",
    b" Delivered ",
    b"pix",
    b"04195",
    b"4195",
    b"91.5",
    b"-181",
]


def _records(path: Path) -> list[bytes]:
    """The header and the first RECORDS data records of a file, each with its line break(s)."""
    data = path.read_bytes()
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    lines = data.splitlines(keepends=True)
    records, consumed = [], 0
    for _ in reader:
        records.append(b"".join(lines[consumed : reader.line_num]))
        consumed = reader.line_num
        if len(records) == RECORDS + 1:
            break
    return records


def _mutation() -> st.SearchStrategy:
    position = st.integers(min_value=0, max_value=10_000)
    return st.one_of(
        st.tuples(st.just("insert"), position, st.sampled_from(ODD_BYTES)),
        st.tuples(st.just("delete"), position, st.integers(min_value=1, max_value=8)),
        st.tuples(st.just("field"), position, st.sampled_from(ODD_VALUES)),
        st.tuples(st.just("drop-field"), position, st.none()),
        st.tuples(st.just("extra-field"), position, st.sampled_from(ODD_VALUES)),
        st.tuples(st.just("semicolons"), position, st.none()),
        st.tuples(st.just("crlf"), position, st.none()),
        st.tuples(st.just("duplicate"), position, st.none()),
        st.tuples(st.just("latin-1"), position, st.none()),
    )


def _mutate(record: bytes, kind: str, position: int, value: bytes | None) -> bytes:
    body, ending = record.rstrip(b"\r\n"), record[len(record.rstrip(b"\r\n")) :]
    fields = body.split(b",")
    at = position % max(len(body), 1)
    field_index = position % len(fields)
    if kind == "insert":
        return body[:at] + value + body[at:] + ending
    if kind == "delete":
        return body[:at] + body[at + (value or 1) :] + ending
    if kind == "field":
        fields[field_index] = value
    elif kind == "drop-field":
        del fields[field_index]
    elif kind == "extra-field":
        fields.insert(field_index, value)
    elif kind == "semicolons":
        return body.replace(b",", b";") + ending
    elif kind == "crlf":
        return body + b"\r\n"
    elif kind == "duplicate":
        return record + record
    elif kind == "latin-1":
        return body.decode("utf-8", errors="replace").encode("latin-1", errors="replace") + ending
    return b",".join(fields) + ending


def _typed(text: str, kind: Kind) -> object:
    """A source text read as its column's kind says, independently of the code under test."""
    if text == "":
        return None
    if kind in (Kind.TIMESTAMP, Kind.EVENT_TIME):
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    if kind is Kind.MONEY:
        return Decimal(text)
    if kind in (Kind.COUNT, Kind.SCORE):
        return int(text)
    if kind is Kind.COORDINATE:
        return float(text)
    return text


def _source_records(path: Path, table: SourceTable) -> list[list[str]]:
    """Data records as Python's csv module reads them (blank lines skipped, bad bytes escaped)."""
    text = path.read_bytes().decode("utf-8", errors="surrogateescape")
    rows = [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    return rows[1:]


def _could_be(row: tuple, record: list[str], table: SourceTable) -> bool:
    if len(record) != len(table.columns):
        return False
    try:
        typed = tuple(_typed(t, c.kind) for t, c in zip(record, table.columns, strict=True))
    except (ValueError, ArithmeticError):  # decimal.InvalidOperation is an ArithmeticError
        return False
    return typed == row


@pytest.fixture(scope="module")
def originals(sample_dir: Path) -> dict[str, list[bytes]]:
    return {t: _records(sample_dir / TABLES_BY_NAME[t].file_name) for t in TABLES}


MUTATED_FILES = st.tuples(
    st.sampled_from(TABLES),
    st.lists(
        st.tuples(st.integers(min_value=1, max_value=RECORDS), _mutation()), min_size=1, max_size=4
    ),
)
UNHEALTHY = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]


@settings(max_examples=45, deadline=None, suppress_health_check=UNHEALTHY)
@given(mutated=MUTATED_FILES)
def test_every_mutated_row_is_loaded_exactly_or_quarantined_and_nothing_is_lost(
    mutated, originals, tmp_path_factory, monkeypatch, capsys
):
    _check_mutated_file(*mutated, originals, tmp_path_factory, monkeypatch, capsys, None)


# Each example creates a database and loads it through dlt's PostgreSQL destination, slower than
# the embedded DuckDB file, so fewer of them: the mutations are the same, and the DuckDB test
# explores them more widely.
@settings(max_examples=12, deadline=None, suppress_health_check=UNHEALTHY)
@given(mutated=MUTATED_FILES)
def test_every_mutated_row_is_loaded_exactly_or_quarantined_on_postgresql_staging(
    mutated, originals, tmp_path_factory, monkeypatch, capsys, postgres_admin_url, postgres_role
):
    with temporary_database(postgres_admin_url, owner=postgres_role.user) as database:
        postgres = (postgres_role, database)
        _check_mutated_file(*mutated, originals, tmp_path_factory, monkeypatch, capsys, postgres)


def _check_mutated_file(
    table_name: str,
    mutations: list,
    originals: dict[str, list[bytes]],
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    postgres: tuple[PostgresRole, str] | None,
) -> None:
    table = TABLES_BY_NAME[table_name]
    work = tmp_path_factory.mktemp("mutated")
    monkeypatch.chdir(work)
    for name in [n for n in os.environ if n.startswith("OLIST_")]:
        monkeypatch.delenv(name)
    if postgres is not None:
        role, database = postgres
        monkeypatch.setenv("OLIST_STAGING_URL", role.url(database))
    records = list(originals[table_name])
    for index, (kind, position, value) in mutations:
        records[index] = _mutate(records[index], kind, position, value)
    source = work / "source"
    source.mkdir()
    path = source / table.file_name
    path.write_bytes(b"".join(records))

    rc = main(["ingest", "--source", str(source), "--tables", table_name])

    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    staging = _Staging(os.environ.get("OLIST_STAGING_URL"))
    if rc == 1:  # refused whole (mixed or lone-CR line endings): one sentence naming the file
        [message] = err.strip().splitlines()
        assert message.startswith(f"error: {path}") and "Nothing was loaded" in message
        assert not staging.bronze_tables()
        shutil.rmtree(work)
        return
    assert rc == 0, err
    expected = _source_records(path, table)
    columns = ", ".join(f'"{c}"' for c in table.column_names)
    loaded = []  # every row quarantined: no bronze table yet
    if table_name in staging.raw_tables():
        loaded = staging.rows(f"SELECT {columns} FROM raw.{table_name}")
    quarantined = 0
    if "rejected_rows" in staging.raw_tables():
        [(quarantined,)] = staging.rows(
            "SELECT count(*) FROM raw.rejected_rows WHERE table_name = ?", table_name
        )
    assert len(loaded) + quarantined == len(expected), (len(loaded), quarantined, mutations)
    for row in loaded:
        assert any(_could_be(row, record, table) for record in expected), (row, mutations)
    shutil.rmtree(work)


class _Staging:
    """The staging database an example loaded into: the embedded DuckDB file, or PostgreSQL."""

    def __init__(self, postgres_url: str | None) -> None:
        self.postgres_url = postgres_url

    def rows(self, query: str, *parameters: object) -> list[tuple]:
        if self.postgres_url is None:
            if not Path("data/staging.duckdb").exists():
                return []
            with duckdb.connect("data/staging.duckdb", read_only=True) as con:
                return con.execute(query, list(parameters)).fetchall()
        with psycopg.connect(self.postgres_url) as con:
            return [tuple(r) for r in con.execute(query.replace("?", "%s"), parameters)]

    def raw_tables(self) -> set[str]:
        query = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
        return {name for (name,) in self.rows(query)}

    def bronze_tables(self) -> list[str]:
        return [name for name in self.raw_tables() if not name.startswith("_dlt")]
