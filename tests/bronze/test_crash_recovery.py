"""A pipeline killed with SIGKILL mid-run loses nothing and duplicates nothing after a rerun.

The CLI runs as a real subprocess against PostgreSQL and the S3 server; the test watches dlt's
working folder and kills the process at a chosen stage, then reruns and checks exact row counts in
staging and in the lake.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from helpers.bronze import (
    SAMPLE_ROWS,
    current_settings,
    lake_connection,
    lake_counts,
    lake_glob,
    staging_counts,
)
from helpers.servers import PasswordPostgres, serve_s3

from ingest.staging_reader import PostgresReader
from ingest.writer_lock import ADVISORY_KEY, HOLDER_QUERY, HOLDER_QUERY_PARAMS
from olist.errors import StagingDatabaseError

# Each of these builds a warehouse, runs the pipeline end to end or starts a stack.
pytestmark = pytest.mark.slow

KILL_TIMEOUT_SECONDS = 120


def _stage_reached(pipeline_dir: Path, stage: str) -> bool:
    """dlt moves a load package through folders: extracted → new → normalized (loading)."""
    if stage == "extract":
        return any(pipeline_dir.glob("normalize/extracted/*/new_jobs/*"))
    if stage == "load":  # at least one job of the package already loaded, others not
        return any(pipeline_dir.glob("load/normalized/*/completed_jobs/*"))
    raise ValueError(stage)


def _start_until(args: list[str], cwd: Path, pipeline: str, stage: str) -> subprocess.Popen[str]:
    """Start `olist <args>` and return once dlt's working folder shows `stage` reached."""
    process = subprocess.Popen(
        [sys.executable, "-m", "olist.cli", *args],
        cwd=cwd,
        env={**os.environ, "COLUMNS": "1000"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    pipeline_dir = cwd / "data" / "dlt" / pipeline
    deadline = time.monotonic() + KILL_TIMEOUT_SECONDS
    while not _stage_reached(pipeline_dir, stage):
        if process.poll() is not None:
            pytest.fail(f"olist {args[0]} ended (rc {process.returncode}) before stage {stage}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"olist {args[0]} never reached stage {stage}")
        time.sleep(0.005)
    return process


def _run_and_kill(
    args: list[str], cwd: Path, pipeline: str, stage: str, sig: int = signal.SIGKILL
) -> subprocess.Popen[str]:
    """Run `olist <args>` and send it `sig` once dlt's working folder shows `stage` reached."""
    process = _start_until(args, cwd, pipeline, stage)
    process.send_signal(sig)
    process.wait(timeout=KILL_TIMEOUT_SECONDS)
    return process


def _olist(args: list[str], cwd: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "olist.cli", *args],
        cwd=cwd,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("stage", ["extract", "load"])
def test_ingest_killed_mid_run_then_rerun_has_exact_counts(full_stack, sample_dir, stage):
    _run_and_kill(["ingest", "--source", str(sample_dir)], full_stack, "olist_ingest", stage)
    _olist(["ingest", "--source", str(sample_dir)], full_stack)
    _olist(["export"], full_stack)

    settings = current_settings()
    assert staging_counts(settings) == SAMPLE_ROWS
    assert lake_counts(settings) == SAMPLE_ROWS


def test_export_killed_mid_load_then_rerun_writes_each_row_once(full_stack, sample_dir):
    _olist(["ingest", "--source", str(sample_dir)], full_stack)
    _run_and_kill(["export"], full_stack, "olist_export", "load")
    _olist(["export"], full_stack)

    assert lake_counts(current_settings()) == SAMPLE_ROWS


def test_first_load_killed_then_rerun_with_a_changed_file_merges_without_duplicates(
    full_stack, sample_dir, tmp_path
):
    # The first load of a table is a plain append; the rerun must finish that load before it
    # decides how to load the changed file, or the changed file would be appended again.
    source = tmp_path / "source"
    shutil.copytree(sample_dir, source)
    orders = source / "olist_orders_dataset.csv"
    _run_and_kill(["ingest", "--source", str(source)], full_stack, "olist_ingest", "load")

    lines = orders.read_bytes().splitlines(keepends=True)
    changed = next(i for i, line in enumerate(lines) if b",shipped," in line)
    lines[changed] = lines[changed].replace(b",shipped,", b",delivered,")
    orders.write_bytes(b"".join(lines))
    _olist(["ingest", "--source", str(source), "--tables", "orders"], full_stack)

    settings = current_settings()
    assert staging_counts(settings, ["orders"]) == {"orders": SAMPLE_ROWS["orders"]}
    changed_id = lines[changed].split(b",")[0].decode()
    with psycopg.connect(settings.staging_url) as con:
        status = con.execute(
            "SELECT order_status FROM raw.orders WHERE order_id = %s", [changed_id]
        ).fetchall()
    assert status == [("delivered",)]


def test_export_after_an_interrupted_export_and_a_new_ingest_brings_the_lake_up_to_date(
    full_stack, sample_dir, tmp_path
):
    # dlt's run() with a package left by a failed run loads only that package and drops the new
    # data: the lake would miss the second ingest while the export reported nothing new.
    source = tmp_path / "source"
    shutil.copytree(sample_dir, source)
    _olist(["ingest", "--source", str(source)], full_stack)
    _run_and_kill(["export"], full_stack, "olist_export", "load")

    orders = source / "olist_orders_dataset.csv"
    lines = orders.read_bytes().splitlines(keepends=True)
    changed = [i for i, line in enumerate(lines) if b",shipped," in line][:5]
    for i in changed:
        lines[i] = lines[i].replace(b",shipped,", b",delivered,")
    orders.write_bytes(b"".join(lines))
    _olist(["ingest", "--source", str(source), "--tables", "orders"], full_stack)
    export = subprocess.run(
        [sys.executable, "-m", "olist.cli", "export"],
        cwd=full_stack,
        env={**os.environ, "COLUMNS": "1000"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert export.returncode == 0, export.stderr
    assert "Finished an interrupted export first" in export.stdout
    assert "Nothing new" not in export.stdout
    settings = current_settings()
    assert lake_counts(settings) == {**SAMPLE_ROWS, "orders": SAMPLE_ROWS["orders"] + 5}
    assert lake_counts(settings, latest_only=True) == SAMPLE_ROWS
    with lake_connection(settings) as con:
        ids = [lines[i].split(b",")[0].decode() for i in changed]
        statuses = con.execute(
            f"SELECT DISTINCT order_status FROM read_parquet('{lake_glob(settings, 'orders')}') "
            "WHERE order_id IN (SELECT unnest(?)) AND _dlt_load_id = "
            f"(SELECT max(_dlt_load_id) FROM read_parquet('{lake_glob(settings, 'orders')}'))",
            [ids],
        ).fetchall()
    assert statuses == [("delivered",)]


@pytest.mark.parametrize(
    ("command", "pipeline", "stage"),
    [
        ("ingest", "olist_ingest", "extract"),
        ("ingest", "olist_ingest", "load"),
        ("export", "olist_export", "load"),
    ],
)
def test_ctrl_c_at_any_stage_exits_130_in_one_line_and_a_rerun_is_exact(
    full_stack, sample_dir, command, pipeline, stage
):
    if command == "export":
        _olist(["ingest", "--source", str(sample_dir)], full_stack)
    args = ["ingest", "--source", str(sample_dir)] if command == "ingest" else ["export"]

    interrupted = _run_and_kill(args, full_stack, pipeline, stage, signal.SIGINT)

    stderr = interrupted.stderr.read()
    assert interrupted.returncode == 130, stderr
    assert stderr.strip() == "interrupted; a rerun resumes where this run stopped"
    _olist(["ingest", "--source", str(sample_dir)], full_stack)
    _olist(["export"], full_stack)
    settings = current_settings()
    assert staging_counts(settings) == SAMPLE_ROWS
    assert lake_counts(settings) == SAMPLE_ROWS


def test_s3_server_killed_mid_export_fails_in_a_few_lines_naming_the_cause_and_a_rerun_is_exact(
    olist_env, sample_dir, tmp_path
):
    def use(server):
        olist_env.set(
            OLIST_LAKE_URL="s3://lake-of-killed-server/lake",
            OLIST_S3_ENDPOINT_URL=server.endpoint_url,
            OLIST_S3_ACCESS_KEY_ID=server.access_key_id,
            OLIST_S3_SECRET_ACCESS_KEY=server.secret_access_key,
        )

    workdir = olist_env.workdir
    with serve_s3(tmp_path / "s3") as server:
        server.create_bucket("lake-of-killed-server")
        use(server)
        _olist(["ingest", "--source", str(sample_dir)], workdir)
        export = _start_until(["export"], workdir, "olist_export", "load")
        os.kill(server.pid, signal.SIGKILL)
        _, err = export.communicate(timeout=600)

    assert export.returncode == 1
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) <= 3, err
    assert lines[0].startswith("error: ") and "Could not connect to the endpoint URL" in lines[0]
    with serve_s3(tmp_path / "s3") as restarted:  # the same buckets, new port and keys
        use(restarted)
        _olist(["export"], workdir)
        assert lake_counts(current_settings()) == SAMPLE_ROWS


def _ingest_into_a_private_cluster_until_load(
    olist_env, postgres: PasswordPostgres, sample_dir: Path
) -> subprocess.Popen[str]:
    """Start an ingest of the sample into a new database of `postgres`, a cluster of the test's
    own (the shared one on 5432 must never stop), and return once a load job has completed."""
    with psycopg.connect(postgres.url(), autocommit=True) as con:
        con.execute("CREATE DATABASE olist_staging")
    olist_env.set(OLIST_STAGING_URL=postgres.url("olist_staging"), OLIST_LAKE_URL="lake")
    return _start_until(
        ["ingest", "--source", str(sample_dir)], olist_env.workdir, "olist_ingest", "load"
    )


def test_postgres_stopped_mid_load_fails_in_one_line_naming_the_server_and_a_rerun_is_exact(
    olist_env, restartable_postgres, sample_dir
):
    postgres = restartable_postgres
    workdir = olist_env.workdir
    ingest = _ingest_into_a_private_cluster_until_load(olist_env, postgres, sample_dir)
    postgres.stop_immediately()
    _, err = ingest.communicate(timeout=KILL_TIMEOUT_SECONDS)

    assert ingest.returncode == 1, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) <= 3, err
    [line] = [text for text in lines if text.startswith("error: ")]
    server = f"the staging database PostgreSQL at 127.0.0.1:{postgres.port}/olist_staging"
    assert f"The ingest lost its connection to {server} in dlt's load step" in line, line
    assert postgres.password not in err

    postgres.start()
    _olist(["ingest", "--source", str(sample_dir)], workdir)
    _olist(["export"], workdir)
    settings = current_settings()
    assert staging_counts(settings) == SAMPLE_ROWS
    assert lake_counts(settings) == SAMPLE_ROWS


def _writer_lock_holder(connection: psycopg.Connection) -> int | None:
    """The server process holding the olist writer lock in this database, if any."""
    found = connection.execute(HOLDER_QUERY, HOLDER_QUERY_PARAMS).fetchone()
    return found[0] if found else None


def test_postgres_restarted_mid_load_is_quiet_and_the_ingest_takes_its_writer_lock_again(
    olist_env, restartable_postgres, sample_dir
):
    # dlt retries the jobs a restart broke, on new connections, and they succeed: the run ends
    # well and says nothing of it. But the writer lock lived in a session the restart ended, so
    # the ingest must take it again before it writes more, or a second writer could start.
    postgres = restartable_postgres
    workdir = olist_env.workdir
    ingest = _ingest_into_a_private_cluster_until_load(olist_env, postgres, sample_dir)
    postgres.stop_immediately()
    postgres.start()
    holders = set()
    with psycopg.connect(postgres.url("olist_staging"), autocommit=True) as watcher:
        while ingest.poll() is None:
            holders.add(_writer_lock_holder(watcher))
            time.sleep(0.01)
    _, err = ingest.communicate(timeout=KILL_TIMEOUT_SECONDS)

    assert ingest.returncode == 0, err
    assert err == "", err  # no retry, traceback, dlt log or server warning reaches the user
    assert holders - {None}, "the ingest wrote after the restart without its writer lock"
    _olist(["export"], workdir)
    settings = current_settings()
    assert staging_counts(settings) == SAMPLE_ROWS
    assert lake_counts(settings) == SAMPLE_ROWS


def test_an_ingest_whose_writer_lock_another_run_took_stops_before_writing_and_a_rerun_is_exact(
    olist_env, postgres_url, sample_dir
):
    # The lock's session ended alone (a restart, a proxy's idle timeout, an administrator) and
    # another run took the lock before this one could take it back: this one must stop.
    olist_env.set(OLIST_STAGING_URL=postgres_url, OLIST_LAKE_URL="lake")
    workdir = olist_env.workdir
    ingest = _start_until(
        ["ingest", "--source", str(sample_dir)], workdir, "olist_ingest", "extract"
    )
    with psycopg.connect(postgres_url, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [_writer_lock_holder(other)])
        other.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_KEY])  # once that session ends
        _, err = ingest.communicate(timeout=KILL_TIMEOUT_SECONDS)
        raw_tables = other.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw'"
        ).fetchone()[0]
        other_pid = other.info.backend_pid

    assert ingest.returncode == 1, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) <= 3, err
    [line] = [text for text in lines if text.startswith("error: ")]
    assert "olist ingest stopped: its connection to the staging database" in line, line
    assert "another olist ingest or export took" in line and f"server process {other_pid}" in line
    assert "Once that run has finished, rerun" in line, line
    assert raw_tables == 0  # it wrote nothing once the lock was gone
    _olist(["ingest", "--source", str(sample_dir)], workdir)
    assert staging_counts(current_settings()) == SAMPLE_ROWS


def test_postgres_stopped_mid_read_is_one_staging_database_error_naming_the_server(
    restartable_postgres,
):
    # The export (and an ingest's look at the hashes already loaded) read staging through
    # connectorx, which reported a connection lost mid-read as a Rust panic: a BaseException
    # that went past every handler and ended `olist export` with a traceback.
    postgres = restartable_postgres
    with psycopg.connect(postgres.url(), autocommit=True) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute(
            "CREATE TABLE raw.orders AS SELECT g AS order_id, md5(g::text) AS row_hash "
            "FROM generate_series(1, 2000000) AS g"  # far more than one batch, or a buffer
        )
    batches = PostgresReader(postgres.url()).read("orders")
    assert next(batches).num_rows > 0
    postgres.stop_immediately()

    with pytest.raises(StagingDatabaseError) as lost:
        for _ in batches:
            pass

    message = str(lost.value)
    assert message.startswith(
        f"Reading raw.orders from the staging database PostgreSQL at 127.0.0.1:{postgres.port}"
        "/postgres failed: the connection was lost ("
    ), message
    assert "\n" not in message and postgres.password not in message
