"""The one rich console the CLI writes its summaries and errors to.

Rich wraps at 80 columns when output is not a terminal (CI logs, pipes) and COLUMNS is unset,
which breaks long table names across lines; there tables get a wide fixed width instead. Error
messages are printed with soft wrapping, so a long path is never split by an inserted newline.
"""

from __future__ import annotations

import os
import sys

from rich.console import Console

PIPED_WIDTH = 160


def _width(stream: object) -> int | None:
    interactive = getattr(stream, "isatty", lambda: False)()
    return None if interactive or "COLUMNS" in os.environ else PIPED_WIDTH


console = Console(width=_width(sys.stdout))
errors = Console(stderr=True, width=_width(sys.stderr), soft_wrap=True)
