"""A load package the staging database refuses for good is set aside; it never blocks a later run.

The refusal is real: a CHECK constraint added to a bronze table in PostgreSQL rejects a row that
passes every check of the ingest. dlt used to keep such a package pending and retry it first on
every run, so no later ingest could load anything, even after the file was fixed.
"""

from __future__ import annotations

import shutil

import psycopg
from helpers.bronze import olist

SELLERS = "olist_sellers_dataset.csv"


def _set_state(csv, state: str) -> None:
    """Give the file's first seller the state `state` (the last field of its line)."""
    lines = csv.read_text().splitlines(keepends=True)
    fields = lines[1].rstrip("\r\n").split(",")
    lines[1] = ",".join([*fields[:-1], state]) + "\n"
    csv.write_text("".join(lines))


def _states(postgres_url: str) -> tuple[int, int]:
    with psycopg.connect(postgres_url) as con:
        return con.execute(
            "SELECT count(*), count(*) FILTER (WHERE seller_state = 'XX') FROM raw.sellers"
        ).fetchone()


def test_a_refused_package_is_set_aside_in_one_sentence_and_later_runs_load_again(
    olist_env, postgres_url, sample_dir, capsys
):
    olist_env.set(OLIST_STAGING_URL=postgres_url)
    source = olist_env.workdir / "source"
    source.mkdir()
    csv = source / SELLERS
    shutil.copy(sample_dir / SELLERS, csv)
    ingest = ("ingest", "--source", str(source), "--tables", "sellers")
    assert olist(*ingest) == 0
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute("ALTER TABLE raw.sellers ADD CONSTRAINT no_xx CHECK (seller_state <> 'XX')")
    _set_state(csv, "XX")
    capsys.readouterr()

    for _ in range(2):  # refused again, not "file unchanged": the state went back with the package
        assert olist(*ingest) == 1
        err = capsys.readouterr().err
        [line] = [text for text in err.splitlines() if text.startswith("error:")]
        assert "The staging database postgresql://olist_test:***@" in line
        assert "refused load package" in line and 'violates check constraint "no_xx"' in line
        assert "set aside (kept in " in line and "/load/loaded/" in line
        assert "Traceback" not in err and len(err.strip().splitlines()) <= 2
        assert _states(postgres_url) == (2_119, 0)

    # The file fixed: it is the file staging already holds, so nothing is left to load.
    shutil.copy(sample_dir / SELLERS, csv)
    assert olist(*ingest) == 0
    assert "file unchanged, skipped" in capsys.readouterr().out

    # The cause fixed instead: the changed row loads.
    _set_state(csv, "XX")
    with psycopg.connect(postgres_url, autocommit=True) as con:
        con.execute("ALTER TABLE raw.sellers DROP CONSTRAINT no_xx")
    assert olist(*ingest) == 0
    assert _states(postgres_url) == (2_119, 1)
