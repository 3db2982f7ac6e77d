"""Two writers at once: a second ingest or export waits for the first, or stops saying why.

Real processes (the CLI as a subprocess) against a real PostgreSQL database and the embedded
DuckDB default. Nothing is duplicated when two first ingests start together from two data
directories (two hosts in production), and a run that cannot get the lock in time names the
holder and loads nothing.
"""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import psycopg
import pytest
from helpers.bronze import SAMPLE_ROWS, staging_counts

from ingest.writer_lock import ADVISORY_KEY
from olist.config import ConfigError, load_settings

TABLES = ["customers", "orders", "order_items"]
OLIST = [sys.executable, "-m", "olist.cli"]


def _start_ingest(workdir: Path, source: Path) -> subprocess.Popen[str]:
    workdir.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [*OLIST, "ingest", "--source", str(source), "--tables", ",".join(TABLES)],
        cwd=workdir,
        env={**os.environ, "COLUMNS": "1000"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_two_first_ingests_at_once_into_an_empty_postgres_load_every_row_once(
    olist_env, postgres_url, sample_dir
):
    olist_env.set(OLIST_STAGING_URL=postgres_url)
    runs = [_start_ingest(olist_env.workdir / name, sample_dir) for name in ("host-a", "host-b")]
    outputs = [run.communicate(timeout=600) for run in runs]

    for run, (_, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err
    counts = staging_counts(load_settings(), TABLES)
    assert counts == {table: SAMPLE_ROWS[table] for table in TABLES}
    with psycopg.connect(postgres_url) as con:
        [(keys,)] = con.execute("SELECT count(DISTINCT order_id) FROM raw.orders").fetchall()
    assert keys == SAMPLE_ROWS["orders"]
    waited = [err for _, err in outputs if "waiting up to" in err]
    assert len(waited) == 1, outputs  # one of them waited for the other, and said so


def test_an_ingest_that_cannot_get_the_postgres_lock_in_time_names_the_holder_and_loads_nothing(
    olist_env, postgres_url, sample_dir
):
    olist_env.set(OLIST_STAGING_URL=postgres_url, OLIST_LOCK_WAIT_SECONDS=1)
    with psycopg.connect(postgres_url, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", [ADVISORY_KEY])
        out, err = _start_ingest(olist_env.workdir, sample_dir).communicate(timeout=120)

    [message] = [line for line in err.splitlines() if line.startswith("error:")]
    assert "another olist ingest or export is writing to the staging database" in message
    assert "server process" in message and "did not finish within 1 s" in message
    assert "OLIST_LOCK_WAIT_SECONDS" in message
    assert "Traceback" not in out + err
    with psycopg.connect(postgres_url) as con:
        tables = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw'"
        ).fetchone()[0]
    assert tables == 0


def test_an_ingest_waits_for_the_embedded_staging_lock_and_stops_naming_the_holder(
    olist_env, sample_dir
):
    olist_env.set(OLIST_LOCK_WAIT_SECONDS=1)
    lock_file = olist_env.workdir / "data" / "staging.duckdb.lock"
    lock_file.parent.mkdir()
    with lock_file.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.write("process 4242 on another-shell\n")
        handle.flush()
        _, err = _start_ingest(olist_env.workdir, sample_dir).communicate(timeout=120)

    assert "process 4242 on another-shell" in err
    assert "did not finish within 1 s" in err
    staging = olist_env.workdir / "data" / "staging.duckdb"
    if staging.exists():
        with duckdb.connect(str(staging), read_only=True) as con:
            raw = con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'raw'"
            ).fetchone()[0]
        assert raw == 0


@pytest.mark.parametrize("value", ["soon", "-1"])
def test_a_lock_wait_that_is_not_a_number_of_seconds_is_refused_naming_the_variable(
    olist_env, value
):
    olist_env.set(OLIST_LOCK_WAIT_SECONDS=value)
    with pytest.raises(ConfigError, match="OLIST_LOCK_WAIT_SECONDS"):
        load_settings()
