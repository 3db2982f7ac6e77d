"""`olist run`: the warehouse follows the lake reading only its new files, a rerun computes
nothing, a locked warehouse is refused before any loading, the site comes last and its failure
keeps the warehouse.

Runs in-process on the embedded default (DuckDB staging, local lake, local gateway) with every
path in the test's own folder; the full stack runs the same code (see test_compose.py).
"""

from __future__ import annotations

import csv
import subprocess
import sys

import duckdb
import pytest
from helpers.bronze import current_settings, lake_counts, olist, staging_counts
from helpers.disks import grow

from ingest.tables import TABLES
from olist.synthetic.generate import generate

# Each of these builds a warehouse, runs the pipeline end to end or starts a stack.
pytestmark = pytest.mark.slow

HOLD_LOCK = (
    "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
    "print('locked', flush=True); time.sleep(600)"
)


@pytest.fixture
def run_env(olist_env):
    work = olist_env.workdir
    olist_env.set(
        OLIST_STAGING_URL=f"duckdb:///{work}/staging.duckdb",
        OLIST_LAKE_URL="lake",  # relative: olist and SQLMesh must agree on where it is
        OLIST_DATA_DIR=work / "data",
        OLIST_WAREHOUSE_PATH=work / "warehouse.duckdb",
    )
    return olist_env


def _fct_orders(run_env) -> dict[str, str]:
    warehouse = run_env.workdir / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return dict(con.sql("SELECT order_id, order_status FROM marts.fct_orders").fetchall())


def _summary(output: str) -> str:
    """The run summary's tables of rows per layer, from its title to the quarantine line."""
    return output.split("olist run: rows per layer", 1)[1].split("Quarantined rows", 1)[0]


def test_warehouse_follows_new_lake_loads_and_a_rerun_computes_nothing(run_env, capsys):
    source = run_env.workdir / "source"
    generate(source, 0.01)
    february, march = run_env.workdir / "feb", run_env.workdir / "mar"
    assert (
        olist("snapshot", "--source", str(source), "--as-of", "2018-02-28", "--out", str(february))
        == 0
    )
    assert (
        olist("snapshot", "--source", str(source), "--as-of", "2018-03-31", "--out", str(march))
        == 0
    )

    assert olist("run", "--source", str(february)) == 0
    built = capsys.readouterr().out
    assert "Warehouse built" in built
    # The site comes last, built from the warehouse the run just built.
    site = run_env.workdir / "data" / "site" / "index.html"
    assert built.rstrip().splitlines()[-1].startswith(f"Site: {site} (")
    assert site.is_file()
    as_of_february = _fct_orders(run_env)

    assert olist("run", "--source", str(march)) == 0
    assert "Warehouse updated from 1 new lake export(s)" in capsys.readouterr().out
    as_of_march = _fct_orders(run_env)
    assert len(as_of_march) == staging_counts(current_settings(), ("orders",))["orders"]
    assert len(as_of_march) > len(as_of_february)
    moved_on = [o for o, status in as_of_february.items() if as_of_march[o] != status]
    assert moved_on, "no order changed status between the snapshots: the test proves nothing"

    assert olist("-v", "run", "--source", str(march)) == 0  # -v: dlt's own logs as well
    rerun = capsys.readouterr().out
    assert "Warehouse up to date" in rerun and "nothing to compute" in rerun
    assert _fct_orders(run_env) == as_of_march

    # With nothing new, the warehouse step opens no lake file (it lists the lake's completed
    # exports): a run still succeeds with every Parquet file unreadable, and its summary shows the
    # rows counted when the warehouse was built.
    for parquet in (run_env.workdir / "lake").glob("*/*.parquet"):
        parquet.write_bytes(b"not parquet")
    assert olist("run", "--source", str(march)) == 0
    unreadable_lake = capsys.readouterr().out
    assert "Warehouse up to date" in unreadable_lake, unreadable_lake
    assert _summary(unreadable_lake) == _summary(rerun)

    # With new data, the update reads the new export's files and no other: the unreadable files
    # of the earlier exports are not opened.
    april = run_env.workdir / "apr"
    assert (
        olist("snapshot", "--source", str(source), "--as-of", "2018-04-30", "--out", str(april))
        == 0
    )
    assert olist("run", "--source", str(april)) == 0
    assert "Warehouse updated from 1 new lake export(s)" in capsys.readouterr().out
    as_of_april = _fct_orders(run_env)
    assert len(as_of_april) == staging_counts(current_settings(), ("orders",))["orders"]
    assert len(as_of_april) > len(as_of_march)


def test_an_export_made_outside_olist_run_still_reaches_the_warehouse(run_env, capsys):
    source = run_env.workdir / "source"
    generate(source, 0.01)
    early = run_env.workdir / "early"
    assert (
        olist("snapshot", "--source", str(source), "--as-of", "2017-12-31", "--out", str(early))
        == 0
    )
    assert olist("run", "--source", str(early)) == 0
    assert olist("ingest", "--source", str(source)) == 0
    assert olist("export") == 0
    capsys.readouterr()

    assert olist("run", "--source", str(source)) == 0  # its own export finds nothing new
    output = capsys.readouterr().out
    assert "Nothing new since the last export" in output
    assert "Warehouse updated from 1 new lake export(s)" in output
    assert len(_fct_orders(run_env)) == 994


def test_a_quote_in_the_staging_lake_and_warehouse_paths_is_no_problem(run_env):
    # Each path reaches SQL somewhere (DuckDB's ATTACH, read_parquet, SQLMesh's connection, the
    # site's queries): a quote in it once broke the warehouse step. (The data folder cannot have
    # one: dlt writes its load files' paths into DuckDB SQL unescaped, and preflight says so.)
    quoted = run_env.workdir / "o'brien's files"
    quoted.mkdir()
    warehouse = quoted / "warehouse.duckdb"
    run_env.set(
        OLIST_STAGING_URL=f"duckdb:///{quoted}/staging.duckdb",
        OLIST_LAKE_URL=str(quoted / "lake"),
        OLIST_WAREHOUSE_PATH=warehouse,
    )
    source = run_env.workdir / "source"
    generate(source, 0.01)

    assert olist("run", "--source", str(source)) == 0

    settings = current_settings()
    assert lake_counts(settings, ["orders"]) == staging_counts(settings, ["orders"])
    with duckdb.connect(str(warehouse), read_only=True) as con:
        built = con.sql("SELECT count(*) FROM marts.fct_orders").fetchone()[0]
    assert built == staging_counts(settings, ["orders"])["orders"] > 0


def test_a_locked_warehouse_is_refused_before_anything_is_loaded(run_env, capsys):
    source = run_env.workdir / "source"
    generate(source, 0.01)
    warehouse = run_env.workdir / "warehouse.duckdb"
    # Another process holds the file, as `sqlmesh ui` does (within one process DuckDB shares it).
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(warehouse)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert olist("run", "--source", str(source)) == 1
    finally:
        holder.kill()
        holder.wait()
    error = capsys.readouterr().err
    assert "Cannot open the warehouse" in error and "close the program holding it" in error
    assert not (run_env.workdir / "staging.duckdb").exists()


def test_a_site_that_cannot_be_built_is_one_sentence_and_the_warehouse_is_kept(run_env, capsys):
    source = run_env.workdir / "source"
    generate(source, 0.01)
    # Someone's own files where the site goes: `olist docs` never replaces them.
    notes = run_env.workdir / "data" / "site" / "notes.txt"
    notes.parent.mkdir(parents=True)
    notes.write_text("mine")

    assert olist("run", "--source", str(source)) == 1
    output = capsys.readouterr()
    assert "Warehouse built" in output.out
    error = output.err.strip()
    assert error == (
        f"error: the site was not built: {notes.parent} exists and is not a site `olist docs` "
        "built, so it was left alone: remove it, or build the site elsewhere with `olist docs "
        "--out DIR`. The warehouse is up to date: only the site is missing (`olist docs` builds "
        "it)."
    )
    assert notes.read_text() == "mine"
    assert len(_fct_orders(run_env)) == 994


def test_a_full_warehouse_disk_names_the_cause_in_one_line_and_a_rerun_with_room_is_exact(
    run_env, small_disk, capsys
):
    source = run_env.workdir / "source"
    generate(source, 0.01)
    tiny_disk = small_disk("4m")
    run_env.set(OLIST_WAREHOUSE_PATH=tiny_disk / "warehouse.duckdb")

    assert olist("run", "--source", str(source)) == 1

    err = capsys.readouterr().err
    [line] = [text for text in err.splitlines() if text.startswith("error:")]
    assert "SQLMesh could not build prod" in line
    assert "No space left on device" in line and "Cause (" in line
    grow(tiny_disk)
    assert olist("run", "--source", str(source)) == 0
    orders = staging_counts(current_settings(), ["orders"])["orders"]
    with duckdb.connect(str(tiny_disk / "warehouse.duckdb"), read_only=True) as con:
        assert con.sql("SELECT count(*) FROM marts.fct_orders").fetchone()[0] == orders


def _olist_process(*args: str) -> subprocess.CompletedProcess[str]:
    """`olist ARGS` as a user runs it: its own process, so stderr is exactly what they see."""
    return subprocess.run(
        [sys.executable, "-m", "olist.cli", *args], capture_output=True, text=True, check=False
    )


def _one_line_error(failed: subprocess.CompletedProcess[str]) -> str:
    """The failed run's error: exit 1, no traceback, stderr a few lines ending in one line that
    starts with `error:` and holds the cause."""
    assert failed.returncode == 1, failed.stderr
    assert "Traceback" not in failed.stderr
    lines = failed.stderr.strip().splitlines()
    assert len(lines) <= 3, failed.stderr
    assert lines[-1].startswith("error: "), failed.stderr
    assert "No space left on device" in lines[-1]
    return lines[-1]


def _source_rows(folder) -> dict[str, int]:
    """Records in each source file, header excluded (a quoted review may span lines)."""
    counts = {}
    for table in TABLES:
        with (folder / table.file_name).open(newline="", encoding="utf-8") as file:
            counts[table.name] = sum(1 for _ in csv.reader(file)) - 1
    return counts


def _assert_every_layer_is_exact(run_env, source) -> None:
    """Staging and the lake hold each source row once, and fct_orders each order once."""
    settings = current_settings()
    expected = _source_rows(source)
    assert staging_counts(settings) == expected
    assert lake_counts(settings) == expected
    warehouse = run_env.workdir / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as con:
        orders = con.sql("SELECT count(*), count(DISTINCT order_id) FROM marts.fct_orders")
        assert orders.fetchone() == (expected["orders"], expected["orders"])


@pytest.mark.parametrize(
    ("size", "step", "place"),
    [
        # dlt's extract files (the 6 MB geolocation file) overflow it
        ("4m", "extract", "the data folder {disk} (dlt's working files)"),
        # the extract and normalize fit; the staging database's write-ahead log does not
        ("14m", "load", "the staging database {disk}/staging.duckdb"),
    ],
)
def test_a_full_data_folder_names_the_cause_in_one_line_and_a_rerun_with_room_is_exact(
    run_env, small_disk, size, step, place
):
    source = run_env.workdir / "source"
    generate(source, 0.01)
    disk = small_disk(size)
    # The data folder holds dlt's working files and, by default, the staging database.
    run_env.set(OLIST_DATA_DIR=disk, OLIST_STAGING_URL=f"duckdb:///{disk}/staging.duckdb")

    line = _one_line_error(_olist_process("run", "--source", str(source)))

    assert line.startswith(
        f"error: The ingest ran out of disk space in dlt's {step} step, writing to "
        f"{place.format(disk=disk)}: No space left on device. Free space there"
    ), line
    grow(disk)
    rerun = _olist_process("run", "--source", str(source))
    assert rerun.returncode == 0, rerun.stderr
    _assert_every_layer_is_exact(run_env, source)


def test_a_full_lake_disk_names_the_cause_in_one_line_and_a_rerun_with_room_is_exact(
    run_env, small_disk
):
    source = run_env.workdir / "source"
    generate(source, 0.01)
    disk = small_disk("2m")  # the lake's geolocation file alone is 5.5 MB
    run_env.set(OLIST_LAKE_URL=disk / "lake")

    line = _one_line_error(_olist_process("run", "--source", str(source)))

    assert line.startswith(
        f"error: The export ran out of disk space in dlt's load step, writing to the lake "
        f"{disk}/lake: No space left on device. Free space there (or set OLIST_LAKE_URL"
    ), line
    # The half-written export is not complete: no record of it, so nothing reads its files.
    assert not list((disk / "lake" / "_dlt_loads").glob("*"))
    grow(disk)
    rerun = _olist_process("run", "--source", str(source))
    assert rerun.returncode == 0, rerun.stderr
    _assert_every_layer_is_exact(run_env, source)
