"""What a plan diff finds, and the Markdown it reads as: the pull-request comment and the file
`olist plan-diff` writes (`olist.plan_diff.run` does the finding, `olist.plan_diff.result`
holds what it finds).

Read top to bottom, a reviewer meets the verdict first (does the change build, pass its unit tests
and audits, and what does it do to the data), then one section per directly modified model with
its SQL diff and data diff, then the models affected downstream, what the plan backfills, and the
test and audit details. Long parts (SQL diffs, sample rows) are folded in `<details>` blocks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from olist.plan_diff.result import DataDiff, ModelChange, PlanDiff, Sample

# The first line of every report: the workflow finds its own comment by it to update it in place.
MARKER = "<!-- olist-plan-diff -->"
_REPRODUCE = "Reproduce locally: `make plan-diff BASE={base}` (or `olist plan-diff --base {base}`)."


def render(result: PlanDiff) -> str:
    """The whole report."""
    parts = [MARKER, *_header(result)]
    if result.project_error:
        parts += ["### The working tree does not plan", _code(result.project_error)]
    elif not result.has_changes:
        parts.append(
            "**No model changes**: the working tree's models are the same as prod's; nothing to "
            "build or diff."
        )
    else:
        parts += _verdict(result)
        parts += _directly_modified(result)
        parts += _indirectly_modified(result.indirectly_modified)
        parts += _metadata_only(result.metadata_only)
        if result.removed:
            parts += ["### Removed models", _bullets(f"`{model}`" for model in result.removed)]
        parts += _backfill(result)
        parts += _unit_tests(result)
        parts += _audits(result)
    if result.warnings:
        parts += ["### SQLMesh warnings", _bullets(result.warnings)]
    parts.append(f"<sub>{_REPRODUCE.format(base=result.revisions.base_ref)}</sub>")
    return "\n\n".join(parts) + "\n"


def _header(result: PlanDiff) -> list[str]:
    revisions = result.revisions
    head = f"`{revisions.head_commit[:7]}`"
    if revisions.uncommitted_changes:
        head += " with uncommitted changes"
    reused = (
        "; reused from an earlier run on the same base and data" if revisions.base_reused else ""
    )
    return [
        f"## Plan diff: `{revisions.environment}` against `{revisions.base_ref}`",
        f"Prod was built from `{revisions.base_ref}` (`{revisions.base_commit[:7]}`) on "
        f"{revisions.data}{reused}. The working tree ({head}) was planned into the environment "
        f"`{revisions.environment}` next to it; prod itself was not changed.",
    ]


def _verdict(result: PlanDiff) -> list[str]:
    """What a reviewer needs first: the counts, the data headline, tests and audits."""
    counts = [
        f"{len(result.directly_modified)} directly modified",
        f"{len(result.indirectly_modified)} indirectly modified",
    ]
    if result.metadata_only:
        counts.append(f"{len(result.metadata_only)} metadata only")
    if result.removed:
        counts.append(f"{len(result.removed)} removed")
    lines = [
        f"**Models**: {', '.join(counts)}; {len(result.backfill)} to backfill.",
        f"**Data**: {_data_headline(result)}",
        f"**Unit tests**: {_unit_test_headline(result)}",
        f"**Audits**: {_audit_headline(result)}",
    ]
    return ["\n".join(f"- {line}" for line in lines)]


def _count(number: int, noun: str, plural: str | None = None) -> str:
    """`1 column`, `2 columns`."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def _data_headline(result: PlanDiff) -> str:
    if result.apply_error:
        return "not compared: the environment could not be built (see Audits)."
    changed = [diff for diff in result.data_diffs.values() if not diff.is_identical]
    if not changed:
        compared = len(result.data_diffs)
        if not compared:
            return "no data changes: no directly modified model changes data."
        which = (
            "the directly modified model holds"
            if compared == 1
            else (f"all {compared} directly modified models hold")
        )
        return f"no data changes: {which} the same rows and values as prod."
    return "; ".join(f"`{diff.model}` {_diff_summary(diff)}" for diff in changed) + "."


def _diff_summary(diff: DataDiff) -> str:
    """One line: `rows 1,140 → 1,128 (12 only in prod); 1 column added; values differ in 2`."""
    parts = [f"rows {diff.prod_rows:,} → {diff.pr_rows:,}"]
    one_side = []
    if diff.only_in_prod:
        one_side.append(f"{diff.only_in_prod:,} only in prod")
    if diff.only_in_pr:
        one_side.append(f"{diff.only_in_pr:,} only in the change")
    if one_side:
        parts[0] += f" ({', '.join(one_side)})"
    if diff.added_columns:
        parts.append(f"{_count(len(diff.added_columns), 'column')} added")
    if diff.removed_columns:
        parts.append(f"{_count(len(diff.removed_columns), 'column')} removed")
    if diff.retyped_columns:
        parts.append(f"{_count(len(diff.retyped_columns), 'column type')} changed")
    if diff.changed_values:
        parts.append(f"values differ in {_count(len(diff.changed_values), 'column')}")
    if diff.is_identical:
        parts.append("identical")
    return "; ".join(parts)


def _unit_test_headline(result: PlanDiff) -> str:
    tests = result.unit_tests
    if tests is None:
        return "not run."
    if tests.failures:
        return f"**{len(tests.failures)} of {tests.run} failed**."
    if not tests.run:
        return "none cover the modified models."
    return f"{_count(tests.run, 'test')} of the modified models passed."


def _audit_headline(result: PlanDiff) -> str:
    audits = result.audits
    failed = len(audits.failures) + len(audits.model_errors)
    passed = sum(audits.passed.values())
    if failed:
        return f"**{failed} failed**; {passed} passed."
    if result.apply_error:
        return f"**the environment was not built**: {result.apply_error}"
    return f"{passed} passed on the {_count(len(audits.passed), 'model')} built."


# ---------------------------------------------------------------------------------------------
# Models
# ---------------------------------------------------------------------------------------------


def _directly_modified(result: PlanDiff) -> list[str]:
    if not result.directly_modified:
        return []
    backfill = {item.model: item.intervals for item in result.backfill}
    parts = ["### Directly modified"]
    for change in result.directly_modified:
        parts.append(f"#### `{change.model}`: {change.category}")
        parts.append(f"Backfill: {backfill.get(change.model, 'none')}.")
        if change.sql_diff:
            parts.append(_details("SQL diff", _code(change.sql_diff, "diff")))
        diff = result.data_diffs.get(change.model)
        if diff is not None:
            parts += _data_diff(diff, result.revisions.environment)
        elif change.model in result.no_data_diff:
            parts.append(f"Data diff: {result.no_data_diff[change.model]}.")
        else:
            parts.append("Data diff: none (the model's data is prod's: nothing was rebuilt).")
    return parts


def _data_diff(diff: DataDiff, environment: str) -> list[str]:
    grain = ", ".join(f"`{column}`" for column in diff.grain)
    parts = [f"**Data diff against prod** (rows matched on {grain}): {_diff_summary(diff)}."]
    parts.append(
        _table(
            ("", "prod", environment),
            [
                ("rows", f"{diff.prod_rows:,}", f"{diff.pr_rows:,}"),
                ("only on this side", f"{diff.only_in_prod:,}", f"{diff.only_in_pr:,}"),
                (
                    "on both sides, identical",
                    f"{diff.identical_rows:,}",
                    f"{diff.identical_rows:,}",
                ),
                (
                    "on both sides, values differ",
                    f"{diff.rows_in_both - diff.identical_rows:,}",
                    f"{diff.rows_in_both - diff.identical_rows:,}",
                ),
            ],
            align=("l", "r", "r"),
        )
    )
    schema = []
    if diff.added_columns:
        schema.append("Columns added: " + _columns(diff.added_columns) + ".")
    if diff.removed_columns:
        schema.append("Columns removed: " + _columns(diff.removed_columns) + ".")
    if diff.retyped_columns:
        retyped = (f"`{name}` {old} → {new}" for name, old, new in diff.retyped_columns)
        schema.append("Column types changed: " + ", ".join(retyped) + ".")
    if schema:
        parts.append(" ".join(schema))
    if diff.changed_values:
        parts.append(
            _table(
                ("column", "rows whose value differs"),
                [
                    (f"`{column}`", f"{rows:,} of {diff.rows_in_both:,}")
                    for column, rows in diff.changed_values
                ],
                align=("l", "r"),
            )
        )
    for title, sample in (
        ("rows whose values differ", diff.changed_sample),
        ("rows only in prod", diff.only_in_prod_sample),
        (f"rows only in {environment}", diff.only_in_pr_sample),
    ):
        if sample.rows:
            shown = f"{len(sample.rows)} of {sample.total:,}"
            parts.append(_details(f"Sample: {title} ({shown})", _sample_table(sample)))
    return parts


def _columns(columns: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"`{name}` ({kind})" for name, kind in columns)


def _indirectly_modified(changes: Sequence[ModelChange]) -> list[str]:
    if not changes:
        return []
    rows = [(f"`{c.model}`", c.category, ", ".join(f"`{m}`" for m in c.caused_by)) for c in changes]
    return [
        "### Indirectly modified",
        "Their SQL is unchanged; they read a directly modified model, so they are rebuilt "
        "(breaking), reuse prod's data (non-breaking), or are previewed here while prod keeps "
        "its tables until they are restated (forward-only).",
        _table(("model", "change", "because of"), rows),
    ]


def _metadata_only(changes: Sequence[ModelChange]) -> list[str]:
    if not changes:
        return []
    parts = [
        "### Metadata only",
        "Descriptions, audits or other properties changed; the data does not.",
    ]
    for change in changes:
        parts.append(f"#### `{change.model}`")
        if change.sql_diff:
            parts.append(_details("Diff", _code(change.sql_diff, "diff")))
        else:
            parts.append("No difference in its SQL: its description or a property changed.")
    return parts


def _backfill(result: PlanDiff) -> list[str]:
    if not result.backfill:
        return ["### Backfill", "Nothing to compute: the change reuses prod's tables."]
    rows = [(f"`{item.model}`", item.intervals) for item in result.backfill]
    return [
        "### Backfill",
        f"What the plan computed in `{result.revisions.environment}`: the models this change "
        "rebuilds, over which intervals.",
        _table(("model", "intervals"), rows),
    ]


# ---------------------------------------------------------------------------------------------
# Tests and audits
# ---------------------------------------------------------------------------------------------


def _unit_tests(result: PlanDiff) -> list[str]:
    tests = result.unit_tests
    if tests is None:
        return []
    summary = (
        f"{_count(tests.run, 'test')} of the modified models ran, {len(tests.failures)} failed "
        f"({_count(tests.not_selected, 'other')} test models this change does not modify)."
    )
    parts = ["### Unit tests", summary]
    for failure in tests.failures:
        parts.append(_details(f"Failed: {_html_code(failure.test)}", _code(failure.message)))
    return parts


def _audits(result: PlanDiff) -> list[str]:
    audits = result.audits
    parts = ["### Audits"]
    passed = sorted((model, count) for model, count in audits.passed.items() if count)
    if passed:
        rows = [(f"`{model}`", str(count)) for model, count in passed]
        parts.append(_table(("model built", "audits passed"), rows, align=("l", "r")))
    if audits.failures:
        parts.append(
            _table(
                ("model", "failed audit", "rows breaking it"),
                [(f"`{f.model}`", f"`{f.audit}`", f"{f.rows:,}") for f in audits.failures],
                align=("l", "l", "r"),
            )
        )
    for model, message in sorted(audits.model_errors.items()):
        parts.append(_details(f"{_html_code(model)} failed to build", _code(message)))
    if result.apply_error:
        parts.append(f"The environment was not built: {result.apply_error}")
    if len(parts) == 1:
        parts.append("No model was built, so no audit ran.")
    return parts


# ---------------------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _table(
    header: Sequence[str], rows: Iterable[Sequence[str]], align: Sequence[str] | None = None
) -> str:
    rule = [":--" if a == "l" else "--:" for a in (align or ["l"] * len(header))]
    lines = [header, rule, *rows]
    return "\n".join(
        "| " + " | ".join(_cell(str(value)) for value in line) + " |" for line in lines
    )


def _sample_table(sample: Sample) -> str:
    return _table(sample.columns, sample.rows)


def _code(text: str, language: str = "") -> str:
    # A fence longer than any backtick run inside keeps the block closed where it should be.
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}{language}\n{text.rstrip()}\n{fence}"


def _html_code(text: str) -> str:
    # GitHub does not render Markdown inside <summary>: inline code there is HTML.
    return f"<code>{escape(text)}</code>"


def _details(summary: str, body: str) -> str:
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def _bullets(items: Iterable[str]) -> str:
    return "\n".join(f"- {item}" for item in items)
