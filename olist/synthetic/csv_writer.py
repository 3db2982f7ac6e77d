"""Write CSV files byte for byte in the style of the original Olist files.

What the originals do (checked on the byte-exact files in the workspace's `full/` folder):
- the header names are quoted: `"order_id","customer_id",...`;
- a text value (id, zip prefix, city, review text) is quoted when it starts with a digit —
  the original writer took such values for numbers otherwise — or when it holds a comma, a quote or
  a line break (quotes doubled inside);
- numbers and timestamps are never quoted; an empty field is a null;
- rows end with `\\n`, except the category translation file: a UTF-8 BOM, no quotes, `\\r\\n`.
Values arrive already formatted as strings; this module only decides quoting and layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import IO

from ingest.tables import Kind, SourceTable


def quote_text(value: str) -> str:
    # Four `in` tests beat a regex or any() here: this runs for millions of values.
    if value and (
        value[0].isdigit() or "," in value or '"' in value or "\n" in value or "\r" in value
    ):
        return '"' + value.replace('"', '""') + '"'
    return value


def quote_ids(values: Sequence[str]) -> list[str]:
    """The fast path for ids and zip prefixes, which never hold commas or quotes."""
    return [f'"{v}"' if v and v[0] <= "9" else v for v in values]


def quote_texts(values: Sequence[str]) -> list[str]:
    return [quote_text(v) for v in values]


# How each kind of column is quoted; numbers and timestamps (absent here) never are.
_QUOTING = {Kind.ID: quote_ids, Kind.ZIP: quote_ids, Kind.TEXT: quote_texts}


class OlistCsvWriter:
    """Appends rows, given as formatted columns, to one Olist file in the original style."""

    def __init__(self, handle: IO[str], table: SourceTable, plain: bool = False) -> None:
        # plain: the translation file's style (no quotes, CRLF); the caller opens it with a BOM.
        self._handle = handle
        self._table = table
        self._line_end = "\r\n" if plain else "\n"
        self._quoting = tuple(None if plain else _QUOTING.get(c.kind) for c in table.columns)
        names = table.column_names
        header = names if plain else [f'"{name}"' for name in names]
        handle.write(",".join(header) + self._line_end)

    def write(self, columns: dict[str, Sequence[str]]) -> None:
        """Write one batch: every column of the table, its values already formatted."""
        ordered = [
            values if quoting is None else quoting(values)
            for values, quoting in zip(
                (columns[c.name] for c in self._table.columns), self._quoting, strict=True
            )
        ]
        end = self._line_end
        self._handle.write("".join(",".join(row) + end for row in zip(*ordered, strict=True)))


def open_output(path: Path, *, bom: bool = False) -> IO[str]:
    # newline="" keeps our line ends as written (no translation on any platform).
    return path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="")
