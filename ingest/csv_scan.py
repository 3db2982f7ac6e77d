"""Read one Olist CSV file into typed Arrow tables, setting aside every row that fails a check.

DuckDB parses the file (fast, parallel, streaming) with the table's explicit column types and
records the rows it cannot parse (wrong field count, unparsable value, invalid UTF-8) in its
rejects table. The same query checks what parsing cannot: required values, id and zip formats,
negative money, scores out of range, codes the warehouse does not know (an order status, a
payment type), and keys repeated inside the file. Good rows stream out in
batches; rejected rows come back as `Rejection`s once the file has been read.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ingest.source_records import (
    SourceRecord,
    first_line_ending_unlike_the_header,
    first_stray_carriage_return,
    iter_records,
)
from ingest.tables import (
    DUCKDB_TYPES,
    EXPECTED,
    PARSED_AS,
    ROW_HASH,
    ROW_KEY,
    VALID_WHEN,
    Column,
    SourceTable,
    conform,
)
from olist.errors import SourceFileError
from olist.sql import sql_string

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
    loaded_rows: int = 0  # new or changed rows
    unchanged_rows: int = 0  # already in staging with the same values
    rejections: list[Rejection] = field(default_factory=list)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def check_file(path: Path, table: SourceTable) -> None:
    """Reject the whole file before anything is read when it is missing, empty or misheaded."""
    if not path.is_file():
        raise SourceFileError(
            f"{path}: file not found. The {table.name} table is read from {table.file_name}. "
            "Nothing was loaded. Put the file in the source folder, or pass --tables to load "
            "only some tables."
        )
    with path.open("rb") as handle:
        first_line = handle.readline()
    problem = _not_a_utf8_csv(first_line)
    if problem:
        raise SourceFileError(
            f"{path}: {problem}. Nothing was loaded. The {table.name} table is read from a "
            "plain UTF-8 CSV file with a line break after each record."
        )
    if not first_line.strip():
        raise SourceFileError(
            f"{path}: the file is empty; line 1 should be the header "
            f"{','.join(table.column_names)}. Nothing was loaded. Export the file again."
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


# File signatures of what people hand over instead of a CSV file, and what to do about each.
_SIGNATURES = (
    (b"\x1f\x8b", "the file is gzip-compressed; decompress it (gunzip) and run again"),
    (b"PK\x03\x04", "the file is a ZIP archive; extract the CSV file from it and run again"),
    (b"\xff\xfe", "the file is encoded as UTF-16; re-save it as UTF-8 and run again"),
    (b"\xfe\xff", "the file is encoded as UTF-16; re-save it as UTF-8 and run again"),
)


def _not_a_utf8_csv(first_line: bytes) -> str | None:
    """Why a file whose first line (up to its first LF) is `first_line` cannot be read, if so."""
    for signature, problem in _SIGNATURES:
        if first_line.startswith(signature):
            return problem
    if b"\x00" in first_line:  # UTF-16 or UTF-32 without a byte order mark, or a binary file
        return (
            "the header holds NUL bytes: the file is binary or encoded as UTF-16/UTF-32; "
            "re-save it as UTF-8 and run again"
        )
    if b"\r" in first_line.rstrip(b"\r\n"):
        return (
            "its lines end with a lone carriage return (CR, old Mac style); convert the line "
            "endings to LF or CRLF and run again"
        )
    return None


def _shown(c: str) -> str:
    """SQL for a checked value as a reason quotes it; a NUL byte is written `\\x00`, because
    PostgreSQL cannot store it in the quarantine either."""
    return f"'\"' || replace(CAST({c} AS VARCHAR), chr(0), '\\x00') || '\"'"


def _value_checks(table: SourceTable, file_time: datetime) -> list[tuple[str, str, str]]:
    """(column, SQL condition that flags a bad row, SQL expression for the reason)."""
    file_time_sql = f"TIMESTAMP {sql_string(file_time.isoformat(sep=' '))}"
    checks = []
    for column in table.columns:
        c = _quote(column.name)
        if not column.nullable:
            message = f"{column.name}: missing value; expected {EXPECTED[column.kind]}"
            checks.append((column.name, f"{c} IS NULL", sql_string(message)))
        if PARSED_AS[column.kind] == "VARCHAR":
            # DuckDB keeps a NUL byte in a value; PostgreSQL cannot store one. Both refuse it,
            # so the two staging databases always hold the same rows.
            message = (
                f"{column.name}: the value holds a NUL byte (\\x00), which the staging database "
                "cannot store; remove it from the file"
            )
            checks.append((column.name, f"contains({c}, chr(0))", sql_string(message)))
        if column.accepted:
            accepted = ", ".join(sql_string(value) for value in column.accepted)
            condition = (  # a NUL byte has its own reason above
                f"{c} IS NOT NULL AND NOT contains({c}, chr(0)) "
                f"AND lower(trim({c})) NOT IN ({accepted})"
            )
            expected = f"{column.name}: expected one of {', '.join(column.accepted)}, got "
            checks.append((column.name, condition, f"{sql_string(expected)} || {_shown(c)}"))
        if column.kind in VALID_WHEN:
            valid = VALID_WHEN[column.kind].format(c=c, file_time=file_time_sql)
            condition = f"{c} IS NOT NULL AND NOT ({valid})"
            reason = (
                f"{sql_string(f'{column.name}: expected {EXPECTED[column.kind]}, got ')}"
                f" || {_shown(c)}"
            )
            checks.append((column.name, condition, reason))
    return checks


def _loaded_value(column: Column) -> str:
    """SQL for a checked column's value as it is loaded (a rejected row's may be NULL)."""
    c = f"c.{_quote(column.name)}"
    if PARSED_AS[column.kind] == DUCKDB_TYPES[column.kind]:
        return c
    return f"TRY_CAST({c} AS {DUCKDB_TYPES[column.kind]})"


KNOWN_ROWS = "known_rows"  # (merge key, row hash) of the rows already in staging


PARSED_ROWS = "parsed_rows"  # the file's parsed rows, in file order

# What the check query says of each row (its `_status` column).
NEW, UNCHANGED, REJECTED = 0, 1, 2
# Columns of a rejected row that locate it and say why.
FLAG_COLUMNS = ["_reject_reason", "_reject_column", "_duplicate_of", "_record_index"]


def parse_statement(path: Path, table: SourceTable) -> str:
    """Parse and type a source file into PARSED_ROWS; unparsable rows go to `reject_errors`."""
    columns = ", ".join(
        f"{sql_string(c.name)}: {sql_string(PARSED_AS[c.kind])}" for c in table.columns
    )
    return f"""
CREATE TEMP TABLE {PARSED_ROWS} AS
FROM read_csv(
    {sql_string(str(path))},
    columns = {{{columns}}},
    header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
    strict_mode = true, null_padding = false, nullstr = '',
    timestampformat = {sql_string(TIMESTAMP_FORMAT)},
    store_rejects = true, rejects_scan = 'reject_scans', rejects_table = 'reject_errors'
)
"""


def check_query(table: SourceTable, file_time: datetime, *, compare_known: bool = False) -> str:
    """Check, key and hash the parsed rows (see `parse_statement`).

    Every row gets a `_status`: REJECTED (with a reason), UNCHANGED (with `compare_known`, when
    the table `known_rows`, see KNOWN_ROWS, holds its key with the same hash) or NEW.
    """
    checks = _value_checks(table, file_time)
    reason = "NULLIF(concat_ws('; ', {}), '')".format(
        ", ".join(f"CASE WHEN {cond} THEN {msg} END" for _, cond, msg in checks)
    )
    first_bad_column = "coalesce({})".format(
        ", ".join(f"CASE WHEN {cond} THEN {sql_string(col)} END" for col, cond, _ in checks)
    )
    values = [_loaded_value(column) for column in table.columns]
    # DuckDB's 64-bit hash is enough to tell whether the row under one key changed (a collision
    # is 2^-63 likely) and costs almost nothing; halved to fit a signed BIGINT. It may change with
    # a DuckDB upgrade, which then re-merges every row once, losing nothing.
    selected = [
        *(f"{v} AS {_quote(n)}" for v, n in zip(values, table.column_names, strict=True)),
        f"CAST(hash({', '.join(values)}) // 2 AS BIGINT) AS {ROW_HASH}",
    ]
    if table.primary_key:
        keys = [_quote(n) for n in table.primary_key]
        # Keys repeat only among rows that pass every other check: a bad first row must not take
        # a good later row with the same key down with it. The earliest good row is kept.
        repeated = f"""repeated_keys AS (
    SELECT {", ".join(keys)}, min(_record_index) AS _first_record_index
    FROM checked
    WHERE _reject_reason IS NULL
    GROUP BY ALL
    HAVING count(*) > 1
),"""
        duplicate_of = (
            "CASE WHEN c._reject_reason IS NULL AND c._record_index > rk._first_record_index "
            "THEN rk._first_record_index END"
        )
        key_join = "LEFT JOIN repeated_keys rk ON " + " AND ".join(f"rk.{k} = c.{k}" for k in keys)
    else:
        # Keyless (geolocation): every row is kept, keyed by its values and its occurrence number
        # among identical rows, so reloading the same file changes nothing. md5, not hash():
        # this key must be unique across millions of rows.
        repeated, duplicate_of, key_join = "", "NULL", ""
        text = ", ".join(f"CAST({v} AS VARCHAR)" for v in values)
        identical = ", ".join(values)
        occurrence = f"row_number() OVER (PARTITION BY {identical} ORDER BY c._record_index)"
        selected.append(f"md5(concat_ws(chr(31), {text}, {occurrence})) AS {ROW_KEY}")
    unchanged, known_join = "false", ""
    if compare_known:
        matches = " AND ".join(
            f"k.{_quote(n)} = r.{_quote(n)}" for n in (*table.merge_key, ROW_HASH)
        )
        unchanged = f"k.{ROW_HASH} IS NOT NULL"
        known_join = f"LEFT JOIN {KNOWN_ROWS} k ON {matches}"
    return f"""
WITH parsed AS (
    -- rowid follows file order (DuckDB preserves insertion order), and unlike a
    -- row_number() window it costs nothing: it numbers the rows DuckDB could parse.
    SELECT *, rowid + 1 AS _record_index FROM {PARSED_ROWS}
),
checked AS (
    SELECT *, {reason} AS _reject_reason, {first_bad_column} AS _reject_column
    FROM parsed
),
{repeated}
rows AS (
    SELECT {", ".join(selected)},
        c._reject_reason,
        c._reject_column,
        {duplicate_of} AS _duplicate_of,
        c._record_index
    FROM checked c {key_join}
)
SELECT r.*,
    CASE
        WHEN r._reject_reason IS NOT NULL OR r._duplicate_of IS NOT NULL THEN {REJECTED}
        WHEN {unchanged} THEN {UNCHANGED}
        ELSE {NEW}
    END::TINYINT AS _status
FROM rows r {known_join}
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
    # A NUL byte is shown escaped: PostgreSQL cannot store it, even in the quarantine.
    return _reason_of(table, error_type, column, message).replace("\x00", "\\x00")


def _reason_of(table: SourceTable, error_type: str, column: str | None, message: str) -> str:
    if error_type == "CAST" and column:
        kind = next(c.kind for c in table.columns if c.name == column)
        value = _CAST_VALUE.search(message)
        got = f', got "{value.group(1)}"' if value else f" ({message})"
        return f"{column}: expected {EXPECTED[kind]}{got}"
    if error_type in ("MISSING COLUMNS", "TOO MANY COLUMNS"):
        return f"{_PARSER_REASONS[error_type]}: expected {len(table.columns)} fields ({message})"
    return _PARSER_REASONS.get(error_type, message)


def _file_time(path: Path) -> datetime:
    """The latest time an event in the file can have happened: when it was last written, plus a
    day for clocks and time zones (Olist's times are Brazil's local time, the file's is UTC)."""
    written = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
    return written + timedelta(days=1)


def _unreadable(path: Path, error: duckdb.InvalidInputException) -> str:
    """Why DuckDB's strict CSV parser gave up on the whole file, as precisely as can be said."""
    line = first_line_ending_unlike_the_header(path)
    if line is not None:
        return (
            f"{path}, line {line}: this record's line ends differently from the header's (CRLF "
            "against LF, or the reverse): the file mixes line endings, which the CSV parser "
            "cannot read. Nothing was loaded. Convert the file to one line ending (e.g. "
            "`dos2unix`) and run again."
        )
    line = first_stray_carriage_return(path)
    if line is not None:
        return (
            f"{path}, line {line}: a carriage return (CR) inside a record, outside quotes, which "
            "the CSV parser takes for the end of a line. Nothing was loaded. Remove it (or quote "
            "the field) and run again."
        )
    cause = str(error).splitlines()[0]
    return (
        f"{path}: the CSV parser could not read the file ({cause}). Nothing was loaded. Check "
        "its line endings and quotes, or re-export it, and run again."
    )


class CsvScan:
    """One pass over one source file. Iterate `batches()`, then read `result`.

    `known_rows`, when given, streams the (merge key, `_row_hash`) pairs already in staging;
    rows found there unchanged are counted but not yielded.
    """

    def __init__(
        self,
        path: Path,
        table: SourceTable,
        *,
        temp_dir: Path,
        known_rows: pa.RecordBatchReader | None = None,
    ) -> None:
        self.path = path
        self.table = table
        self.result = ScanResult()
        self._temp_dir = temp_dir
        self._known_rows = known_rows

    def _connect(self) -> duckdb.DuckDBPyConnection:
        self._temp_dir.mkdir(parents=True, exist_ok=True)
        # A bounded memory limit makes DuckDB spill the key windows to disk on very large files.
        return duckdb.connect(
            config={"memory_limit": "512MB", "temp_directory": str(self._temp_dir)}
        )

    def batches(self) -> Iterator[pa.Table]:
        check_file(self.path, self.table)
        flagged: list[dict[str, object]] = []
        schema = self.table.arrow_schema()
        with self._connect() as con:
            if self._known_rows is not None:
                con.register("known_rows_stream", self._known_rows)
                con.execute(f"CREATE TEMP TABLE {KNOWN_ROWS} AS FROM known_rows_stream")
            try:
                con.execute(parse_statement(self.path, self.table))
            except duckdb.InvalidInputException as error:
                raise SourceFileError(_unreadable(self.path, error)) from None
            query = check_query(
                self.table, _file_time(self.path), compare_known=self._known_rows is not None
            )
            for batch in con.execute(query).to_arrow_reader(BATCH_ROWS):
                self.result.source_rows += batch.num_rows
                status = batch.column("_status")
                if pc.max(status).as_py() == NEW:  # the common case: every row new, no filtering
                    new = pa.Table.from_batches([batch])
                else:
                    new = pa.Table.from_batches([batch]).filter(pc.equal(status, NEW))
                    rejected = batch.filter(pc.equal(status, REJECTED))
                    flagged.extend(rejected.select(FLAG_COLUMNS).to_pylist())
                    self.result.unchanged_rows += batch.num_rows - new.num_rows - len(rejected)
                self.result.loaded_rows += new.num_rows
                if new.num_rows:
                    yield conform(new, schema)
            parser_errors = con.execute(
                "SELECT line - 1, column_name, error_type::VARCHAR, error_message "
                "FROM reject_errors ORDER BY line"
            ).fetchall()
        self.result.rejections = self._rejections(parser_errors, flagged)
        self.result.source_rows += len({record for record, *_ in parser_errors})

    def _rejections(
        self, parser_errors: list[tuple], flagged: list[dict[str, object]]
    ) -> list[Rejection]:
        """Attach line numbers and raw text to every rejected row, in one walk of the file.

        DuckDB's rejects name a record number (blank lines included). Rows flagged by the checks
        are known by their index among the rows DuckDB parsed, which skips blank lines and the
        records it rejected; the walk counts the same way to find them.
        """
        parser_reasons: dict[int, tuple[str | None, list[str]]] = {}
        for record, column, error_type, message in parser_errors:
            _, texts = parser_reasons.setdefault(record, (column, []))
            texts.append(_parser_reason(self.table, error_type, column, message))
        flagged_by_index = {int(row["_record_index"]): row for row in flagged}
        wanted_indexes = set(flagged_by_index) | {
            int(row["_duplicate_of"]) for row in flagged if row["_duplicate_of"] is not None
        }
        by_record: dict[int, SourceRecord] = {}
        by_index: dict[int, SourceRecord] = {}
        parsed_index = 0
        for record in iter_records(self.path):
            if record.number in parser_reasons:
                by_record[record.number] = record
            elif not record.is_blank:
                parsed_index += 1
                if parsed_index in wanted_indexes:
                    by_index[parsed_index] = record
            if len(by_record) == len(parser_reasons) and len(by_index) == len(wanted_indexes):
                break

        rejections = [
            Rejection(by_record[n].line_number, column, "; ".join(texts), by_record[n].text)
            for n, (column, texts) in parser_reasons.items()
        ]
        for index, row in flagged_by_index.items():
            source = by_index[index]
            texts = [str(row["_reject_reason"])] if row["_reject_reason"] else []
            column = row["_reject_column"]
            if row["_duplicate_of"] is not None:
                kept = by_index[int(row["_duplicate_of"])]
                texts.append(
                    f"duplicate key ({', '.join(self.table.primary_key)}): the row on line "
                    f"{kept.line_number} has the same key and is kept"
                )
                column = column or self.table.primary_key[0]
            rejections.append(Rejection(source.line_number, column, "; ".join(texts), source.text))
        return sorted(rejections, key=lambda r: r.line_number)
