"""`olist plan-diff` on three pull requests, in a copy of the project with a git history of its own.

A temporary repository holds the project on `main`; each scenario is a branch with one commit:

- `breaking-filter`: fct_order_items leaves out canceled orders (a changed filter), without
  updating its unit test;
- `added-column`: dim_customers gains `is_repeat_customer`, its unit test updated;
- `no-data-change`: top_customers filters on a condition that is always true, and dim_sellers'
  description is reworded.

`olist plan-diff --base main` runs on `main` itself first, then on each branch in turn, all
sharing one work folder (`data/plan-diff/`): the first run builds prod from `main`, the others
reuse it. Each test reads what the runs recorded: the reports, the exit codes, and prod's tables
before any change and after each.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from helpers.scenarios import copy_project, unit_test_file
from helpers.warehouse import VENV_BIN, clean_environment

from olist.plan_diff.report import MARKER

# Each of these builds a warehouse, runs the pipeline end to end or starts a stack.
pytestmark = pytest.mark.slow

# git in the temporary repository: a fixed identity, and nothing from the developer's git config.
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Plan Diff Test",
    "GIT_AUTHOR_EMAIL": "plan-diff@example.com",
    "GIT_COMMITTER_NAME": "Plan Diff Test",
    "GIT_COMMITTER_EMAIL": "plan-diff@example.com",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}
# The project's SQLMesh schemas: prod's views live there (an environment's in `<schema>__<env>`).
PROD_SCHEMAS = ("staging", "intermediate", "marts")
# Where `olist plan-diff` works by default, relative to the repository: its report, and the
# warehouse holding prod and the change's environment.
WORK_FOLDER = Path("data/plan-diff")
REPORT = WORK_FOLDER / "report.md"
WAREHOUSE = WORK_FOLDER / "warehouse.duckdb"


@dataclass(frozen=True)
class ScenarioRun:
    report: str  # what `olist plan-diff` printed on stdout
    report_file: str  # what it wrote to data/plan-diff/report.md
    stderr: str
    returncode: int
    prod_after: dict[str, tuple[str, int, int]]  # prod's state once the run was over


@dataclass(frozen=True)
class PlanDiffRuns:
    base: ScenarioRun  # main against itself: prod as built from main, before any change
    canceled_order_items: int  # rows of prod's fct_order_items whose order was canceled
    runs: dict[str, ScenarioRun]  # branch -> its run

    @property
    def prod_before(self) -> dict[str, tuple[str, int, int]]:
        return self.base.prod_after


# ---------------------------------------------------------------------------------------------
# The three changes
# ---------------------------------------------------------------------------------------------


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path.name} no longer has the text this test changes: {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def exclude_canceled_orders(repository: Path) -> None:
    touched = "@rebuilding() OR order_id IN (SELECT order_id FROM touched_orders)"
    replace_once(
        repository / "models/marts/fct_order_items.sql",
        "    @rebuilding() OR order_id IN (\n      SELECT\n        order_id\n"
        "      FROM touched_orders\n    )\n), order_items AS (",
        f"    order_status <> 'canceled' AND ({touched})\n), order_items AS (",
    )


def add_repeat_customer_column(repository: Path) -> None:
    last_column = (
        "  @current_batch()::INT AS _batch /* The warehouse run that last rewrote the row "
        "(macros/incremental.py). */\n"
    )
    replace_once(
        repository / "models/marts/dim_customers.sql",
        last_column,
        "  (order_count > 1)::BOOLEAN AS is_repeat_customer, /* Placed more than one order. */\n"
        + last_column,
    )
    unit_test = unit_test_file("marts.dim_customers", repository)
    replace_once(
        unit_test, "customer_lng: -49.27}", "customer_lng: -49.27, is_repeat_customer: true}"
    )
    replace_once(unit_test, "customer_lng: null}", "customer_lng: null, is_repeat_customer: false}")


def change_nothing_in_the_data(repository: Path) -> None:
    # customer_unique_id is the grain: never NULL (an audit says so), so the filter keeps all.
    replace_once(
        repository / "models/marts/top_customers.sql",
        "    lifetime_value > 0\n",
        "    lifetime_value > 0 AND NOT customer_unique_id IS NULL\n",
    )
    replace_once(
        repository / "models/marts/dim_sellers.sql",
        "/* Sellers: one row per seller",
        "/* Sellers (the marketplace's merchants): one row per seller",
    )


SCENARIOS: dict[str, Callable[[Path], None]] = {
    "breaking-filter": exclude_canceled_orders,
    "added-column": add_repeat_customer_column,
    "no-data-change": change_nothing_in_the_data,
}


# ---------------------------------------------------------------------------------------------
# Running them
# ---------------------------------------------------------------------------------------------


def git(repository: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-C", str(repository), *args],
        env={**os.environ, **GIT_ENV},
        check=True,
        capture_output=True,
    )


def new_repository(path: Path) -> Path:
    """The SQLMesh project committed on `main` of a new repository; data/ ignored, as upstream."""
    copy_project(path)
    (path / ".gitignore").write_text("/data/\n", encoding="utf-8")
    git(path, "init", "--quiet", "--initial-branch=main")
    git(path, "add", "--all")
    git(path, "commit", "--quiet", "--message", "The project as it is")
    return path


def plan_diff(repository: Path) -> subprocess.CompletedProcess[str]:
    """`olist plan-diff --base main` in `repository`, with no `OLIST_*` setting."""
    return subprocess.run(
        [str(VENV_BIN / "olist"), "plan-diff", "--base", "main"],
        cwd=repository,
        env=clean_environment(GIT_ENV),
        capture_output=True,
        text=True,
        check=False,
    )


def prod_state(warehouse: Path) -> dict[str, tuple[str, int, int]]:
    """Each prod view: the table it reads, its row count and a checksum of its rows."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        views = con.execute(
            f"""
            SELECT schema_name, view_name, sql FROM duckdb_views()
            WHERE schema_name IN {PROD_SCHEMAS} ORDER BY ALL
            """
        ).fetchall()
        state = {}
        for schema, view, sql in views:
            rows, checksum = con.execute(
                f'SELECT count(*), coalesce(sum(hash(t)), 0) FROM "{schema}"."{view}" AS t'
            ).fetchone()
            state[f"{schema}.{view}"] = (sql, rows, int(checksum))
        return state


def run_plan_diff(repository: Path) -> ScenarioRun:
    result = plan_diff(repository)
    report = repository / REPORT
    return ScenarioRun(
        report=result.stdout,
        report_file=report.read_text(encoding="utf-8") if report.exists() else "",
        stderr=result.stderr,
        returncode=result.returncode,
        prod_after=prod_state(repository / WAREHOUSE),
    )


@pytest.fixture(scope="module")
def plan_diffs(tmp_path_factory: pytest.TempPathFactory) -> PlanDiffRuns:
    repository = new_repository(tmp_path_factory.mktemp("plan-diff") / "repository")
    base = run_plan_diff(repository)
    with duckdb.connect(str(repository / WAREHOUSE), read_only=True) as con:
        (canceled,) = con.execute(
            "SELECT count(*) FROM marts.fct_order_items WHERE order_status = 'canceled'"
        ).fetchone()
    runs = {}
    for branch, change in SCENARIOS.items():
        git(repository, "checkout", "--quiet", "-b", branch, "main")
        change(repository)
        git(repository, "commit", "--quiet", "--all", "--message", branch)
        runs[branch] = run_plan_diff(repository)
    shutil.rmtree(repository / WORK_FOLDER)
    return PlanDiffRuns(base=base, canceled_order_items=canceled, runs=runs)


def succeeded(run: ScenarioRun) -> ScenarioRun:
    assert run.returncode == 0, f"olist plan-diff failed:\n{run.stderr}\n{run.report}"
    return run


# ---------------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------------


def test_base_against_itself_has_no_model_changes(plan_diffs):
    # The base and the working tree are planned from one folder in turn: a model whose
    # fingerprint depended on where its project lies would show up here as modified.
    report = succeeded(plan_diffs.base).report

    assert "**No model changes**" in report, report


def test_changed_filter_is_previewed_with_its_downstream_and_loses_the_filtered_rows(plan_diffs):
    report = plan_diffs.runs["breaking-filter"].report
    lost = plan_diffs.canceled_order_items
    prod_rows = plan_diffs.prod_before["marts.fct_order_items"][1]

    # An incremental model: its change is forward-only, previewed in the environment.
    assert "#### `marts.fct_order_items`: forward-only" in report, report
    # Its downstream models read it unchanged: previewed with it.
    for downstream in ("marts.product_category_sales", "marts.seller_performance"):
        assert f"| `{downstream}` | forward-only | `marts.fct_order_items` |" in report
    assert lost > 0, "the generated data set has no canceled order with items"
    assert (
        f"**Data**: `marts.fct_order_items` rows {prod_rows:,} → {prod_rows - lost:,} "
        f"({lost:,} only in prod)."
    ) in report, report
    assert f"| only on this side | {lost:,} | 0 |" in report


def test_a_broken_unit_test_is_in_the_report_and_fails_the_command(plan_diffs):
    run = plan_diffs.runs["breaking-filter"]

    assert run.returncode == 1
    assert "**Unit tests**: **1 of " in run.report, run.report
    assert "Failed: <code>test_fct_order_items_" in run.report
    assert "the report says where" in run.stderr


def test_added_column_is_forward_only_and_changes_no_existing_value(plan_diffs):
    report = succeeded(plan_diffs.runs["added-column"]).report
    rows = plan_diffs.prod_before["marts.dim_customers"][1]

    assert "#### `marts.dim_customers`: forward-only" in report, report
    assert "| `marts.top_customers` | forward-only | `marts.dim_customers` |" in report
    assert "Columns added: `is_repeat_customer` (BOOLEAN)." in report
    assert f"**Data**: `marts.dim_customers` rows {rows:,} → {rows:,}; 1 column added." in report
    assert f"| on both sides, identical | {rows:,} | {rows:,} |" in report


def test_change_without_effect_on_data_is_reported_as_no_data_change(plan_diffs):
    report = succeeded(plan_diffs.runs["no-data-change"]).report

    assert "#### `marts.top_customers`: breaking" in report, report
    assert (
        "**Data**: no data changes: the directly modified model holds the same rows and "
        "values as prod."
    ) in report
    assert "### Metadata only" in report
    assert "#### `marts.dim_sellers`" in report.split("### Metadata only", 1)[1]


def test_report_goes_to_stdout_and_the_file_and_starts_with_the_comment_marker(plan_diffs):
    for branch, run in plan_diffs.runs.items():
        assert run.report == run.report_file, branch
        assert run.report.startswith(MARKER + "\n"), branch
        assert f"## Plan diff: `pr_{branch.replace('-', '_')}` against `main`" in run.report


def test_prod_is_built_once_for_the_base_and_left_unchanged_by_every_change(plan_diffs):
    assert "Building prod from main" in plan_diffs.base.stderr
    for branch, run in plan_diffs.runs.items():
        assert "Reusing prod built from main" in run.stderr, branch
    assert set(plan_diffs.prod_before) >= {"marts.fct_order_items", "marts.dim_customers"}
    for branch, run in plan_diffs.runs.items():
        assert run.prod_after == plan_diffs.prod_before, branch
