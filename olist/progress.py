"""Progress of long steps, shown live on a terminal and silent in logs and pipes.

The pipelines report rows read per table through a plain callback, so they know nothing of how
(or whether) progress is displayed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from olist.console import errors

RowsCallback = Callable[[str, int], None]


def ignore_rows(table: str, rows: int) -> None:
    """The default callback: no progress display."""


@contextmanager
def rows_progress(verb: str) -> Iterator[RowsCallback]:
    """A callback that shows `<verb> <table>: N rows` live on a terminal, and nothing elsewhere.

    It is drawn on stderr so stdout keeps only the summaries.
    """
    if not errors.is_terminal:
        # rich hides a live display on a pipe or a file, but still ends it with a blank line.
        yield ignore_rows
        return
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=errors, transient=True) as progress:
        tasks: dict[str, int] = {}

        def on_rows(table: str, rows: int) -> None:
            if table not in tasks:
                tasks[table] = progress.add_task("")
            progress.update(tasks[table], description=f"{verb} {table}: {rows:,} rows")

        yield on_rows
