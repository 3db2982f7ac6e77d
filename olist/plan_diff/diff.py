"""`olist plan-diff`: what a change to the SQLMesh project does to the warehouse's data.

A reviewer of a pull request sees the SQL; this shows the data. Everything happens in a
throwaway work folder (`<data dir>/plan-diff/` by default), never in the developer's staging
database, lake or warehouse:

1. a small data set (generated at scale 0.01 unless `--source` names one) is ingested and
   exported into the work folder's own staging file and lake;
2. prod is built from the base commit (`git archive`) into the work folder's warehouse, with
   SQLMesh's state in the same file (the `local` gateway). It is kept for the next run while the
   base commit and the data set stay the same (`base.json` records both);
3. the working tree, as git sees it (uncommitted and untracked files included, ignored ones not),
   is planned into a development environment `pr_<branch>` and applied: SQLMesh builds only the
   changed models and those downstream of them; prod's tables and views are not touched;
4. what SQLMesh knows about the change is collected: each modified model's change category and
   SQL diff, the intervals to backfill, the unit tests of the modified models, the audits of the
   models built, and for every directly modified model a data diff against prod on its grain
   (SQLMesh's table_diff).

`olist.plan_diff.report` holds what this finds and writes it as Markdown.

The base and the working tree are placed at the same path in turn (`<work>/project`): SQLMesh
fingerprints a model with its macros' globals, so anything path-dependent in them would make an
unchanged model look modified if the two projects lived in different folders.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import shutil
import subprocess
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from sqlmesh import Context
from sqlmesh.core.console import NoopConsole, get_console, set_console
from sqlmesh.core.plan import Plan
from sqlmesh.core.snapshot import Snapshot, SnapshotChangeCategory
from sqlmesh.core.table_diff import TableDiff
from sqlmesh.utils.concurrency import NodeExecutionFailedError
from sqlmesh.utils.errors import NoChangesPlanError, NodeAuditsErrors, SQLMeshError

from ingest.tables import TABLES
from olist.config import Settings
from olist.errors import PipelineError
from olist.plan_diff.report import (
    AuditFailure,
    Audits,
    Backfill,
    DataDiff,
    ModelChange,
    PlanDiff,
    Revisions,
    Sample,
    UnitTestFailure,
    UnitTests,
)
from olist.progress import RowsCallback

DEFAULT_SCALE = 0.01  # 994 orders: every model gets rows, prod builds in about 20 s
SAMPLE_ROWS = 5  # rows shown per sample in a data diff
ENVIRONMENT_PREFIX = "pr_"
# The variables config.yaml reads to find the warehouse and the lake; set while SQLMesh runs.
_SQLMESH_VARIABLES = ("OLIST_GATEWAY", "OLIST_WAREHOUSE_PATH", "OLIST_LAKE_URL")
_OWNER_FILE = ".olist-plan-diff"
_OWNER_TEXT = (
    "Throwaway work folder of `olist plan-diff`: a small data set, its lake, a warehouse whose "
    "prod is built from the base commit, and the latest report. Safe to delete.\n"
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PlanDiffRequest:
    base: str  # a git ref or commit
    source: Path | None  # a folder of Olist CSVs, else generated data at `scale`
    scale: float = DEFAULT_SCALE
    environment: str | None = None  # default: pr_<current branch>
    work: Path | None = None  # default: <data dir>/plan-diff


# ---------------------------------------------------------------------------------------------
# The run
# ---------------------------------------------------------------------------------------------


def run_plan_diff(
    settings: Settings, request: PlanDiffRequest, on_rows: RowsCallback, progress: Progress
) -> tuple[PlanDiff, WorkFolder]:
    """Build (or reuse) prod from the base, plan the working tree next to it, collect the diff.

    Returns the result and the work folder. Raises PipelineError when the comparison cannot be
    set up (no git checkout, unknown base, no data); a working tree that fails to plan, build,
    test or audit is not an error here: it is what the report is for.
    """
    repository = _repository_root(Path.cwd())
    work = WorkFolder((request.work or settings.data_dir / "plan-diff").resolve())
    base_commit = _resolve_commit(repository, request.base)
    environment = _environment_name(request.environment, repository)
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
        _export_base(repository, base_commit, work.project)
        with sqlmesh_session(work):
            _build_prod(work, f"{request.base} ({base_commit[:7]})")
        work.keep_prod(base_state)

    revisions = Revisions(
        base_ref=request.base,
        base_commit=base_commit,
        head_commit=_git(repository, "rev-parse", "HEAD").strip(),
        uncommitted_changes=bool(_git(repository, "status", "--porcelain").strip()),
        environment=environment,
        data=data_description,
        base_reused=reused,
    )
    progress(f"Planning the working tree into {environment}")
    work.restore_prod()
    _copy_working_tree(repository, work.project, skip=work.root)
    with sqlmesh_session(work) as recorder:
        result = _plan_environment(work, revisions, recorder)
    return result, work


class WorkFolder:
    """The throwaway folder a plan diff works in, and what lives where in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.project = root / "project"  # the SQLMesh project being planned
        self.source = root / "source"  # the generated data set
        self.lake = root / "lake"
        self.warehouse = root / "warehouse.duckdb"
        # The warehouse as it was once prod was built from the base: every run starts from a copy,
        # so no environment or table of an earlier run changes what this one plans or builds.
        # Same file name: DuckDB names the catalog after it, and SQLMesh's views use that name.
        self.built_prod = root / "base" / "warehouse.duckdb"
        self.no_dotenv = root / "empty.env"  # keeps the project's .env away from SQLMesh
        self.report = root / "report.md"
        self._base_file = root / "base.json"

    @property
    def settings(self) -> Settings:
        """Bronze settings of the work folder's own staging file and lake."""
        return Settings(
            staging_url=f"duckdb:///{self.root / 'staging.duckdb'}",
            lake_url=str(self.lake),
            data_dir=self.root,
            s3=None,
        )

    def claim(self) -> None:
        """Create the folder, or check that an existing one is a plan-diff folder."""
        owned = (self.root / _OWNER_FILE).is_file()
        if self.root.exists() and any(self.root.iterdir()) and not owned:
            raise PipelineError(
                f"{self.root} exists and is not a plan-diff work folder (no {_OWNER_FILE}); "
                "its content would be deleted. Pass --work with a new or empty folder."
            )
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / _OWNER_FILE).write_text(_OWNER_TEXT, encoding="utf-8")

    def base_state(self) -> dict[str, str] | None:
        """What prod was built from, if a complete prod is there."""
        if not (self._base_file.is_file() and self.built_prod.is_file()):
            return None
        return json.loads(self._base_file.read_text(encoding="utf-8"))

    def keep_prod(self, state: dict[str, str]) -> None:
        """Keep the warehouse SQLMesh just built prod in, and what it was built from."""
        self.built_prod.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(self.warehouse, self.built_prod)
        self._base_file.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")

    def restore_prod(self) -> None:
        """Put back the warehouse as it was right after prod was built."""
        shutil.copy2(self.built_prod, self.warehouse)

    def reset(self) -> None:
        """Empty the folder but for its owner file."""
        for path in self.root.iterdir():
            if path.name == _OWNER_FILE:
                continue
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()


# ---------------------------------------------------------------------------------------------
# git
# ---------------------------------------------------------------------------------------------


def _git(repository: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repository), *args], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise PipelineError(
            f"git {' '.join(args)} failed in {repository}: {result.stderr.strip() or 'no output'}"
        )
    return result.stdout


def _repository_root(directory: Path) -> Path:
    result = subprocess.run(
        ["git", "-C", str(directory), "rev-parse", "--show-toplevel"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise PipelineError(
            f"{directory} is not in a git checkout. `olist plan-diff` compares the working tree "
            "with a git commit: run it from the project's repository."
        )
    root = Path(result.stdout.strip())
    if not (root / "config.yaml").is_file():
        raise PipelineError(
            f"The repository at {root} has no SQLMesh project (config.yaml at its root)."
        )
    return root


def _resolve_commit(repository: Path, ref: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repository), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise PipelineError(
            f"--base {ref!r} is not a commit in {repository}. Name a branch, tag or commit; in a "
            f"shallow or single-branch clone, fetch it first (git fetch origin {ref})."
        )
    return result.stdout.strip()


def _environment_name(requested: str | None, repository: Path) -> str:
    """`requested`, or `pr_<branch>` (`pr_<short commit>` on a detached HEAD), made safe.

    SQLMesh puts the name into schema names (`marts__pr_my_branch`): lower case, letters, digits
    and underscores only.
    """
    if requested is None:
        branch = _git(repository, "rev-parse", "--abbrev-ref", "HEAD").strip()
        if branch == "HEAD":
            branch = _git(repository, "rev-parse", "--short", "HEAD").strip()
        requested = f"{ENVIRONMENT_PREFIX}{branch}"
    name = re.sub(r"[^a-z0-9_]+", "_", requested.lower()).strip("_")
    if not name or name == "prod":
        raise PipelineError(
            f"--env {requested!r} cannot be the plan diff's environment: it needs letters or "
            "digits, and prod is what the change is compared with. Pass e.g. --env pr_my_change."
        )
    return name


def _export_base(repository: Path, commit: str, destination: Path) -> None:
    """Write the files of `commit` to `destination` (git archive: no worktree to clean up)."""
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(repository), "archive", "--format=tar", commit],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise PipelineError(
            f"git archive {commit[:7]} failed in {repository}: {archive.stderr.decode().strip()}"
        )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(destination, filter="data")
    if not (destination / "config.yaml").is_file():
        raise PipelineError(
            f"The base commit {commit[:7]} has no SQLMesh project (config.yaml): there is no "
            "prod to compare with. Pass a later --base."
        )


def _copy_working_tree(repository: Path, destination: Path, skip: Path) -> None:
    """Copy the files git sees in the working tree (tracked or untracked, not ignored)."""
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    listing = _git(repository, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in sorted(set(filter(None, listing.split("\0")))):
        source = repository / name
        # Deleted but not yet staged, a submodule, or the work folder itself (if not ignored).
        if not source.is_file() or source.resolve().is_relative_to(skip):
            continue
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)


# ---------------------------------------------------------------------------------------------
# The data set and prod
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# The working tree in its environment
# ---------------------------------------------------------------------------------------------


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
    _describe_changes(plan, result)
    result.unit_tests = _run_unit_tests(context, plan)
    recorder.model_names = {s.name: s.node.name for s in plan.snapshots.values()}
    try:
        context.apply(plan)
    except SQLMeshError as error:
        result.apply_error = str(error)
    _diff_data(context, plan, result)


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


_CATEGORY_WORDS = {
    SnapshotChangeCategory.BREAKING: "breaking",
    SnapshotChangeCategory.NON_BREAKING: "non-breaking",
    SnapshotChangeCategory.FORWARD_ONLY: "forward-only",
    SnapshotChangeCategory.INDIRECT_BREAKING: "indirect breaking",
    SnapshotChangeCategory.INDIRECT_NON_BREAKING: "indirect non-breaking",
    SnapshotChangeCategory.METADATA: "metadata only",
}


def _category(snapshot: Snapshot) -> str:
    category = snapshot.change_category
    if category is None:
        return "uncategorized"
    # A forward-only model never rebuilds prod's history, whatever the change.
    if snapshot.is_forward_only and category != SnapshotChangeCategory.METADATA:
        return "forward-only"
    return _CATEGORY_WORDS[category]


def _describe_changes(plan: Plan, result: PlanDiff) -> None:
    """Modified, removed and backfilled models, from the plan (before it is applied)."""
    diff = plan.context_diff
    snapshots = plan.snapshots

    def by_name(ids: set[Any]) -> list[Any]:
        return sorted(ids, key=lambda snapshot_id: diff.snapshots[snapshot_id].node.name)

    for snapshot_id in by_name(plan.directly_modified):
        snapshot = snapshots[snapshot_id]
        added = snapshot_id in diff.added
        result.directly_modified.append(
            ModelChange(
                model=snapshot.node.name,
                category="added" if added else _category(snapshot),
                sql_diff="" if added else _sql_diff(plan, snapshot),
            )
        )
    causes: dict[Any, set[str]] = {}
    for upstream, downstream in plan.indirectly_modified.items():
        for snapshot_id in downstream:
            causes.setdefault(snapshot_id, set()).add(snapshots[upstream].node.name)
    for snapshot_id in by_name(set(causes)):
        snapshot = snapshots[snapshot_id]
        result.indirectly_modified.append(
            ModelChange(
                model=snapshot.node.name,
                category=_category(snapshot),
                caused_by=tuple(sorted(causes[snapshot_id])),
            )
        )
    for snapshot_id in by_name(plan.metadata_updated - plan.directly_modified - set(causes)):
        snapshot = diff.snapshots[snapshot_id]
        result.metadata_only.append(
            ModelChange(
                model=snapshot.node.name,
                category="metadata only",
                sql_diff=_sql_diff(plan, snapshot),
            )
        )
    result.removed = sorted(info.node_name for info in diff.removed_snapshots.values())
    result.backfill = sorted(
        (
            Backfill(
                model=snapshots[m.snapshot_id].node.name,
                intervals=_intervals(snapshots[m.snapshot_id], m),
            )
            for m in plan.missing_intervals
        ),
        key=lambda backfill: backfill.model,
    )


def _sql_diff(plan: Plan, snapshot: Snapshot) -> str:
    """The unified diff of a model's definition, prod's first.

    SQLMesh joins difflib's header lines, which end in a newline already, with newlines; the
    blank lines that leaves are dropped (a diff's own lines always start with ' ', '+' or '-'),
    as are the header lines, which name no file.
    """
    lines = plan.context_diff.text_diff(snapshot.name).splitlines()
    return "\n".join(line for line in lines if line and line not in ("--- ", "+++ "))


def _intervals(snapshot: Snapshot, missing: Any) -> str:
    """What the plan computes for a model, in the words `sqlmesh plan` uses."""
    if snapshot.is_incremental:
        return missing.format_intervals(snapshot.node.interval_unit)
    return "recreate view" if snapshot.is_view else "full refresh"


def _run_unit_tests(context: Context, plan: Plan) -> UnitTests:
    """The unit tests of the models the change modifies: what `sqlmesh plan
    --test-changed-only` runs (a model's test exercises its own query only)."""
    diff = plan.context_diff
    modified = {*diff.modified_snapshots, *(snapshot_id.name for snapshot_id in diff.added)}
    result = context.test(model_names=modified, stream=io.StringIO())
    return UnitTests(
        run=result.testsRun,
        not_selected=result.tests_skipped,
        failures=tuple(
            UnitTestFailure(test=getattr(test, "test_name", str(test)), message=message.strip())
            for test, message in (*result.failures, *result.errors)
        ),
    )


def _diff_data(context: Context, plan: Plan, result: PlanDiff) -> None:
    """A data diff against prod for every directly modified model the environment holds."""
    environment = result.revisions.environment
    built = result.apply_error is None
    for snapshot_id in plan.directly_modified:
        snapshot = plan.snapshots[snapshot_id]
        model = snapshot.node.name
        if snapshot_id in plan.context_diff.added:
            result.no_data_diff[model] = "new model: prod has nothing to compare with"
        elif not built:
            result.no_data_diff[model] = "not built: the environment could not be created"
        elif not snapshot.is_model or not snapshot.model.on:
            result.no_data_diff[model] = "no grain: add `grain` to its MODEL block to match rows"
        else:
            with _queries_not_logged():
                for table_diff in context.table_diff(
                    "prod", environment, select_models=[model], show=False, limit=SAMPLE_ROWS
                ):
                    result.data_diffs[model] = _data_diff(model, table_diff)


@contextmanager
def _queries_not_logged() -> Iterator[None]:
    """table_diff logs each query it runs at its caller's log level (WARNING under `olist`), so
    every diff would print pages of SQL: the engine adapter's log is muted while it runs."""
    adapter_log = logging.getLogger("sqlmesh.core.engine_adapter")
    level = adapter_log.level
    adapter_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        adapter_log.setLevel(level)


def _data_diff(model: str, table_diff: TableDiff) -> DataDiff:
    schema = table_diff.schema_diff()
    rows = table_diff.row_diff()
    # table_diff counts, per shared column, the matched rows where the column is equal.
    changed = tuple(
        (str(column), rows.join_count - int(rows.stats[f"{column}_matches"]))
        for column, pct_match in rows.column_stats["pct_match"].items()
        if pct_match < 100
    )
    return DataDiff(
        model=model,
        grain=tuple(table_diff.key_columns[2]),
        prod_rows=rows.source_count,
        pr_rows=rows.target_count,
        only_in_prod=rows.s_only_count,
        only_in_pr=rows.t_only_count,
        identical_rows=rows.full_match_count,
        added_columns=tuple((name, kind.sql()) for name, kind in schema.added),
        removed_columns=tuple((name, kind.sql()) for name, kind in schema.removed),
        retyped_columns=tuple(
            (name, old.sql(), new.sql()) for name, (old, new) in schema.modified.items()
        ),
        changed_values=changed,
        changed_sample=_sample(rows.joined_sample, rows.partial_match_count),
        only_in_prod_sample=_sample(rows.s_sample, rows.s_only_count),
        only_in_pr_sample=_sample(rows.t_sample, rows.t_only_count),
    )


def _sample(frame: pd.DataFrame, total: int) -> Sample:
    def cell(value: object) -> str:
        missing = value is None or (not isinstance(value, str) and bool(pd.isna(value)))
        return "NULL" if missing else str(value)

    return Sample(
        columns=tuple(str(column) for column in frame.columns),
        rows=tuple(tuple(cell(value) for value in row) for row in frame.itertuples(index=False)),
        total=total,
    )


# ---------------------------------------------------------------------------------------------
# What SQLMesh reports while it applies a plan
# ---------------------------------------------------------------------------------------------


class RecordingConsole(NoopConsole):
    """SQLMesh's console for a plan diff: prints nothing, keeps audit results and warnings."""

    def __init__(self) -> None:
        super().__init__()
        self.audits = Audits()
        self.warnings: list[str] = []
        self.model_names: dict[str, str] = {}  # snapshot name ("db"."schema"."x") -> schema.x

    def update_snapshot_evaluation_progress(
        self,
        snapshot: Snapshot,
        interval: Any,
        batch_idx: int,
        duration_ms: int | None,
        num_audits_passed: int,
        num_audits_failed: int,
        audit_only: bool = False,
        execution_stats: Any = None,
        auto_restatement_triggers: Any = None,
    ) -> None:
        # Called once per batch; a model built in several batches runs its audits on each.
        model = snapshot.node.name
        self.audits.passed[model] = max(self.audits.passed.get(model, 0), num_audits_passed)

    def log_failed_models(self, errors: list[NodeExecutionFailedError]) -> None:
        for error in errors:
            node = error.node
            name = getattr(node, "snapshot_name", None) or getattr(node, "name", str(node))
            model = self.model_names.get(name, name)
            cause = error.__cause__ or error
            if isinstance(cause, NodeAuditsErrors):
                self.audits.failures.extend(
                    AuditFailure(model=model, audit=audit.audit_name, rows=audit.count)
                    for audit in cause.errors
                )
            else:
                self.audits.model_errors[model] = str(cause).strip()

    def log_warning(self, short_message: str, long_message: str | None = None) -> None:
        self.warnings.append(short_message.strip())
