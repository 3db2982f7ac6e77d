"""The CLI's output: tables whose titles stay on one line, and progress only on a terminal."""

from __future__ import annotations

from rich.table import Table

from olist.console import print_table
from olist.progress import rows_progress


def test_a_table_title_with_a_long_path_is_printed_whole_on_one_line(capsys):
    # Under pytest-xdist a test's folder is this long; the table itself is narrow.
    path = "/tmp/pytest-of-root/pytest-7/popen-gw0/test_make_run_without_seeds_ge0/data/demo"
    table = Table()
    table.add_column("file")
    table.add_row("olist_orders_dataset.csv")

    print_table(table, f"olist generate → {path} (scale 0.01, seed 42)")

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"olist generate → {path} (scale 0.01, seed 42)"
    assert "olist_orders_dataset.csv" in lines[4]  # title, top rule, header, rule, row


def test_a_table_title_is_plain_text_not_markup_or_emoji(capsys):
    table = Table()
    table.add_column("file")

    print_table(table, "olist export → data/[bold]lake:x:")

    assert capsys.readouterr().out.splitlines()[0] == "olist export → data/[bold]lake:x:"


def test_progress_shown_into_a_pipe_or_a_file_writes_nothing_at_all(capsys):
    # A scheduler's log gets the summaries on stdout and, on stderr, only what went wrong.
    with rows_progress("reading") as on_rows:
        on_rows("orders", 20_864)

    assert capsys.readouterr().err == ""
