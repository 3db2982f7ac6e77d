"""One writer at a time per staging database: ingest and export hold this lock while they run.

Two first ingests at once into an empty staging database would both see no table, both append,
and leave every row twice; two exports from one staging database would write the same loads to
the lake twice. The lock is the staging database's own, so processes on different hosts respect
it too: a PostgreSQL advisory lock (released by the server when the holder's session ends, even
after `kill -9`), and for the embedded default a lock on a file beside the DuckDB file (a DuckDB
file lives on one host, and the kernel releases the lock when the process dies).

The second run waits up to `OLIST_LOCK_WAIT_SECONDS` (default 300), saying what it waits for,
then stops with a message naming the holder.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from olist.config import Settings
from olist.console import errors
from olist.errors import StagingDatabaseError

POLL_SECONDS = 0.5
# The advisory lock's key, one number every olist process agrees on (from a hash of its name).
ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"olist-pipeline staging writer").digest()[:8]) >> 1


@contextmanager
def staging_writer_lock(settings: Settings, command: str) -> Iterator[None]:
    """Hold the staging database's writer lock for the duration of the block."""
    lock = _postgres_lock if settings.staging_is_postgres else _file_lock
    with lock(settings, command):
        yield


def _acquire(
    try_lock: Callable[[], bool], holder: Callable[[], str], settings: Settings, command: str
) -> None:
    """Take the lock, waiting up to OLIST_LOCK_WAIT_SECONDS and saying so once."""
    deadline = time.monotonic() + settings.lock_wait_seconds
    said = False
    while not try_lock():
        if time.monotonic() >= deadline:
            raise StagingDatabaseError(
                f"olist {command} did not start: another olist ingest or export is writing to "
                f"the staging database {settings.staging_display} ({holder()}) and did not "
                f"finish within {settings.lock_wait_seconds:g} s. Run again when it has ended, "
                "or set OLIST_LOCK_WAIT_SECONDS to wait longer."
            )
        if not said:
            errors.print(
                f"olist {command}: another olist ingest or export is writing to "
                f"{settings.staging_display} ({holder()}); waiting up to "
                f"{settings.lock_wait_seconds:g} s for it to finish.",
                highlight=False,
            )
            said = True
        time.sleep(POLL_SECONDS)


@contextmanager
def _postgres_lock(settings: Settings, command: str) -> Iterator[None]:
    import psycopg

    with psycopg.connect(settings.staging_url, autocommit=True) as connection:

        def try_lock() -> bool:
            query = "SELECT pg_try_advisory_lock(%s)"
            return bool(connection.execute(query, [ADVISORY_KEY]).fetchone()[0])

        def holder() -> str:
            # A bigint advisory key shows in pg_locks as its high and low 32 bits.
            row = connection.execute(
                """
                SELECT a.pid, coalesce(host(a.client_addr), 'a local socket'), a.backend_start
                FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
                  AND l.classid::bigint = %s AND l.objid::bigint = %s
                """,
                [ADVISORY_KEY >> 32, ADVISORY_KEY & 0xFFFFFFFF],
            ).fetchone()
            if row is None:
                return "its session is ending"
            pid, client, since = row
            return f"server process {pid}, connected from {client} since {since:%Y-%m-%d %H:%M:%S}"

        _acquire(try_lock, holder, settings, command)
        try:
            yield
        finally:
            # A server that went away (stopped, restarted) ended the session and its lock with
            # it: nothing to release, and the run's own error says what happened.
            with suppress(psycopg.OperationalError):
                connection.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_KEY])


@contextmanager
def _file_lock(settings: Settings, command: str) -> Iterator[None]:
    path = settings.duckdb_staging_path.with_name(settings.duckdb_staging_path.name + ".lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:

        def try_lock() -> bool:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        def holder() -> str:
            handle.seek(0)
            return handle.read().strip() or "a process starting up"

        _acquire(try_lock, holder, settings, command)
        try:
            # Who holds it, for the message a waiting run prints.
            handle.seek(0)
            handle.truncate()
            handle.write(f"process {os.getpid()} on {socket.gethostname()}\n")
            handle.flush()
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
