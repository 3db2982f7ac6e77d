"""Bring prod up to date for `olist run`: SQLMesh plans for model changes, runs for new data.

The SQLMesh project is this repository (the folder holding `config.yaml`); its gateways read the
same `OLIST_*` settings as the bronze layer. Two things can make prod out of date:

- **Edited models** (their fingerprints differ from prod's): a plan applies them, after the unit
  tests and the linter. The incremental models are INCREMENTAL_BY_PARTITION, which SQLMesh always
  treats as forward-only (an edit would apply to the rows written after it only), so the edited
  ones are then restated: rebuilt, with what depends on them, as a full build would make them.
- **New lake exports** (listed in the lake's `_dlt_loads/` folder, where dlt records an export
  once all its files are written, but not yet in the ledger `staging.lake_files`), or a previous
  update that did not finish: a `sqlmesh run` of prod that ignores the cron. Every model then
  takes in exactly what it has not consumed (macros/incremental.py).

With neither, nothing is computed: the summary shows the row counts kept at the last update. The
project is then loaded without its YAML unit tests, which only a plan runs.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from ingest.lake_layout import completed_exports_pattern, export_load_id
from olist.errors import PipelineError, WarehouseError
from olist.warehouse.lake_listing import list_files
from olist.warehouse.row_counts import (
    LEDGER,
    ModelRows,
    count_rows,
    ledger_batch,
    model_name,
    record,
    recorded,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]
# SQLMesh loads a project in a pool of forked processes, one per core, unless this says
# otherwise when it is imported. With its cache warm, this project loads faster in one process:
# 1.5 s instead of 2.1 s on 2 cores (the Makefile sets it for `sqlmesh` run through make too).
os.environ.setdefault("MAX_FORK_WORKERS", "1")
PARTITION_KIND = "INCREMENTAL_BY_PARTITION"
# Where changed incremental models are built and audited before prod takes them (see _preview).
PREVIEW_ENVIRONMENT = "olist_preview"
# SQLMesh finds unit tests by this file name (tests/**/test*.yaml); only a plan needs them.
UNIT_TEST_FILES = ("test*.yaml", "test*.yml")


@dataclass(frozen=True)
class WarehouseOutcome:
    action: str  # what the update did, in words
    models_built: int
    audits_passed: int
    location: str  # what and where the warehouse is, for the summary: "file: <path>" on DuckDB
    models: dict[str, ModelRows] = field(default_factory=dict)  # "schema.model" -> its rows


def build_warehouse(project: Path = PROJECT_DIR) -> WarehouseOutcome:
    """Bring prod up to date with `project`'s models and the lake's complete exports."""
    if not (project / "config.yaml").is_file():
        raise PipelineError(
            f"No SQLMesh project at {project} (config.yaml is missing); `olist run` needs the "
            "repository checkout it was installed from."
        )
    from sqlmesh.utils.errors import SQLMeshError

    context = None
    failures = _FailedModels()
    try:
        context = failures.watch(project_context(project, with_unit_tests=False))
        prod = context.state_reader.get_environment("prod")
        changed = _changed_models(context, prod)
        planned: list[str] = []
        # A prod whose last plan stopped halfway (a full disk, a crash) is not finalized, and
        # SQLMesh's run would wait for it to be: planning prod again finishes it.
        unfinished_plan = prod is not None and prod.finalized_ts is None
        if prod is None or changed or unfinished_plan:
            context.close()
            context = failures.watch(project_context(project, with_unit_tests=True))
            planned = _apply_model_changes(context, prod, changed, finish=unfinished_plan)
        adapter = context.engine_adapter
        new_exports = _new_exports(context)
        last = recorded(adapter)
        # An earlier update that stopped halfway (a failed audit, a crash) left some models
        # behind the ledger; a plan computes only changed models, so a run still catches them up.
        unfinished = last is None or last.batch != ledger_batch(adapter)
        ran = bool(new_exports) or (unfinished and prod is not None)
        if ran:
            _run_prod(context)
        prod_plan_id = context.state_reader.get_environment("prod").plan_id
        if not planned and not ran and last is not None and last.prod_plan_id == prod_plan_id:
            return WarehouseOutcome(
                action="up to date: no model changed and the lake has no new exports",
                models_built=0,
                audits_passed=0,
                location=_location(context),
                models=last.models,
            )
        computed = (
            {model_name(model.fqn) for model in context.models.values()} if ran else set(planned)
        )
        models = count_rows(context, computed)
        record(adapter, models, prod_plan_id)
        audits = sum(len(context.get_model(name).audits) for name in computed)
        location = _location(context)
    except (SQLMeshError, *_engine_errors()) as error:
        raise WarehouseError(f"SQLMesh could not build prod: {error}{failures.cause()}") from None
    except WarehouseError as error:
        raise WarehouseError(f"{error}{failures.cause()}") from None
    finally:
        if context is not None:
            context.close()  # release the warehouse file: DuckDB allows one writer
    if prod is None:
        action = "built"
    elif planned:
        action = "updated for changed models" + (
            f" and {len(new_exports)} new lake export(s)" if new_exports else ""
        )
    elif new_exports:
        action = f"updated from {len(new_exports)} new lake export(s)"
    else:
        action = "updated: finished the previous, interrupted update"
    return WarehouseOutcome(
        action=action,
        models_built=len(computed),
        audits_passed=audits,
        location=location,
        models=models,
    )


def project_context(project: Path, with_unit_tests: bool, read_only: bool = False):
    """The SQLMesh project; without its YAML unit tests unless asked (reading them is a third of
    loading the project, and only a plan runs them). `read_only` opens the warehouse file
    read-only (the site), so that readers of the file need not wait for one another."""
    from sqlmesh import Context
    from sqlmesh.core.config import Config
    from sqlmesh.core.config.loader import load_configs

    config = load_configs("config", Config, [project])[project]
    if config.get_gateway(config.default_gateway).connection.type_ == "spark":
        # PySpark logs every failed query as an error, and SQLMesh asks Spark whether a table
        # exists by describing it: dozens of TABLE_OR_VIEW_NOT_FOUND lines on a first build. A
        # failure that matters reaches SQLMesh as an exception and is reported once.
        from pyspark.logger import PySparkLogger

        PySparkLogger.getLogger("SQLQueryContextLogger").setLevel(logging.CRITICAL)
    if not with_unit_tests:
        ignored = [*(config.ignore_patterns or []), *UNIT_TEST_FILES]
        config = config.copy(update={"ignore_patterns": ignored})
    if read_only:
        gateway = config.get_gateway(config.default_gateway_name)
        # An in-memory DuckDB that attaches the file read-only, under the file's stem: the
        # catalog name SQLMesh's views use.
        from sqlmesh.core.config.connection import DuckDBAttachOptions

        path = Path(gateway.connection.database)
        attached = DuckDBAttachOptions(type="duckdb", path=str(path), read_only=True)
        gateway.connection = gateway.connection.copy(
            update={"database": None, "catalogs": {path.stem: attached}}
        )
    return Context(paths=str(project), config=config)


def _changed_models(context, prod) -> list[str]:
    """The models whose fingerprint differs from prod's, added or removed ones included (all of
    them when there is no prod). Fingerprinted locally: `context.snapshots` would also fetch
    each snapshot from the state, two seconds of a no-change update at 1x."""
    from sqlmesh.core.snapshot import fingerprint_from_node

    in_prod = {s.name: s.fingerprint for s in prod.snapshots} if prod is not None else {}
    nodes = {**context.models, **context.standalone_audits}
    cache: dict = {}
    local = {
        node.fqn: fingerprint_from_node(node, nodes=nodes, cache=cache) for node in nodes.values()
    }
    return sorted(
        name for name in local.keys() | in_prod.keys() if local.get(name) != in_prod.get(name)
    )


def _apply_model_changes(context, prod, changed: list[str], finish: bool = False) -> list[str]:
    """Plan and apply prod; rebuild the edited incremental models there, after they passed their
    audits in a preview (see _preview). With `finish`, the plan is applied even when it changes
    nothing, to finalize prod. Returns the models the plans computed."""
    in_prod = {s.name for s in prod.snapshots} if prod is not None else set()
    edited = [
        name
        for name in changed
        if name in in_prod
        and name in context.models
        and context.get_model(name).kind.name == PARTITION_KIND
    ]
    built: set[str] = set()
    if edited:
        built |= _preview(context)
    # After a preview, the unit tests and the linter have passed on these very models.
    plan = context.plan_builder(
        "prod", always_include_local_changes=True, skip_tests=bool(edited), skip_linter=bool(edited)
    ).build()
    built |= {model_name(s.snapshot_id.name) for s in plan.missing_intervals}
    if plan.has_changes or plan.requires_backfill or finish:
        context.apply(plan)
    if edited:
        restatement = context.plan_builder(
            "prod", restate_models=edited, skip_tests=True, skip_linter=True
        ).build()
        context.apply(restatement)
        built |= {model_name(s.snapshot_id.name) for s in restatement.missing_intervals}
    return sorted(built)


def _preview(context) -> set[str]:
    """Build the changed models and what depends on them in an environment of their own, from the
    warehouse's data, and refuse them if an audit fails there.

    An edited incremental model is forward-only for SQLMesh: a prod plan would deploy it without
    computing or auditing anything, and the restatement that follows rewrites prod's tables in
    place. SQLMesh audits a forward-only model's preview without stopping on a failure (it warns),
    so the failures are counted here. The environment is deleted afterwards, whatever happened.
    """
    tally = _AuditTally(context.console)
    context.console = tally
    try:
        plan = context.plan_builder(PREVIEW_ENVIRONMENT, include_unmodified=False).build()
        context.apply(plan)
    finally:
        context.console = tally.console
        if context.state_reader.get_environment(PREVIEW_ENVIRONMENT) is not None:
            context.invalidate_environment(PREVIEW_ENVIRONMENT, sync=True)
    if tally.failed:
        raise WarehouseError(
            "The changed models failed their audits when built from the warehouse's data: "
            f"{', '.join(sorted(tally.failed))} (the audits and their queries are above). "
            "Prod was not changed; fix the models and run again."
        )
    return {model_name(s.snapshot_id.name) for s in plan.missing_intervals}


class _AuditTally:
    """SQLMesh's console as it is, counting the models whose audits found rows."""

    def __init__(self, console) -> None:
        self.console = console
        self.failed: set[str] = set()

    def update_snapshot_evaluation_progress(
        self, snapshot, interval, batch_idx, duration_ms, num_audits_passed, num_audits_failed, **kw
    ):
        if num_audits_failed:
            self.failed.add(model_name(snapshot.name))
        return self.console.update_snapshot_evaluation_progress(
            snapshot, interval, batch_idx, duration_ms, num_audits_passed, num_audits_failed, **kw
        )

    def __getattr__(self, name: str):
        return getattr(self.console, name)


def _run_prod(context) -> None:
    """Evaluate every model of prod for what it has not consumed; a failed model or audit stops
    the models downstream of it, and SQLMesh has named it above."""
    status = context.run("prod", ignore_cron=True, skip_janitor=True, exit_on_env_update=False)
    if status.is_failure:
        raise WarehouseError(
            "SQLMesh's run of prod failed (the model or audit is named above): the models "
            "downstream of it were not updated. Fix the cause and run again; the next run "
            "takes in everything this one did not."
        )


def _new_exports(context) -> list[str]:
    """Complete exports in the lake that the ledger does not hold yet (their load ids)."""
    # Relative to the working directory, like the models' reads (ingest/lake_layout.py).
    pattern = completed_exports_pattern(context.config.variables["lake_url"])
    adapter = context.engine_adapter
    (listing,) = list_files(adapter, [pattern])
    exports = {export_load_id(file) for file in listing}
    if adapter.table_exists(LEDGER):
        known = adapter.fetchall(f"SELECT DISTINCT lake_load_id FROM {LEDGER}")
        exports -= {load_id for (load_id,) in known}
    return sorted(exports)


def _location(context) -> str:
    """The warehouse, for the summary: the DuckDB file, or Spark's warehouse folder."""
    connection = context.config.get_gateway(context.selected_gateway).connection
    if connection.type_ == "spark":
        return f"folder (Spark): {Path(connection.config['spark.sql.warehouse.dir']).resolve()}"
    return f"file: {Path(connection.database).resolve()}"


class _FailedModels:
    """Keeps the errors of the models SQLMesh failed to evaluate, whose cause (no space left on
    the device, a lock, a failed query) its own error leaves out: "Plan application failed."."""

    def __init__(self) -> None:
        self.errors: list[BaseException] = []

    def watch(self, context):
        context.console = _RecordingFailures(context.console, self.errors)
        return context

    def cause(self) -> str:
        """ " Cause (<model>): <first line of the deepest error>", or "" when none was seen."""
        if not self.errors:
            return ""
        error = root = self.errors[0]
        while (nested := root.__cause__ or root.__context__) is not None:
            root = nested
        lines = str(root).strip().splitlines() or [type(root).__name__]
        snapshot = getattr(getattr(error, "node", None), "snapshot_name", None)
        where = f" ({model_name(snapshot)})" if snapshot else ""
        return f" Cause{where}: {lines[0]}"


class _RecordingFailures:
    """SQLMesh's console as it is, also keeping the errors of the models that failed."""

    def __init__(self, console, errors: list[BaseException]) -> None:
        self.console = console
        self.errors = errors

    def log_failed_models(self, errors) -> None:
        self.errors.extend(errors)
        self.console.log_failed_models(errors)

    def __getattr__(self, name: str):
        return getattr(self.console, name)


def _engine_errors() -> tuple[type[Exception], ...]:
    """The errors the warehouse's engine raises for a failed query (DuckDB's, and Spark's when
    PySpark is installed)."""
    import duckdb

    try:
        from pyspark.errors import PySparkException
    except ImportError:
        return (duckdb.Error,)
    return (duckdb.Error, PySparkException)
