"""A failing audit keeps a broken change out of prod; a broken unit-test expectation fails.

For each gateway, a copy of the project in tmp gets a copy of the session's prod (module scope).
Each test then breaks the copy on purpose the way a real change could, plans prod again with
`--auto-apply`, and asserts that the plan fails naming the audit and the model, while prod is left
exactly as it was: the model's prod physical table (`sqlmesh table_name --prod`), every view of the
virtual layer and every row it serves. The broken version was built and audited (its physical table
exists), just never promoted. The copy is restored after each test.

The plans skip the unit tests (`--skip-tests`): a bug that gets past them must still be stopped
by the audits on the real data, and that is what these tests prove. The last test proves the
unit tests bite too: `sqlmesh test` fails once one expected value is wrong.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.scenarios import (
    GATEWAYS,
    PROJECT_MODELS,
    WIDE_CONSOLE,
    copy_project,
    prod_copy_env,
    run_sqlmesh_on,
    sample_lake_of,
    succeeded,
    unit_test_file,
)
from helpers.warehouse import Warehouse, output_of
from ruamel.yaml import YAML

# Each of these builds a warehouse, runs the pipeline end to end or starts a stack.
pytestmark = pytest.mark.slow

PROD_SCHEMAS = ("staging", "intermediate", "marts")


@dataclass(frozen=True)
class Breakage:
    """A change that breaks `model`, which the audit `audit` must catch."""

    model: str
    file: str
    original: str
    broken: str
    audit: str


BREAKAGES = {
    # Payments joined to orders one row per payment instead of rolled up first: an order paid
    # with a voucher and a card appears twice. The grain audit (one row per order_id) fails.
    "mart-duplicates-rows": Breakage(
        model="marts.fct_orders",
        file="models/marts/fct_orders.sql",
        original="FROM intermediate.int_order_payments_rolled_up",
        broken=(
            "FROM (SELECT order_id, 1 AS payment_count, payment_value, payment_installments, "
            "payment_type FROM staging.stg_order_payments)"
        ),
        audit="unique_values",
    ),
    # A "clean-up" that drops canceled orders from staging: the view no longer has one row per
    # order in the lake, so the reconciliation with the lake's keys fails.
    "staging-drops-rows": Breakage(
        model="staging.stg_orders",
        file="models/staging/stg_orders.sql",
        original="FROM latest\n",
        broken="FROM latest\nWHERE\n  order_status <> 'canceled'\n",
        audit="row_count_matches_lake_keys",
    ),
}


@dataclass(frozen=True)
class ProdCopy:
    """A copy of the project planned into prod on one gateway."""

    project: Path
    warehouse: Warehouse
    work: Path

    def sqlmesh(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**self.warehouse.env, **WIDE_CONSOLE}
        return run_sqlmesh_on(self.project, env, *args, cwd=self.work)


@pytest.fixture(scope="module", params=GATEWAYS)
def prod_copy(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProdCopy]:
    """The project copied to tmp with a copy of the session's prod on each gateway (every audit
    passed when it was planned), which a plan of the unchanged copy finds up to date."""
    work = tmp_path_factory.mktemp(f"guard-prod-{request.param}")
    project = copy_project(work / "project")
    lake = sample_lake_of(request, request.param)
    path = work / "warehouse.duckdb"
    with prod_copy_env(request, request.param, path) as env:
        plan = succeeded(
            run_sqlmesh_on(project, env, "plan", "--auto-apply", "--no-prompts", cwd=work)
        )
        assert "No changes to plan" in output_of(plan), output_of(plan)
        yield ProdCopy(project, Warehouse(path=path, lake=lake, env=env, plan=plan), work)


@pytest.fixture
def guarded(prod_copy: ProdCopy) -> Iterator[ProdCopy]:
    """The gateway's prod copy; whatever a test breaks in the project is restored afterwards."""
    yield prod_copy
    copy_project(prod_copy.project)


def prod_as_served(warehouse: Warehouse) -> dict[str, tuple[str, int, int]]:
    """What prod serves: each view of the virtual layer, its definition and rows.

    `{schema.model: (the view's SQL, which names its physical table; row count; sum of the
    rows' hashes)}`; equal sums of hashes mean the same rows, in any order.
    """
    served = {}
    with warehouse.connect() as con:
        views = con.execute(
            "SELECT schema_name || '.' || view_name, sql FROM duckdb_views() "
            "WHERE database_name = current_database() AND list_contains($schemas, schema_name)",
            {"schemas": list(PROD_SCHEMAS)},
        ).fetchall()
        for name, definition in views:
            rows, hashes = con.execute(f"SELECT count(*), sum(hash(t)) FROM {name} AS t").fetchone()
            served[name] = (definition, rows, hashes)
    return served


def physical_versions(warehouse: Warehouse, model: str) -> set[str]:
    """Every physical table or view SQLMesh built for `model`, in any version."""
    schema, name = model.split(".")
    with warehouse.connect() as con:
        found = con.execute(
            """
            SELECT table_name FROM duckdb_tables() WHERE schema_name = $schema
            UNION ALL
            SELECT view_name FROM duckdb_views() WHERE schema_name = $schema
            """,
            {"schema": f"sqlmesh__{schema}"},
        ).fetchall()
    return {table for (table,) in found if table.startswith(f"{schema}__{name}__")}


def prod_table_name(prod: ProdCopy, model: str) -> str:
    return succeeded(prod.sqlmesh("table_name", "--env", "prod", "--prod", model)).stdout.strip()


def break_model(project: Path, breakage: Breakage) -> None:
    path = project / breakage.file
    text = path.read_text(encoding="utf-8")
    assert text.count(breakage.original) == 1, (
        f"{breakage.file} no longer contains {breakage.original!r} exactly once: "
        "update this breakage to the model"
    )
    path.write_text(text.replace(breakage.original, breakage.broken), encoding="utf-8")


@pytest.mark.parametrize("breakage", BREAKAGES.values(), ids=BREAKAGES.keys())
def test_a_failing_audit_keeps_the_broken_model_out_of_prod(guarded: ProdCopy, breakage: Breakage):
    before = prod_as_served(guarded.warehouse)
    assert sorted(before) == PROJECT_MODELS  # prod serves every model of the project
    versions_before = physical_versions(guarded.warehouse, breakage.model)
    break_model(guarded.project, breakage)

    plan = guarded.sqlmesh("plan", "--auto-apply", "--no-prompts", "--skip-tests")

    output = output_of(plan)
    assert plan.returncode != 0, output
    assert f"'{breakage.audit}' audit error" in output, output
    failed_models = output.split("**Failed models**", 1)[-1]
    schema, name = breakage.model.split(".")
    assert f'"{schema}"."{name}"' in failed_models, output
    assert "Traceback" not in output, output
    # The broken version was built and audited, and prod still serves the old one, unchanged.
    assert len(physical_versions(guarded.warehouse, breakage.model) - versions_before) == 1
    prod_view = before[breakage.model][0]
    assert prod_table_name(guarded, breakage.model).split(".")[-1] in prod_view
    assert prod_as_served(guarded.warehouse) == before


def break_first_expectation(unit_test_file: Path) -> tuple[str, str]:
    """Add 1 to the first whole number the file's first test expects; its test and column."""
    yaml = YAML()  # round-trip: the rest of the file stays as written
    yaml.width = 4096
    tests = yaml.load(unit_test_file)
    name = next(iter(tests))
    first_row = tests[name]["outputs"]["query"]["rows"][0]
    column = next(c for c, value in first_row.items() if type(value) is int)
    first_row[column] += 1
    yaml.dump(tests, unit_test_file)
    return name, column


def test_sqlmesh_test_fails_when_a_unit_test_expectation_is_broken(guarded: ProdCopy):
    unit_test = unit_test_file("marts.daily_sales_summary", guarded.project)
    succeeded(guarded.sqlmesh("test", str(unit_test)))

    name, column = break_first_expectation(unit_test)
    failing = guarded.sqlmesh("test", str(unit_test))

    output = output_of(failing)
    assert failing.returncode != 0, output
    assert f"FAIL: {name}" in output, output
    assert f"{column}: Expected" in output, output
