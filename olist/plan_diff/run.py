"""`olist plan-diff`'s steps: the data set, prod built from the base, the working tree planned
into its environment next to it, and what SQLMesh finds on the way (see the package's doc)."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlmesh import Context
from sqlmesh.core.console import get_console, set_console
from sqlmesh.utils.errors import NoChangesPlanError, SQLMeshError

from ingest.tables import TABLES
from olist.config import Settings
from olist.errors import PipelineError
from olist.plan_diff.changes import describe_changes, run_unit_tests
from olist.plan_diff.data_diff import diff_data
from olist.plan_diff.recording_console import RecordingConsole
from olist.plan_diff.repository import (
    copy_working_tree,
    environment_name,
    export_base,
    git,
    repository_root,
    resolve_commit,
)
from olist.plan_diff.result import PlanDiff, Revisions
from olist.plan_diff.work_folder import WorkFolder
from olist.progress import RowsCallback

DEFAULT_SCALE = 0.01  # 994 orders: every model gets rows, prod builds in about 20 s
# The variables config.yaml reads to find the warehouse and the lake; set while SQLMesh runs.
_SQLMESH_VARIABLES = ("OLIST_GATEWAY", "OLIST_WAREHOUSE_PATH", "OLIST_LAKE_URL")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PlanDiffRequest:
    base: str  # a git ref or commit
    source: Path | None  # a folder of Olist CSVs, else generated data at `scale`
    scale: float = DEFAULT_SCALE
    environment: str | None = None  # default: pr_<current branch>
    work: Path | None = None  # default: <data dir>/plan-diff


def run_plan_diff(
    settings: Settings, request: PlanDiffRequest, on_rows: RowsCallback, progress: Progress
) -> tuple[PlanDiff, WorkFolder]:
    """Build (or reuse) prod from the base, plan the working tree next to it, collect the diff.

    Returns the result and the work folder. Raises PipelineError when the comparison cannot be
    set up (no git checkout, unknown base, no data); a working tree that fails to plan, build,
    test or audit is not an error here: it is what the report is for.
    """
    repository = repository_root(Path.cwd())
    work = WorkFolder((request.work or settings.data_dir / "plan-diff").resolve())
    base_commit = resolve_commit(repository, request.base)
    environment = environment_name(request.environment, repository)
    data_key, data_description = _data_identity(request)
    base_state = {"base_commit": base_commit, "data": data_key}

    work.claim()
    reused = work.base_state() == base_state
    if reused:
        progress(
            f"Reusing prod built from {request.base} ({base_commit[:7]}) on {data_description}"
        )
    else:
        work.reset()
        progress(f"Building prod from {request.base} ({base_commit[:7]}) on {data_description}")
        _load_data_set(work, request, on_rows, progress)
        export_base(repository, base_commit, work.project)
        with sqlmesh_session(work):
            _build_prod(work, f"{request.base} ({base_commit[:7]})")
        work.keep_prod(base_state)

    revisions = Revisions(
        base_ref=request.base,
        base_commit=base_commit,
        head_commit=git(repository, "rev-parse", "HEAD").strip(),
        uncommitted_changes=bool(git(repository, "status", "--porcelain").strip()),
        environment=environment,
        data=data_description,
        base_reused=reused,
    )
    progress(f"Planning the working tree into {environment}")
    work.restore_prod()
    copy_working_tree(repository, work.project, skip=work.root)
    with sqlmesh_session(work) as recorder:
        result = _plan_environment(work, revisions, recorder)
    return result, work


def _data_identity(request: PlanDiffRequest) -> tuple[str, str]:
    """A key that changes when the data set does, and its description for the report."""
    if request.source is None:
        from olist.synthetic.generate import DEFAULT_SEED, order_count

        description = (
            f"generated data (scale {request.scale:g}: {order_count(request.scale):,} orders)"
        )
        return f"generated scale={request.scale!r} seed={DEFAULT_SEED}", description
    source = request.source.resolve()
    if not source.is_dir():
        raise PipelineError(f"--source {request.source}: folder not found")
    files = sorted(source.glob("*.csv"))
    stamp = hashlib.sha256(
        "".join(f"{f.name}:{f.stat().st_size}:{f.stat().st_mtime_ns}\n" for f in files).encode()
    ).hexdigest()
    return f"source={source} files={stamp}", f"the CSV files in {source}"


def _load_data_set(
    work: WorkFolder, request: PlanDiffRequest, on_rows: RowsCallback, progress: Progress
) -> None:
    from ingest.export_pipeline import run_export
    from ingest.ingest_pipeline import run_ingest

    source = request.source
    if source is None:
        from olist.synthetic.generate import generate

        generate(work.source, request.scale, on_rows=on_rows)
        source = work.source
    progress("Loading the data set into the work folder's staging file and lake")
    run_ingest(work.settings, source, list(TABLES), on_rows)
    run_export(work.settings, on_rows)


@contextmanager
def sqlmesh_session(work: WorkFolder) -> Iterator[RecordingConsole]:
    """SQLMesh pointed at the work folder's warehouse and lake, with a recording console.

    config.yaml reads `OLIST_*` when a Context loads the project, so they are set for the block
    and restored after it; the local gateway keeps SQLMesh's state in the warehouse file, so
    nothing shared is touched. The console records audit results instead of printing progress.
    """
    saved = {name: os.environ.get(name) for name in _SQLMESH_VARIABLES}
    previous_console = get_console()
    recorder = RecordingConsole()
    os.environ.update(
        OLIST_GATEWAY="local",
        OLIST_WAREHOUSE_PATH=str(work.warehouse),
        OLIST_LAKE_URL=str(work.lake),
    )
    work.no_dotenv.touch()
    set_console(recorder)
    try:
        yield recorder
    finally:
        set_console(previous_console)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _open_project(work: WorkFolder) -> Context:
    # An empty dotenv file: SQLMesh would otherwise load <project>/.env over the environment.
    return Context(paths=str(work.project), config_loader_kwargs={"dotenv_path": work.no_dotenv})


def _build_prod(work: WorkFolder, base: str) -> None:
    try:
        context = _open_project(work)
        try:
            plan = context.plan_builder("prod", skip_tests=True, skip_linter=True).build()
            context.apply(plan)
        finally:
            context.close()
    except SQLMeshError as error:
        raise PipelineError(f"Could not build prod from the base {base}: {error}") from None


def _plan_environment(
    work: WorkFolder, revisions: Revisions, recorder: RecordingConsole
) -> PlanDiff:
    result = PlanDiff(revisions=revisions, audits=recorder.audits)
    try:
        context = _open_project(work)
    except SQLMeshError as error:
        result.project_error = f"The working tree's SQLMesh project does not load: {error}"
    else:
        try:
            _plan_and_apply(context, result, recorder)
        finally:
            context.close()
    result.warnings.extend(recorder.warnings)
    _make_readable(result, work.project)
    return result


def _plan_and_apply(context: Context, result: PlanDiff, recorder: RecordingConsole) -> None:
    """Plan the environment, run the unit tests, apply it, diff its data: filling `result`."""
    environment = result.revisions.environment
    try:
        plan = context.plan_builder(environment, skip_tests=True, skip_linter=True).build()
    except NoChangesPlanError:
        return  # every model is prod's: the report says there is nothing to compare
    except SQLMeshError as error:
        result.project_error = f"SQLMesh could not plan the working tree: {error}"
        return
    describe_changes(plan, result)
    result.unit_tests = run_unit_tests(context, plan)
    recorder.model_names = {s.name: s.node.name for s in plan.snapshots.values()}
    try:
        context.apply(plan)
    except SQLMeshError as error:
        result.apply_error = str(error)
    diff_data(context, plan, result)


def _make_readable(result: PlanDiff, project: Path) -> None:
    """Errors as the developer knows them: paths relative to the repository (SQLMesh names the
    work folder's copy), without the terminal colour codes sqlglot puts around a parse error."""

    def readable(text: str) -> str:
        return re.sub(r"\x1b\[[0-9;]*m", "", text.replace(f"{project}{os.sep}", ""))

    if result.project_error:
        result.project_error = readable(result.project_error)
    if result.apply_error:
        result.apply_error = readable(result.apply_error)
    result.audits.model_errors = {
        model: readable(message) for model, message in result.audits.model_errors.items()
    }
    result.warnings[:] = [readable(warning) for warning in result.warnings]
