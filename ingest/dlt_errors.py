"""Turn dlt's wrapped exceptions into the pipeline's own errors with actionable messages.

dlt wraps whatever fails inside a step in `PipelineStepFailed`; the user needs the root cause in
plain words (which server, which setting to check), not dlt's stack.
"""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dlt.load.exceptions import LoadClientJobRetry, LoadPackageAborted
from dlt.pipeline import Pipeline
from dlt.pipeline.exceptions import PipelineStepFailed

from ingest.postgres_errors import is_connection_lost, postgres_server
from ingest.writer_lock import WriterLockLost
from olist.config import Settings
from olist.errors import PipelineError


def _causes(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked_attributes = ("exception", "job_exception", "client_exception")  # dlt's wrappers
        for linked in (
            current.__cause__,
            current.__context__,
            *(getattr(current, name, None) for name in linked_attributes),
        ):
            if isinstance(linked, BaseException):
                stack.append(linked)


@contextmanager
def unwrap_pipeline_error(settings: Settings) -> Iterator[None]:
    try:
        yield
    except PipelineStepFailed as failed:
        for cause in _causes(failed):
            if isinstance(cause, KeyboardInterrupt):
                # Ctrl-C inside a step: dlt wraps it, with an empty message. It is an interrupt.
                raise KeyboardInterrupt from None
            if isinstance(cause, PipelineError):
                raise cause from None
        aborted = next((c for c in _causes(failed) if isinstance(c, LoadPackageAborted)), None)
        rerun = _set_aside_rerun(failed.pipeline, aborted, settings) if aborted else RESUMES
        lost = next((c for c in _causes(failed) if isinstance(c, WriterLockLost)), None)
        if lost:
            raise PipelineError(f"{lost}. Once that run has finished, {rerun}.") from None
        known = _disk_full(failed, settings, rerun) or _staging_connection_lost(
            failed, settings, rerun
        )
        if known:
            raise PipelineError(known) from failed
        if aborted:
            raise _set_aside_error(failed.pipeline, aborted, settings) from None
        retried = next((c for c in _causes(failed) if isinstance(c, LoadClientJobRetry)), None)
        if retried:
            raise PipelineError(_retries_exhausted(failed, retried, settings)) from None
        cause = " ".join(_without_traceback(str(failed.exception)).split()).rstrip(".")
        raise PipelineError(
            f"The {_run_name(failed)} failed in dlt's {failed.step} step: {cause}. The load "
            "package is kept and a rerun retries it (inspect it with: dlt pipeline "
            f"--pipelines-dir {settings.dlt_pipelines_dir} {failed.pipeline.pipeline_name} info)."
        ) from failed


def _retries_exhausted(
    failed: PipelineStepFailed, retried: LoadClientJobRetry, settings: Settings
) -> str:
    """A load job dlt retried until it gave up, in one sentence: which table, where, and the
    reason it gave the last time."""
    table = retried.job_id.split(".")[0]
    last = " ".join(_without_traceback(retried.failed_message).split()).rstrip(".")
    return (
        f"The {_run_name(failed)} could not load {table} into "
        f"{_destination(failed.pipeline, settings)}: it failed "
        f"{retried.retry_count} times in a row, the last time with: {last}. Fix the cause, "
        f"then {RESUMES}."
    )


def _destination(pipeline: Pipeline, settings: Settings) -> str:
    """Where the pipeline's load step writes: the export's lake, the ingest's staging database."""
    if pipeline.pipeline_name.endswith("export"):
        return f"the lake {settings.lake_url}"
    return f"the staging database {settings.staging_display}"


def _set_aside_error(
    pipeline: Pipeline, aborted: LoadPackageAborted, settings: Settings
) -> PipelineError:
    """The package dlt aborted on a terminal failure (dlt_defaults: auto abort), in one sentence:
    what refused it and why, where it is kept, and that the next run starts from the last complete
    load."""
    failed_job = aborted.job_exception
    cause = ""
    if failed_job is not None:
        cause = str(failed_job.client_exception or "").strip() or failed_job.failed_message
    cause = " ".join(_without_traceback(cause).split()).rstrip(".") or "no reason given"
    destination = _destination(pipeline, settings)
    return PipelineError(
        f"{destination[0].upper()}{destination[1:]} refused load package {aborted.load_id}: "
        f"{cause}. A retry would fail the same way: fix the cause, then "
        f"{_set_aside_rerun(pipeline, aborted, settings)}."
    )


def _set_aside_rerun(pipeline: Pipeline, aborted: LoadPackageAborted, settings: Settings) -> str:
    """What a rerun does after dlt aborted a package (dlt_defaults: auto abort)."""
    kept = f"{settings.dlt_pipelines_dir}/{pipeline.pipeline_name}/load/loaded/{aborted.load_id}"
    return (
        f"rerun: this run's load package is set aside (kept in {kept} for inspection) and the "
        "rerun starts from the last complete load, reading the source again and loading what "
        "is missing, nothing twice"
    )


TRACEBACK = "Traceback (most recent call last):"


def _without_traceback(message: str) -> str:
    """dlt quotes a failed job's whole traceback in its message; keep its text and the final
    exception line, which names the cause (connection refused, no space left, ...)."""
    text, found, trace = message.partition(TRACEBACK)
    if not found:
        return message.strip()
    causes = [line for line in trace.splitlines() if line.strip() and not line[0].isspace()]
    cause = causes[-1].strip() if causes else ""
    return f"{text.strip()} {cause}".strip()


NO_SPACE = os.strerror(errno.ENOSPC)  # "No space left on device"
RESUMES = "rerun: it resumes from the load package this run kept, without loading anything twice"
# Where a path a failed write names is given, in the messages: `[Errno 28] ...: 'from' -> 'to'`
# (a file copied into the lake), `[Errno 28] ...: 'path'`, DuckDB's `Could not write file "path"`.
_NO_SPACE_PATHS = (
    re.compile(r"-> '([^']+)'"),
    re.compile(re.escape(NO_SPACE) + r": '([^']+)'"),
    re.compile(r'"([^"]+)": ' + re.escape(NO_SPACE)),
)


def _run_name(failed: PipelineStepFailed) -> str:
    return "export" if failed.pipeline.pipeline_name.endswith("export") else "ingest"


def _disk_full(failed: PipelineStepFailed, settings: Settings, rerun: str) -> str | None:
    """One sentence for a full disk: which of the run's places it was writing, the cause, and
    that a rerun with room resumes (dlt keeps the package; a half-written file is rewritten)."""
    path: str | None = None
    found = False
    for cause in _causes(failed):
        if isinstance(cause, OSError) and cause.errno == errno.ENOSPC:
            found, path = True, cause.filename2 or cause.filename
            break
    text = str(failed.exception)
    if not found and NO_SPACE not in text:
        return None
    if path is None:
        path = next((m.group(1) for p in _NO_SPACE_PATHS if (m := p.search(text))), None)
    place, setting = _place_of(os.fsdecode(path) if path else None, failed, settings)
    move = f" (or set {setting} to a bigger disk)" if setting else ""
    return (
        f"The {_run_name(failed)} ran out of disk space in dlt's {failed.step} step, writing to "
        f"{place}: {NO_SPACE}. Free space there{move}, then {rerun}."
    )


def _place_of(
    path: str | None, failed: PipelineStepFailed, settings: Settings
) -> tuple[str, str | None]:
    """The place a path belongs to (lake, staging database, data folder) and its setting."""
    lake = None if settings.lake_is_s3 else Path(settings.lake_url).absolute()
    staging = None if settings.staging_is_postgres else settings.duckdb_staging_path.absolute()
    data_dir = settings.data_dir.absolute()
    lake_place = (f"the lake {settings.lake_url}", "OLIST_LAKE_URL")
    # Absolute: "the data folder data" (the default) would read as a typo.
    data_place = (f"the data folder {data_dir} (dlt's working files)", "OLIST_DATA_DIR")
    if settings.staging_is_postgres:  # a disk of the server's: no setting of ours moves it
        staging_place = (f"the staging database {settings.staging_display}", None)
    else:
        staging_place = (
            f"the staging database {settings.duckdb_staging_path}",
            "OLIST_STAGING_URL",
        )
    if path is None:
        if failed.step != "load":  # extract, normalize, sync: dlt's own folder
            return data_place
        destination, setting = lake_place if _run_name(failed) == "export" else staging_place
        settings_named = f"{setting} or OLIST_DATA_DIR" if setting else "OLIST_DATA_DIR"
        return f"{destination} or {data_place[0]}", settings_named
    written = Path(path).absolute()
    if lake is not None and written.is_relative_to(lake):
        return lake_place
    beside_staging = staging is not None and written.parent == staging.parent
    if beside_staging and written.name.startswith(staging.name):  # the file, its .wal, its lock
        return staging_place
    if written.is_relative_to(data_dir):
        return data_place
    if settings.staging_is_postgres and _run_name(failed) == "ingest" and failed.step == "load":
        return staging_place  # PostgreSQL's own file (`base/...`), on the server's disk
    return str(written), None


# A psycopg or psycopg2 error as dlt quotes it: `psycopg2.OperationalError: <first line>`, or a
# subclass such as `psycopg2.errors.AdminShutdown: terminating connection ...`.
_CLIENT_ERROR = re.compile(r"\bpsycopg2?(?:\.\w+)*\.\w+: ([^\n]+)")


def _staging_connection_lost(
    failed: PipelineStepFailed, settings: Settings, rerun: str
) -> str | None:
    """One sentence for a PostgreSQL staging server that went away mid-step (stopped,
    restarted, network gone): the server, the client's own words, and what to do."""
    if not settings.staging_is_postgres:
        return None
    messages = [
        str(cause).strip()
        for cause in _causes(failed)
        if type(cause).__module__.startswith("psycopg")  # psycopg, psycopg2 and their errors
    ]
    messages += [m.strip() for m in reversed(_CLIENT_ERROR.findall(str(failed.exception)))]
    lost = [m for m in messages if is_connection_lost(m)]
    if not lost:
        return None
    cause = lost[0].splitlines()[0].strip()  # psycopg adds hints on further lines
    server = postgres_server(settings.staging_url)
    return (
        f"The {_run_name(failed)} lost its connection to the staging database {server} in "
        f"dlt's {failed.step} step ({cause}). Once the server answers again (check "
        f"OLIST_STAGING_URL), {rerun}."
    )
