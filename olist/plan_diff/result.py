"""What a plan diff finds: the revisions compared, the models changed, the backfill, the unit
tests, the audits and the data diffs (`olist.plan_diff.report` writes it as Markdown)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Revisions:
    """What was compared with what, in words a reviewer recognises."""

    base_ref: str
    base_commit: str
    head_commit: str
    uncommitted_changes: bool
    environment: str
    data: str  # the data set prod and the environment were built from
    base_reused: bool  # prod came from an earlier run (same base commit and data)


@dataclass(frozen=True)
class ModelChange:
    model: str  # as written in its MODEL block: `marts.fct_orders`
    category: str  # breaking, non-breaking, forward-only, indirect breaking, ..., added
    sql_diff: str = ""  # unified diff of the model's definition against prod's
    caused_by: tuple[str, ...] = ()  # indirect changes: the directly modified models upstream


@dataclass(frozen=True)
class Backfill:
    model: str
    intervals: str  # `2016-09-01 - 2018-10-17`, or `full refresh` for non-incremental models


@dataclass(frozen=True)
class Sample:
    """A few rows of a data diff, as text."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    total: int  # rows of this kind in the whole diff, of which `rows` are the first few


@dataclass(frozen=True)
class DataDiff:
    """One model's rows in the environment against prod's, matched on the model's grain."""

    model: str
    grain: tuple[str, ...]
    prod_rows: int
    pr_rows: int
    only_in_prod: int
    only_in_pr: int
    identical_rows: int  # rows on both sides whose shared columns all match
    added_columns: tuple[tuple[str, str], ...]  # (column, type)
    removed_columns: tuple[tuple[str, str], ...]
    retyped_columns: tuple[tuple[str, str, str], ...]  # (column, prod type, new type)
    changed_values: tuple[tuple[str, int], ...]  # (column, rows on both sides where it differs)
    changed_sample: Sample
    only_in_prod_sample: Sample
    only_in_pr_sample: Sample

    @property
    def rows_in_both(self) -> int:
        return self.prod_rows - self.only_in_prod

    @property
    def is_identical(self) -> bool:
        """Same rows, same columns, same values."""
        return not (
            self.only_in_prod
            or self.only_in_pr
            or self.added_columns
            or self.removed_columns
            or self.retyped_columns
            or self.changed_values
        )


@dataclass(frozen=True)
class UnitTestFailure:
    test: str
    message: str


@dataclass(frozen=True)
class UnitTests:
    run: int
    not_selected: int  # tests of models this change does not modify
    failures: tuple[UnitTestFailure, ...]


@dataclass(frozen=True)
class AuditFailure:
    model: str
    audit: str
    rows: int  # rows the audit query returned, i.e. that broke the rule


@dataclass
class Audits:
    """Audit outcomes of the models the environment's plan built (recorded as SQLMesh runs)."""

    passed: dict[str, int] = field(default_factory=dict)  # model -> audits passed
    failures: list[AuditFailure] = field(default_factory=list)
    model_errors: dict[str, str] = field(default_factory=dict)  # model -> why it failed to build


@dataclass
class PlanDiff:
    revisions: Revisions
    directly_modified: list[ModelChange] = field(default_factory=list)
    indirectly_modified: list[ModelChange] = field(default_factory=list)
    metadata_only: list[ModelChange] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    backfill: list[Backfill] = field(default_factory=list)
    unit_tests: UnitTests | None = None
    audits: Audits = field(default_factory=Audits)
    data_diffs: dict[str, DataDiff] = field(default_factory=dict)
    # Directly modified models without a data diff, and why (new model, no grain, not built).
    no_data_diff: dict[str, str] = field(default_factory=dict)
    project_error: str | None = None  # the working tree's project did not load or plan
    apply_error: str | None = None  # the environment could not be built
    warnings: list[str] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return bool(
            self.directly_modified or self.indirectly_modified or self.metadata_only or self.removed
        )

    @property
    def failed(self) -> bool:
        """The change does not build, or breaks a unit test or an audit."""
        return bool(
            self.project_error
            or self.apply_error
            or (self.unit_tests and self.unit_tests.failures)
            or self.audits.failures
            or self.audits.model_errors
        )
