"""Build the silver and gold layers for `olist run`: SQLMesh's plan and apply of prod.

The SQLMesh project is this repository (the folder holding `config.yaml`); its gateways read the
same `OLIST_*` settings as the bronze layer. A plan applies model changes and fills missing
intervals. New rows in the lake are a different matter: SQLMesh's intervals follow the clock, not
the data, so a model already built for today would not see rows exported since. The warehouse
therefore remembers which lake loads it was built from (table `_olist.built_from_lake_loads`,
kept in the warehouse itself so that it disappears with it) and, when the lake has moved on,
restates the staging models — and with them everything downstream. Unchanged lake and models:
nothing is computed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ingest.tables import TABLES
from olist.errors import PipelineError, WarehouseError

PROJECT_DIR = Path(__file__).resolve().parents[2]
MARKER_TABLE = "_olist.built_from_lake_loads"
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
        lake_loads = _lake_loads(context)
        built_from = _built_from(context)
        prod_exists = context.state_reader.get_environment("prod") is not None
        # No record but a prod built by hand (`sqlmesh plan`): from an unknown lake, so restate.
        new_lake_data = prod_exists and built_from != lake_loads
        plan = context.plan_builder(
            "prod", restate_models=["staging.*"] if new_lake_data else None
        ).build()
        built = [plan.snapshots[s.snapshot_id] for s in plan.missing_intervals]
        if plan.has_changes or plan.requires_backfill:
            context.apply(plan)
        if built_from != lake_loads:
            _remember(context, lake_loads)
        rows = _row_counts(context)
        location = _location(context)
    except (SQLMeshError, duckdb.Error) as error:
        raise WarehouseError(f"SQLMesh could not build prod: {error}") from None
    finally:
        if context is not None:
            context.close()  # release the warehouse file: DuckDB allows one writer
    if new_lake_data:
        action = "rebuilt from the lake's new loads"
    elif built:
        action = "updated for changed models" if prod_exists else "built"
    else:
        action = "up to date: no model changed and the lake has no new loads"
    return WarehouseOutcome(
        action=action,
        models_built=len(built),
        audits_passed=sum(len(snapshot.model.audits) for snapshot in built if snapshot.is_model),
        location=location,
        rows=rows,
    )


def _lake_folder(context, table: str) -> str:
    # Relative to the working directory, like the models' reads (macros/lake.py).
    return f"{context.config.variables['lake_url'].removeprefix('file://').rstrip('/')}/{table}"


def _lake_loads(context) -> dict[str, str]:
    """The newest load id in each lake folder."""
    loads = {}
    for table in TABLES:
        files = f"{_lake_folder(context, table.name)}/*.parquet"
        row = context.engine_adapter.fetchone(
            f"SELECT max(CAST(_dlt_load_id AS DOUBLE))::VARCHAR FROM read_parquet('{files}')"
        )
        loads[table.name] = row[0]
    return loads


def _built_from(context) -> dict[str, str] | None:
    adapter = context.engine_adapter
    if not adapter.table_exists(MARKER_TABLE):
        return None
    return dict(adapter.fetchall(f"SELECT lake_table, load_id FROM {MARKER_TABLE}"))


def _remember(context, lake_loads: dict[str, str]) -> None:
    adapter = context.engine_adapter
    adapter.execute("CREATE SCHEMA IF NOT EXISTS _olist")
    values = ", ".join(f"('{table}', '{load}')" for table, load in lake_loads.items())
    adapter.execute(
        f"CREATE OR REPLACE TABLE {MARKER_TABLE} AS "
        f"SELECT * FROM (VALUES {values}) AS t(lake_table, load_id)"
    )


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
