"""Walk the records of a CSV file with their physical line numbers and raw bytes.

DuckDB's CSV reader numbers records, not lines, and a quoted review may span several lines.
Quarantine must point at the line a person opens in an editor and keep the raw text, so for files
with rejected rows we walk the file once more, line by line, tracking quote parity to know where
each record starts and ends. Clean files never pay for this pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SourceRecord:
    number: int  # 1-based data record number (the header is record 0; blank lines count)
    line_number: int  # 1-based physical line where the record starts (the header is line 1)
    raw: bytes  # the record's bytes as in the file, without its final line break

    @property
    def is_blank(self) -> bool:
        return not self.raw.strip()

    @property
    def text(self) -> str:
        # Invalid UTF-8 is itself a rejection reason; keep the bad bytes visible as \xNN escapes.
        # So is a NUL byte, which PostgreSQL cannot store even in the quarantine.
        return self.raw.decode("utf-8", errors="backslashreplace").replace("\x00", "\\x00")


def iter_records(path: Path) -> Iterator[SourceRecord]:
    """Yield every data record after the header.

    A record ends at a line break outside quotes. As for DuckDB's parser, only a quote that
    starts a field opens a quoted field: a quote inside an unquoted value (`ab"c`) is a bad value
    of its own line, not the start of a quote running over the next lines. An unterminated
    quote runs to the end of the file and makes one last record.
    """
    number = -1  # the header is record 0
    start_line = 0
    parts: list[bytes] = []
    in_quotes = False
    with path.open("rb") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not parts:
                number += 1
                start_line = line_number
            in_quotes = _ends_inside_quotes(line, in_quotes)
            parts.append(line)
            if in_quotes:
                continue  # inside a quoted field: the record goes on on the next line
            if number > 0:
                yield SourceRecord(number, start_line, b"".join(parts).rstrip(b"\r\n"))
            parts = []
    if parts and number > 0:
        yield SourceRecord(number, start_line, b"".join(parts).rstrip(b"\r\n"))


def first_line_ending_unlike_the_header(path: Path) -> int | None:
    """The physical line where the first record ends with a line break unlike the header's
    (CRLF in a LF file, or the reverse); line breaks inside quoted fields do not count."""
    in_quotes = False
    header_ending: bytes | None = None
    with path.open("rb") as handle:
        for line_number, line in enumerate(handle, start=1):
            in_quotes = _ends_inside_quotes(line, in_quotes)
            if in_quotes:
                continue  # the line break is inside a quoted field
            ending = b"\r\n" if line.endswith(b"\r\n") else b"\n" if line.endswith(b"\n") else b""
            if header_ending is None:
                header_ending = ending
            elif ending and ending != header_ending:
                return line_number
    return None


def first_stray_carriage_return(path: Path) -> int | None:
    """The physical line holding a carriage return (CR) that neither ends the line nor sits in a
    quoted field: the CSV parser takes it for a line break in the middle of a record."""
    in_quotes = False
    with path.open("rb") as handle:
        for line_number, line in enumerate(handle, start=1):
            unquoted, in_quotes = _outside_quotes(line, in_quotes)
            if b"\r" in unquoted.rstrip(b"\r\n"):
                return line_number
    return None


def _ends_inside_quotes(line: bytes, in_quotes: bool) -> bool:
    """Whether a quoted field is still open at the end of `line`, given whether one was open at
    its start (a line that is not inside quotes starts at a field's start)."""
    return _outside_quotes(line, in_quotes)[1]


def _outside_quotes(line: bytes, in_quotes: bool) -> tuple[bytes, bool]:
    """The bytes of `line` outside quoted fields, and whether a quoted field is still open at its
    end, given whether one was open at its start."""
    if b'"' not in line:
        return (b"" if in_quotes else line), in_quotes
    outside = bytearray()
    field_start = not in_quotes
    index, end = 0, len(line)
    while index < end:
        byte = line[index]
        if in_quotes:
            if byte == 0x22:  # '"': closes the field, unless doubled ("" is an escaped quote)
                if index + 1 < end and line[index + 1] == 0x22:
                    index += 1
                else:
                    in_quotes = False
        elif byte == 0x22 and field_start:
            in_quotes = True
        else:
            outside.append(byte)
        field_start = not in_quotes and byte == 0x2C  # ','
        index += 1
    return bytes(outside), in_quotes
