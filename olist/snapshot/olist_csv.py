"""An Olist CSV file read record by record: each row's fields next to its raw bytes.

`olist snapshot` writes most records back untouched and re-serialises only the few it changes, so
it needs both what a record says (its fields, parsed by the csv module) and exactly how the file
wrote it (its raw bytes, found by `ingest.source_records`, which tracks quotes across the line
breaks of multi-line reviews). Fields are decoded with `surrogateescape`, so even a record with
invalid UTF-8 comes back byte for byte when it is re-serialised.

Writing a record back needs its line break, which `iter_records` strips: every record is taken to
end like the header line (a file's line break is uniform in every Olist export), and the last
record to end without one when the file's last byte is not a line break.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.source_records import SourceRecord, iter_records
from olist.errors import SourceFileError

UTF8_BOM = b"\xef\xbb\xbf"
ENCODING, DECODE_ERRORS = "utf-8", "surrogateescape"


@dataclass(frozen=True)
class CsvRow:
    """One record of the file; `fields` is empty for a blank line."""

    record: SourceRecord
    fields: list[str]


@dataclass(frozen=True)
class OlistCsv:
    """The header of one CSV file, and the way to walk its rows."""

    path: Path
    header_line: bytes  # line 1 exactly as in the file: BOM and line break included
    columns: tuple[str, ...]
    line_break: bytes  # how the header line ends: b"\r\n" or b"\n"
    ends_with_line_break: bool  # whether the file's last byte is a line break

    @classmethod
    def open(cls, path: Path) -> OlistCsv:
        """Read the header; a missing or empty file is a `SourceFileError` naming it."""
        if not path.is_file():
            raise SourceFileError(f"{path}: file not found. Put the file in the source folder.")
        with path.open("rb") as handle:
            header_line = handle.readline()
            if not header_line.strip():
                raise SourceFileError(
                    f"{path}: the file is empty; line 1 should be its header. "
                    "Export the file again."
                )
            handle.seek(-1, io.SEEK_END)
            ends_with_line_break = handle.read(1) == b"\n"
        text = header_line.removeprefix(UTF8_BOM).decode(ENCODING, DECODE_ERRORS)
        return cls(
            path=path,
            header_line=header_line,
            columns=tuple(next(csv.reader([text.rstrip("\r\n")]))),
            line_break=b"\r\n" if header_line.endswith(b"\r\n") else b"\n",
            ends_with_line_break=ends_with_line_break,
        )

    def index(self, column: str) -> int:
        """Position of `column` in the header; a `SourceFileError` naming the file if absent."""
        if column not in self.columns:
            raise SourceFileError(
                f"{self.path}, line 1 (header): no column {column!r}; found "
                f"{','.join(self.columns)}. Fix the header (the Olist files' original column "
                "names) and run again."
            )
        return self.columns.index(column)

    def rows(self) -> Iterator[CsvRow]:
        """Every record after the header, in file order, blank lines included.

        A row whose fields cannot be parsed, or whose field count differs from the header's, is
        a `SourceFileError` naming the file and line.
        """
        for record in iter_records(self.path):
            if record.is_blank:
                yield CsvRow(record, [])
                continue
            text = record.raw.decode(ENCODING, DECODE_ERRORS)
            try:
                fields = next(csv.reader([text], strict=True))
            except csv.Error as error:
                raise self.row_error(record, f"the row is not valid CSV ({error})") from None
            if len(fields) != len(self.columns):
                raise self.row_error(
                    record, f"expected {len(self.columns)} fields, found {len(fields)}"
                )
            yield CsvRow(record, fields)

    def count_rows(self) -> int:
        """Rows after the header, blank lines left out, without parsing them."""
        return sum(1 for record in iter_records(self.path) if not record.is_blank)

    def row_error(self, record: SourceRecord, problem: str) -> SourceFileError:
        """An error pointing at a record's line, showing the start of its raw text."""
        shown = record.text if len(record.text) <= 200 else record.text[:200] + "..."
        return SourceFileError(
            f"{self.path}, line {record.line_number}: {problem}.\n  the row: {shown}\n"
            "Fix or remove the row and run again."
        )


def format_record(fields: Sequence[str]) -> bytes:
    """Fields as one CSV record with minimal quoting and no line break.

    `\\r\\n` as the writer's terminator makes it quote any field holding either character (it
    quotes only the characters of its own terminator); the terminator is then cut off.
    """
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(fields)
    return buffer.getvalue().removesuffix("\r\n").encode(ENCODING, DECODE_ERRORS)
