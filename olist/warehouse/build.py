"""Build the silver and gold layers for `olist run`: SQLMesh's plan and apply of prod.

The SQLMesh project is this repository (the folder holding `config.yaml`); its gateways read the
same `OLIST_*` settings as the bronze layer. A plan applies model changes and fills missing
intervals. New rows in the lake are a different matter: SQLMesh's intervals follow the clock, not
the data, so a model already built for today would not see rows exported since. The warehouse
therefore remembers which lake exports it was built from (table `_olist.built_from_lake_exports`,
kept in the warehouse itself so that it disappears with it) and, when the lake has new ones,
restates the staging models — and with them everything downstream.

Which exports the lake holds is read from its `_dlt_loads/` folder, where dlt writes one small
file when an export has written all of its tables: a listing, no Parquet file is opened, and an
export still being written is not seen until it is complete. When the lake has no new export
and the project's models are the ones prod was built from (same fingerprints), nothing is
planned: no unit tests, no linter, no query but the row counts recorded at the last build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from olist.errors import PipelineError, WarehouseError
from olist.sql import sql_string

PROJECT_DIR = Path(__file__).resolve().parents[2]
MARKER_TABLE = "_olist.built_from_lake_exports"
# Rows per model as of the last build: what the summary shows when nothing was computed (counting
# the staging views would read the whole lake again).
ROW_COUNTS_TABLE = "_olist.row_counts"
# Where an earlier version of this module kept the lake's newest load ids (read from every file).
_OLD_MARKER_TABLE = "_olist.built_from_lake_loads"
LAYERS = ("staging", "marts")  # the schemas whose tables the summary counts


@dataclass(frozen=True)
class WarehouseOutcome:
    action: str  # what the run did, in words
    models_built: int
    audits_passed: int
    location: str  # the warehouse database, for the summary
    rows: dict[str, int] = field(default_factory=dict)  # "schema.model" -> rows


def build_warehouse() -> WarehouseOutcome:
    """Plan prod and apply it; restate the lake-reading models when the lake has new loads."""
    if not (PROJECT_DIR / "config.yaml").is_file():
        raise PipelineError(
            f"No SQLMesh project at {PROJECT_DIR} (config.yaml is missing); `olist run` needs the "
            "repository checkout it was installed from."
        )
    import duckdb
    from sqlmesh import Context
    from sqlmesh.utils.errors import SQLMeshError

    context = None
    try:
        context = Context(paths=str(PROJECT_DIR))
        lake_exports = _lake_exports(context)
        built_from = _built_from(context)
        prod = context.state_reader.get_environment("prod")
        # No record but a prod built by hand (`sqlmesh plan`): from an unknown lake, so restate.
        new_lake_data = prod is not None and built_from != lake_exports
        project_is_prod = prod is not None and _fingerprints(prod.snapshots) == _fingerprints(
            context.snapshots.values()
        )
        if project_is_prod and not new_lake_data:
            recorded_rows = _recorded_row_counts(context, prod.plan_id)
            if recorded_rows is not None:
                return WarehouseOutcome(
                    action="up to date: no model changed and the lake has no new loads",
                    models_built=0,
                    audits_passed=0,
                    location=_location(context),
                    rows=recorded_rows,
                )
        plan = context.plan_builder(
            "prod",
            restate_models=["staging.*"] if new_lake_data else None,
            # A restating plan otherwise ignores edited models until the next run.
            always_include_local_changes=True,
            # The unit tests and the linter passed when these very models went into prod.
            skip_tests=project_is_prod,
            skip_linter=project_is_prod,
        ).build()
        built = [plan.snapshots[s.snapshot_id] for s in plan.missing_intervals]
        if plan.has_changes or plan.requires_backfill:
            context.apply(plan)
        if built_from != lake_exports:
            _remember(context, lake_exports)
        rows = _row_counts(context)
        _record_row_counts(context, rows, context.state_reader.get_environment("prod").plan_id)
        location = _location(context)
    except (SQLMeshError, duckdb.Error) as error:
        raise WarehouseError(f"SQLMesh could not build prod: {error}") from None
    finally:
        if context is not None:
            context.close()  # release the warehouse file: DuckDB allows one writer
    if new_lake_data:
        action = "rebuilt from the lake's new loads"
    elif built:
        action = "updated for changed models" if prod is not None else "built"
    else:
        action = "up to date: no model changed and the lake has no new loads"
    return WarehouseOutcome(
        action=action,
        models_built=len(built),
        audits_passed=sum(len(snapshot.model.audits) for snapshot in built if snapshot.is_model),
        location=location,
        rows=rows,
    )


def _fingerprints(snapshots) -> dict[str, object]:
    """Each model's fingerprint (its query, macros, variables and parents'): equal fingerprints
    mean a plan would find no change."""
    return {snapshot.name: snapshot.fingerprint for snapshot in snapshots}


def _lake_exports(context) -> list[str]:
    """The complete exports in the lake: the names of its `_dlt_loads/` files, sorted."""
    # Relative to the working directory, like the models' reads (macros/lake.py).
    lake = context.config.variables["lake_url"].removeprefix("file://").rstrip("/")
    listing = context.engine_adapter.fetchall(
        f"SELECT file FROM glob({sql_string(f'{lake}/_dlt_loads/*')}) ORDER BY file"
    )
    return [file.rsplit("/", 1)[-1] for (file,) in listing]


def _built_from(context) -> list[str] | None:
    adapter = context.engine_adapter
    if not adapter.table_exists(MARKER_TABLE):
        return None
    return [name for (name,) in adapter.fetchall(f"SELECT export FROM {MARKER_TABLE} ORDER BY 1")]


def _remember(context, lake_exports: list[str]) -> None:
    adapter = context.engine_adapter
    adapter.execute("CREATE SCHEMA IF NOT EXISTS _olist")
    adapter.execute(f"DROP TABLE IF EXISTS {_OLD_MARKER_TABLE}")
    adapter.execute(f"CREATE OR REPLACE TABLE {MARKER_TABLE} (export TEXT NOT NULL)")
    if lake_exports:
        values = ", ".join(f"({sql_string(name)})" for name in lake_exports)
        adapter.execute(f"INSERT INTO {MARKER_TABLE} VALUES {values}")


def _record_row_counts(context, rows: dict[str, int], prod_plan_id: str) -> None:
    """Keep `rows` with the plan that made prod what was counted."""
    adapter = context.engine_adapter
    adapter.execute("CREATE SCHEMA IF NOT EXISTS _olist")
    adapter.execute(
        f"CREATE OR REPLACE TABLE {ROW_COUNTS_TABLE} "
        "(model TEXT NOT NULL, row_count BIGINT NOT NULL, prod_plan_id TEXT NOT NULL)"
    )
    if rows:
        plan = sql_string(prod_plan_id)
        values = ", ".join(f"({sql_string(m)}, {count}, {plan})" for m, count in rows.items())
        adapter.execute(f"INSERT INTO {ROW_COUNTS_TABLE} VALUES {values}")


def _recorded_row_counts(context, prod_plan_id: str) -> dict[str, int] | None:
    """The recorded counts, if prod is still as the plan that made it left it: a plan applied
    by hand since (`sqlmesh plan`) may have changed any table."""
    adapter = context.engine_adapter
    if not adapter.table_exists(ROW_COUNTS_TABLE):
        return None
    recorded = adapter.fetchall(
        f"SELECT model, row_count, prod_plan_id FROM {ROW_COUNTS_TABLE} "
        "ORDER BY split_part(model, '.', 1) DESC, model"
    )
    if not recorded or any(plan != prod_plan_id for _, _, plan in recorded):
        return None
    return {model: count for model, count, _ in recorded}


def _row_counts(context) -> dict[str, int]:
    adapter = context.engine_adapter
    names = adapter.fetchall(
        "SELECT table_schema, table_name FROM information_schema.tables "
        f"WHERE table_schema IN ({', '.join(repr(layer) for layer in LAYERS)}) "
        "ORDER BY table_schema DESC, table_name"
    )
    return {
        f"{schema}.{name}": adapter.fetchone(f'SELECT count(*) FROM "{schema}"."{name}"')[0]
        for schema, name in names
    }


def _location(context) -> str:
    connection = context.config.get_gateway(context.selected_gateway).connection
    return str(Path(connection.database).resolve())
