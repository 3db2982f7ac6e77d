"""Turn dlt's wrapped exceptions into the pipeline's own errors with actionable messages.

dlt wraps whatever fails inside a step in `PipelineStepFailed`; the user needs the root cause in
plain words (which server, which setting to check), not dlt's stack.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dlt.load.exceptions import LoadPackageAborted
from dlt.pipeline import Pipeline
from dlt.pipeline.exceptions import PipelineStepFailed

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
        for linked in (current.__cause__, current.__context__, getattr(current, "exception", None)):
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
            if isinstance(cause, LoadPackageAborted):
                raise _set_aside_error(failed.pipeline, cause, settings) from None
        raise PipelineError(
            f"dlt step '{failed.step}' failed: {_without_traceback(str(failed.exception))}\n"
            "The load package is kept and the next run retries it. "
            f"Inspect it with: dlt pipeline --pipelines-dir {settings.dlt_pipelines_dir} "
            f"{failed.pipeline.pipeline_name} info"
        ) from failed


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
    if pipeline.pipeline_name.endswith("export"):
        destination = f"the lake {settings.lake_url}"
    else:
        destination = f"the staging database {settings.staging_display}"
    kept = f"{settings.dlt_pipelines_dir}/{pipeline.pipeline_name}/load/loaded/{aborted.load_id}"
    return PipelineError(
        f"{destination[0].upper()}{destination[1:]} refused load package {aborted.load_id}: "
        f"{cause}. A retry would fail the same way, so the package is set aside (kept in {kept} "
        "for inspection) and the next run starts from the last complete load: fix the cause "
        "and run again; the source files are read again and what is missing is loaded."
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
