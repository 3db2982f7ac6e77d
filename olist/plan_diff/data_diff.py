"""Data diffs against prod: for each directly modified model with a grain, SQLMesh's table_diff
of prod and the environment, matched on the grain, with a few sample rows."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
from sqlmesh import Context
from sqlmesh.core.plan import Plan
from sqlmesh.core.table_diff import TableDiff

from olist.plan_diff.result import DataDiff, PlanDiff, Sample

SAMPLE_ROWS = 5  # rows shown per sample in a data diff


def diff_data(context: Context, plan: Plan, result: PlanDiff) -> None:
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
                for table_diff in _table_diffs(context, snapshot, environment):
                    result.data_diffs[model] = _data_diff(model, table_diff)


def _table_diffs(context: Context, snapshot, environment: str) -> list[TableDiff]:
    """SQLMesh's table_diff of the model's prod view and its view in `environment`.

    Between environments, table_diff passes over a forward-only change of a model whose prod
    version was not forward-only (SQLMesh 0.236 looks at prod's snapshot only), although the
    environment's view reads the change's preview table: an INCREMENTAL_BY_PARTITION model's
    every change. The two views are then compared as tables, on the model's grain."""
    model = snapshot.node.name
    if not snapshot.is_forward_only:
        return context.table_diff(
            "prod", environment, select_models=[model], show=False, limit=SAMPLE_ROWS
        )
    schema, name = model.split(".")
    return context.table_diff(
        f"{schema}.{name}",
        f"{schema}__{environment}.{name}",
        on=snapshot.model.on,
        show=False,
        limit=SAMPLE_ROWS,
    )


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
