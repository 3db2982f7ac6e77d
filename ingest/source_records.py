"""Find where records sit in a CSV file: their physical line number and raw text.

DuckDB's CSV reader numbers records, not lines, and a quoted review may span several lines.
Quarantine must point at the line a person opens in an editor and keep the raw bytes, so for the
few records that were rejected we walk the file once more, line by line, and track quote parity
to know where each record starts and ends. Clean files never pay for this pass.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SourceRecord:
    line_number: int  # 1-based physical line where the record starts (the header is line 1)
    raw_line: str  # the record's text as in the file, without its final line break


def _decode(raw: bytes) -> str:
    # Invalid UTF-8 is itself a rejection reason; keep the bad bytes visible as \xNN escapes.
    return raw.decode("utf-8", errors="backslashreplace")


def locate_records(path: Path, record_numbers: Collection[int]) -> dict[int, SourceRecord]:
    """Map 1-based data record numbers (the first record after the header is 1) to their source.

    A record ends at a line break outside quotes; `""` escapes keep the quote count even, so the
    parity of the running quote count says whether a line break is inside a quoted field.
    """
    wanted = set(record_numbers)
    found: dict[int, SourceRecord] = {}
    if not wanted:
        return found
    last_wanted = max(wanted)
    record_number = -1  # the header is record 0
    start_line = 0
    parts: list[bytes] = []
    quotes = 0
    with path.open("rb") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not parts:
                record_number += 1
                start_line = line_number
            parts.append(line)
            quotes += line.count(b'"')
            if quotes % 2:
                continue  # inside a quoted field: the record goes on on the next line
            if record_number in wanted:
                raw = b"".join(parts).rstrip(b"\r\n")
                found[record_number] = SourceRecord(start_line, _decode(raw))
            parts, quotes = [], 0
            if record_number >= last_wanted:
                break
    if parts and record_number in wanted:  # an unterminated quote runs to the end of the file
        found[record_number] = SourceRecord(start_line, _decode(b"".join(parts).rstrip(b"\r\n")))
    return found
