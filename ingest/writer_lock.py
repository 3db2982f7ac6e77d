"""One writer at a time per staging database: ingest and export hold this lock while they run.

Two first ingests at once into an empty staging database would both see no table, both append,
and leave every row twice; two exports from one staging database would write the same loads to
the lake twice. The lock is the staging database's own, so processes on different hosts respect
it too: a PostgreSQL advisory lock (released by the server when the holder's session ends, even
after `kill -9`), and for the embedded default a lock on a file beside the DuckDB file (a DuckDB
file lives on one host, and the kernel releases the lock when the process dies).

The second run waits up to `OLIST_LOCK_WAIT_SECONDS` (default 300), saying what it waits for,
then stops with a message naming the holder.

An advisory lock lives as long as the session that took it. If PostgreSQL restarts mid-run, that
session ends while dlt's load retries its jobs on new connections and succeeds, so the run would
go on writing without the lock, and a second writer could start beside it. So every write dlt
starts (tables, each load job, the load's completion) first checks the lock's session: if it is
gone, the run takes the lock again, or stops if another run took it meanwhile (`WriterLockLost`).
The check costs one round trip per job.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

from dlt.common.destination import Destination
from dlt.common.destination.exceptions import DestinationTerminalException

from olist.config import Settings
from olist.console import errors
from olist.errors import StagingDatabaseError

POLL_SECONDS = 0.5
# The advisory lock's key, one number every olist process agrees on (from a hash of its name).
ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"olist-pipeline staging writer").digest()[:8]) >> 1
# Who holds the lock in the connection's database (advisory locks belong to one database of the
# cluster): server process, client address, session start. A bigint advisory key shows in
# pg_locks as its high and low 32 bits.
HOLDER_QUERY = """
    SELECT a.pid, coalesce(host(a.client_addr), 'a local socket'), a.backend_start
    FROM pg_locks l JOIN pg_stat_activity a USING (pid)
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.classid::bigint = %s AND l.objid::bigint = %s
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
"""
HOLDER_QUERY_PARAMS = (ADVISORY_KEY >> 32, ADVISORY_KEY & 0xFFFFFFFF)
# The job client's methods that write: the dataset's schemas and tables, each load job, the
# record of a complete load.
GUARDED_WRITES = ("initialize_storage", "update_stored_schema", "create_load_job", "complete_load")


class WriterLockLost(DestinationTerminalException):
    """The run's writer lock went with its session and another run holds it now.

    Terminal for dlt, so the load stops instead of retrying (a retry could not take it back).
    """


@contextmanager
def staging_writer_lock(
    settings: Settings, command: str, destination: Destination
) -> Iterator[None]:
    """Hold the staging database's writer lock for the block; every write dlt starts through
    `destination` (tables, load jobs, a load's completion) first makes sure it is still held."""
    if not settings.staging_is_postgres:
        # The kernel keeps a file lock until the process ends: nothing can take it from a run.
        with _file_lock(settings, command):
            yield
        return
    lock = _PostgresLock(settings, command)
    with lock.held(), _checked_writes(destination, lock.ensure_held):
        yield


@contextmanager
def _checked_writes(destination: Destination, check: Callable[[], None]) -> Iterator[None]:
    """Call `check` before every write dlt starts through `destination`'s job clients."""
    make_client = destination.client

    def checked_client(*args: Any, **kwargs: Any) -> Any:
        client = make_client(*args, **kwargs)
        for name in GUARDED_WRITES:
            setattr(client, name, _after(check, getattr(client, name)))
        return client

    # dlt offers no hook before a write; its job clients are all made by `destination.client`.
    destination.client = checked_client  # type: ignore[method-assign]
    try:
        yield
    finally:
        del destination.client  # the class's own method again


def _after(check: Callable[[], None], write: Callable[..., Any]) -> Callable[..., Any]:
    def checked_write(*args: Any, **kwargs: Any) -> Any:
        check()
        return write(*args, **kwargs)

    return checked_write


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


class _PostgresLock:
    """The advisory lock, held by a session of its own."""

    def __init__(self, settings: Settings, command: str) -> None:
        self.settings = settings
        self.command = command
        self.connection: Any = None

    @contextmanager
    def held(self) -> Iterator[None]:
        import psycopg

        self.connection = psycopg.connect(self.settings.staging_url, autocommit=True)
        try:
            _acquire(self._try_lock, self._holder, self.settings, self.command)
            yield
        finally:
            # A server that went away (stopped, restarted) ended the session and its lock with
            # it: nothing to release, and the run's own error says what happened.
            with suppress(psycopg.OperationalError):
                self.connection.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_KEY])
            self.connection.close()

    def ensure_held(self) -> None:
        """Return if this run holds the lock, taking it again if its session was lost.

        A server still down raises its connection error, which dlt retries like the job's own.
        """
        import psycopg

        try:
            self.connection.execute("SELECT 1")
            return  # the session is alive, so is the lock it took
        except psycopg.OperationalError:
            self.connection.close()
        self.connection = psycopg.connect(self.settings.staging_url, autocommit=True)
        if not self._try_lock():
            raise WriterLockLost(
                f"olist {self.command} stopped: its connection to the staging database "
                f"{self.settings.staging_display} was lost (did the server restart?) and with it "
                f"the writer lock, which another olist ingest or export took before this run "
                f"could take it back ({self._holder()})"
            )

    def _try_lock(self) -> bool:
        query = "SELECT pg_try_advisory_lock(%s)"
        return bool(self.connection.execute(query, [ADVISORY_KEY]).fetchone()[0])

    def _holder(self) -> str:
        row = self.connection.execute(HOLDER_QUERY, HOLDER_QUERY_PARAMS).fetchone()
        if row is None:
            return "its session is ending"
        pid, client, since = row
        return f"server process {pid}, connected from {client} since {since:%Y-%m-%d %H:%M:%S}"


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
