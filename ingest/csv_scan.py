"""Read one Olist CSV file into typed Arrow tables, setting aside every row that fails a check.

DuckDB parses the file (fast, parallel, streaming) with the table's explicit column types and
records the rows it cannot parse (wrong field count, unparsable value, invalid UTF-8) in its
rejects table. The same query checks what parsing cannot: required values, id and zip formats,
negative money, scores out of range, and keys repeated inside the file. Good rows stream out in
batches; rejected rows come back as `Rejection`s once the file has been read.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ingest.errors import SourceFileError
from ingest.source_records import locate_records
from ingest.tables import DUCKDB_TYPES, EXPECTED, ROW_KEY, VALID_WHEN, SourceTable

UTF8_BOM = b"\xef\xbb\xbf"
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
BATCH_ROWS = 256 * 1024


@dataclass(frozen=True)
class Rejection:
    """A source row that was not loaded, and why."""

    line_number: int
    column: str | None
    reason: str
    raw_line: str


@dataclass
class ScanResult:
    """What one file held; complete once the scan's batches have all been consumed."""

    source_rows: int = 0
    loaded_rows: int = 0
    rejections: list[Rejection] = field(default_factory=list)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def check_file(path: Path, table: SourceTable) -> None:
    """Reject the whole file before anything is read when it is missing, empty or misheaded."""
    if not path.is_file():
        raise SourceFileError(
            f"{path}: file not found. The {table.name} table is read from {table.file_name}; "
            "put the file in the source folder or pass --tables to load only some tables."
        )
    with path.open("rb") as handle:
        first_line = handle.readline()
    if not first_line.strip():
        raise SourceFileError(
            f"{path}: the file is empty; line 1 should be the header "
            f"{','.join(table.column_names)}. Export the file again."
        )
    text = first_line.removeprefix(UTF8_BOM).decode("utf-8", errors="replace").rstrip("\r\n")
    found = next(csv.reader([text]))
    expected = list(table.column_names)
    if found == expected:
        return
    missing = [name for name in expected if name not in found]
    unexpected = [name for name in found if name not in expected]
    problems = []
    if missing:
        problems.append("missing " + ", ".join(repr(n) for n in missing))
    if unexpected:
        problems.append("unexpected " + ", ".join(repr(n) for n in unexpected))
    if missing and unexpected:
        problems.append("a column may have been renamed")
    if not problems:
        problems.append("the columns are in a different order")
    raise SourceFileError(
        f"{path}, line 1 (header): {'; '.join(problems)}.\n"
        f"  expected: {','.join(expected)}\n"
        f"  found:    {','.join(found)}\n"
        "Nothing was loaded. Fix the header (the Olist files' original column names, "
        "misspellings included) and run again."
    )


def _value_checks(table: SourceTable) -> list[tuple[str, str, str]]:
    """(column, SQL condition that flags a bad row, SQL expression for the reason)."""
    checks = []
    for column in table.columns:
        c = _quote(column.name)
        if not column.nullable:
            message = f"{column.name}: missing value; expected {EXPECTED[column.kind]}"
            checks.append((column.name, f"{c} IS NULL", _sql_string(message)))
        if column.kind in VALID_WHEN:
            condition = f"{c} IS NOT NULL AND NOT ({VALID_WHEN[column.kind].format(c=c)})"
            reason = (
                f"{_sql_string(f'{column.name}: expected {EXPECTED[column.kind]}, got ')}"
                f" || CAST({c} AS VARCHAR)"
            )
            checks.append((column.name, condition, reason))
    return checks


def build_query(path: Path, table: SourceTable) -> str:
    """The one query that parses, types, checks and keys a source file."""
    columns = ", ".join(
        f"{_sql_string(c.name)}: {_sql_string(DUCKDB_TYPES[c.kind])}" for c in table.columns
    )
    partition = ", ".join(_quote(n) for n in (table.primary_key or table.column_names))
    checks = _value_checks(table)
    reason = "NULLIF(concat_ws('; ', {}), '')".format(
        ", ".join(f"CASE WHEN {cond} THEN {msg} END" for _, cond, msg in checks)
    )
    first_bad_column = "coalesce({})".format(
        ", ".join(f"CASE WHEN {cond} THEN {_sql_string(col)} END" for col, cond, _ in checks)
    )
    selected = [_quote(n) for n in table.column_names]
    if not table.primary_key:
        values = ", ".join(f"CAST({_quote(n)} AS VARCHAR)" for n in table.column_names)
        selected.append(f"md5(concat_ws(chr(31), {values}, _key_occurrence)) AS {ROW_KEY}")
    duplicate_of = "CASE WHEN _key_occurrence > 1 THEN _first_record_index END"
    if not table.primary_key:
        duplicate_of = "NULL"  # keyless: identical rows are all kept
    return f"""
WITH parsed AS (
    SELECT *, row_number() OVER () AS _record_index
    FROM read_csv(
        {_sql_string(str(path))},
        columns = {{{columns}}},
        header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
        strict_mode = true, null_padding = false, nullstr = '',
        timestampformat = {_sql_string(TIMESTAMP_FORMAT)},
        store_rejects = true, rejects_scan = 'reject_scans', rejects_table = 'reject_errors'
    )
),
keyed AS (
    SELECT *,
        row_number() OVER w AS _key_occurrence,
        first_value(_record_index) OVER w AS _first_record_index
    FROM parsed
    WINDOW w AS (PARTITION BY {partition} ORDER BY _record_index)
)
SELECT {", ".join(selected)},
    {reason} AS _reject_reason,
    {first_bad_column} AS _reject_column,
    {duplicate_of} AS _duplicate_of,
    _record_index
FROM keyed
"""


_PARSER_REASONS = {
    "MISSING COLUMNS": "too few fields",
    "TOO MANY COLUMNS": "too many fields",
    "INVALID ENCODING": "the line is not valid UTF-8; re-save the file as UTF-8",
    "UNQUOTED VALUE": "a quote inside an unquoted field",
    "LINE SIZE OVER MAXIMUM": "the record is too long (an unterminated quote?)",
}
_CAST_VALUE = re.compile(r'Could not convert string "(.*)" to', re.DOTALL)


def _parser_reason(table: SourceTable, error_type: str, column: str | None, message: str) -> str:
    if error_type == "CAST" and column:
        kind = next(c.kind for c in table.columns if c.name == column)
        value = _CAST_VALUE.search(message)
        got = f', got "{value.group(1)}"' if value else f" ({message})"
        return f"{column}: expected {EXPECTED[kind]}{got}"
    if error_type in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
        return f"{_PARSER_REASONS[error_type]}: expected {len(table.columns)} fields ({message})"
    return _PARSER_REASONS.get(error_type, message)


class CsvScan:
    """One pass over one source file. Iterate `batches()`, then read `result`."""

    def __init__(self, path: Path, table: SourceTable, *, temp_dir: Path) -> None:
        self.path = path
        self.table = table
        self.result = ScanResult()
        self._temp_dir = temp_dir

    def _connect(self) -> duckdb.DuckDBPyConnection:
        self._temp_dir.mkdir(parents=True, exist_ok=True)
        # A bounded memory limit makes DuckDB spill the key windows to disk on very large files.
        return duckdb.connect(
            config={"memory_limit": "768MB", "temp_directory": str(self._temp_dir)}
        )

    def batches(self) -> Iterator[pa.Table]:
        check_file(self.path, self.table)
        flagged: list[dict[str, object]] = []
        schema = self.table.arrow_schema()
        with self._connect() as con:
            reader = con.execute(build_query(self.path, self.table)).fetch_record_batch(BATCH_ROWS)
            for batch in reader:
                is_good = pc.and_(
                    pc.is_null(batch.column("_reject_reason")),
                    pc.is_null(batch.column("_duplicate_of")),
                )
                good = pa.Table.from_batches([batch]).filter(is_good)
                bad = batch.filter(pc.invert(is_good))
                if bad.num_rows:
                    flagged.extend(bad.select(list(bad.schema.names[-4:])).to_pylist())
                self.result.source_rows += batch.num_rows
                self.result.loaded_rows += good.num_rows
                yield good.select(schema.names).cast(schema)
            parser_errors = con.execute(
                "SELECT line - 1, column_name, error_type::VARCHAR, error_message "
                "FROM reject_errors ORDER BY line"
            ).fetchall()
        self.result.rejections = self._rejections(parser_errors, flagged)
        self.result.source_rows += len({record for record, *_ in parser_errors})

    def _rejections(
        self, parser_errors: list[tuple], flagged: list[dict[str, object]]
    ) -> list[Rejection]:
        # DuckDB numbers parsed rows without the ones it rejected; turn those indexes back
        # into record numbers in the file before asking where the records are.
        parser_records = sorted({record for record, *_ in parser_errors})

        def record_of(index: int) -> int:
            record = index
            for rejected in parser_records:
                if rejected > record:
                    break
                record += 1
            return record

        reasons: dict[int, tuple[str | None, list[str], int | None]] = {}
        for record, column, error_type, message in parser_errors:
            _, texts, _ = reasons.setdefault(record, (column, [], None))
            texts.append(_parser_reason(self.table, error_type, column, message))
        for row in flagged:
            record = record_of(int(row["_record_index"]))
            duplicate_of = row["_duplicate_of"]
            texts = [row["_reject_reason"]] if row["_reject_reason"] else []
            reasons[record] = (
                row["_reject_column"],
                texts,
                record_of(int(duplicate_of)) if duplicate_of is not None else None,
            )
        wanted = set(reasons) | {d for _, _, d in reasons.values() if d is not None}
        located = locate_records(self.path, wanted)
        rejections = []
        for record in sorted(reasons):
            column, texts, duplicate_of = reasons[record]
            if duplicate_of is not None:
                key = ", ".join(self.table.primary_key)
                texts.append(
                    f"duplicate key ({key}): the row on line "
                    f"{located[duplicate_of].line_number} has the same key and is kept"
                )
                column = column or self.table.primary_key[0]
            source = located[record]
            rejections.append(
                Rejection(source.line_number, column, "; ".join(texts), source.raw_line)
            )
        return rejections
