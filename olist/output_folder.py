"""Folders the project writes whole data sets into (`olist generate`, `olist snapshot`).

A data set of nine files is only useful complete, so it is written into a hidden folder next to
the target and swapped into place at the end: an error or Ctrl-C leaves the target as it was.
The target is replaced whole, so it may hold only Olist files: anything else makes us refuse
rather than delete someone's work.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ingest.tables import TABLES
from olist.errors import PipelineError

OLIST_FILE_NAMES = frozenset(table.file_name for table in TABLES)


def check_replaceable(out: Path) -> None:
    """Raise unless `out` is missing, empty or holds nothing but Olist files."""
    if not out.exists():
        return
    if not out.is_dir():
        raise PipelineError(f"--out {out} is a file, not a folder. Pass a folder to write to.")
    others = sorted(p.name for p in out.iterdir() if p.name not in OLIST_FILE_NAMES)
    if others:
        shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        raise PipelineError(
            f"--out {out} holds files that are not Olist files ({shown}); it would be replaced "
            "whole, so nothing was written. Pass a new or empty folder, or remove them."
        )


@contextmanager
def replaced_whole(out: Path) -> Iterator[Path]:
    """A new hidden folder next to `out` to write into; it replaces `out` once the block ends.

    An error (or Ctrl-C) in the block removes the folder and leaves `out` as it was. Only a
    killed process can leave a hidden `.<name>.<hex>.partial` folder behind.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.parent / f".{out.name}.{secrets.token_hex(4)}.partial"
    partial.mkdir()
    try:
        yield partial
        if not out.exists():
            partial.rename(out)
            return
        previous = partial.with_suffix(".previous")
        out.rename(previous)
        try:
            partial.rename(out)
        except OSError:
            previous.rename(out)  # put the old data set back rather than leave no folder at all
            raise
        shutil.rmtree(previous)
    finally:
        shutil.rmtree(partial, ignore_errors=True)  # gone already when it took out's place
