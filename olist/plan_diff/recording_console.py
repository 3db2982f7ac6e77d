"""What SQLMesh reports while it applies a plan, kept for the report instead of printed."""

from __future__ import annotations

from typing import Any

from sqlmesh.core.console import NoopConsole
from sqlmesh.core.snapshot import Snapshot
from sqlmesh.utils.concurrency import NodeExecutionFailedError
from sqlmesh.utils.errors import NodeAuditsErrors

from olist.plan_diff.result import AuditFailure, Audits


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
