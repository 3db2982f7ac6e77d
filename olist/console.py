"""The one rich console the CLI writes its summaries and errors to.

Rich wraps at 80 columns when output is not a terminal (CI logs, pipes) and COLUMNS is unset,
which breaks long table names across lines; there tables get a wide fixed width instead. Error
messages are printed with soft wrapping, so a long path is never split by an inserted newline.
"""

from __future__ import annotations

import os
import sys

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

PIPED_WIDTH = 160


def _width(stream: object) -> int | None:
    interactive = getattr(stream, "isatty", lambda: False)()
    return None if interactive or "COLUMNS" in os.environ else PIPED_WIDTH


# emoji=False: a user's text (a header, a path, a value) holding `:x:` is printed as written.
console = Console(width=_width(sys.stdout), emoji=False)
errors = Console(stderr=True, width=_width(sys.stderr), soft_wrap=True, emoji=False)


def print_error(error: Exception) -> None:
    """An error for its reader, as `olist` prints it: `error: <message>`, nothing else."""
    errors.print(f"[bold red]error:[/] {escape(str(error))}", highlight=False)


def print_table(table: Table, title: str) -> None:
    """`table` under `title`, printed on a line of its own that never wraps.

    A table's own title wraps at the table's width, which splits a long path (the lake, the
    staging URL, an output folder) across lines where nobody can copy it. Plain text, so a
    `[...]` or `:x:` in a path is printed as it is, not read as markup or an emoji.
    """
    console.print(Text(title, style="table.title"), soft_wrap=True)
    console.print(table)
