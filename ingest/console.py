"""The one rich console the CLI writes its summaries and errors to.

Rich wraps at 80 columns when output is not a terminal (CI logs, pipes), which breaks long table
names and paths across lines; there we use a wide fixed width instead.
"""

from __future__ import annotations

import sys

from rich.console import Console

PIPED_WIDTH = 160

console = Console(width=None if sys.stdout.isatty() else PIPED_WIDTH)
errors = Console(stderr=True, width=None if sys.stderr.isatty() else PIPED_WIDTH)
