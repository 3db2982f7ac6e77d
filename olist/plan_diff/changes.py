"""What a plan changes, in the report's terms: each modified model's change category and SQL
diff, the intervals to backfill, and the unit tests of the modified models."""

from __future__ import annotations

import io
from typing import Any

from sqlmesh import Context
from sqlmesh.core.plan import Plan
from sqlmesh.core.snapshot import Snapshot, SnapshotChangeCategory

from olist.plan_diff.result import Backfill, ModelChange, PlanDiff, UnitTestFailure, UnitTests

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


def describe_changes(plan: Plan, result: PlanDiff) -> None:
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


def run_unit_tests(context: Context, plan: Plan) -> UnitTests:
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
