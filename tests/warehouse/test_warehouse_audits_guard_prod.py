"""Audits keep a broken change out of prod; a valid edit reaches prod as a full build makes it.

For each gateway, a copy of the project in tmp gets a copy of the session's prod (module scope).

Most models are INCREMENTAL_BY_PARTITION, which SQLMesh always treats as forward-only: a plain
`sqlmesh plan prod` would deploy an edited one without computing or auditing anything. The guard
is therefore `olist run`'s warehouse step (olist/warehouse/build.py, `build_warehouse`): it builds
and audits the edited incremental models and what depends on them in the `olist_preview`
environment first, refuses the change when an audit fails there, and otherwise plans prod and
restates (rebuilds in place) the edited models. The tests run that step on the copy in a
subprocess (`olist run` always builds the repository's own project) and print its error as `olist`
does:

- a breakage of an incremental model that passes the model's YAML unit test but fails an audit
  on the real sample fails the step naming the audit and the model, with no traceback, and prod
  serves exactly what it served before: every view of the virtual layer, the physical table it
  names and every row. The preview environment is gone afterwards;
- a valid edit of an incremental model (staging.stg_customers writing states in lower case, its
  unit test updated to check it) succeeds, and afterwards every staging, intermediate and mart
  table of prod holds exactly the rows of a warehouse planned from scratch, with the edited
  project, on the same lake; the preview environment is gone.

A FULL model is not forward-only: `sqlmesh plan prod` builds a new table for a change and a
failing audit stops the plan before promotion. One test proves that with a plain plan (unit tests
skipped: the breakage passes its unit test anyway): the plan fails naming the audit and the model,
the broken version's physical table exists but prod still serves the old one, unchanged.

The breakages edit the copy, which is restored after each test; the valid edit gets a copy of
prod of its own, as it changes prod. The last test proves the unit tests bite too: `sqlmesh test`
fails once one expected value is wrong.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from helpers.replay import table_differences
from helpers.scenarios import (
    GATEWAYS,
    PROJECT_MODELS,
    WIDE_CONSOLE,
    copy_project,
    gateway_env,
    prod_copy_env,
    run_sqlmesh_on,
    sample_lake_of,
    succeeded,
    unit_test_file,
)
from helpers.warehouse import Warehouse, clean_environment, output_of
from ruamel.yaml import YAML

from olist.warehouse.build import PREVIEW_ENVIRONMENT

# Each of these builds a warehouse, runs the pipeline end to end or starts a stack.
pytestmark = pytest.mark.slow

PROD_SCHEMAS = ("staging", "intermediate", "marts")
PLAN_PROD = ("plan", "--auto-apply", "--no-prompts", "--skip-tests")

# `olist run`'s warehouse step on a project copy (argv[1]), its error printed as `olist` prints
# a PipelineError: one message, no traceback, exit code 1.
WAREHOUSE_STEP = """
import sys
from pathlib import Path

from olist.console import print_error
from olist.errors import PipelineError
from olist.warehouse.build import build_warehouse

try:
    outcome = build_warehouse(Path(sys.argv[1]))
except PipelineError as error:
    print_error(error)
    sys.exit(1)
print(outcome.action)
"""

# `sqlmesh environments`: one line per environment, `prod - No Expiry`.
ENVIRONMENT_LINE = re.compile(r"^(?P<name>\S+) - ", re.MULTILINE)


@dataclass(frozen=True)
class Edit:
    """`original`, which the project's `file` holds exactly once, becomes `replacement`."""

    file: str
    original: str
    replacement: str


@dataclass(frozen=True)
class Breakage:
    """A change that breaks `model` (its unit test still passes), which `audit` must catch."""

    model: str
    edits: tuple[Edit, ...]
    audit: str


INCREMENTAL_BREAKAGES = {
    # A "clean-up" that drops canceled orders from staging: the unit test has none, but on the
    # sample the keys of those orders in stg_orders_versions no longer have a row.
    "staging-drops-rows": Breakage(
        model="staging.stg_orders",
        edits=(
            Edit(
                file="models/staging/stg_orders.sql",
                original="  @is_latest_version(order_id)\n",
                replacement="  @is_latest_version(order_id) AND order_status <> 'canceled'\n",
            ),
        ),
        audit="every_version_key_has_a_row",
    ),
    # fct_orders keeps only orders that reached an end, dropping those still on their way
    # (`shipped`): the unit test has no shipped order, but on the sample their items' money is
    # no longer in fct_orders, and it no longer adds up to staging's.
    "mart-drops-rows": Breakage(
        model="marts.fct_orders",
        edits=(
            Edit(
                file="models/marts/fct_orders.sql",
                original=(
                    "  FROM staging.stg_orders\n"
                    "  WHERE\n"
                    "    @rebuilding() OR order_id IN (\n"
                    "      SELECT\n"
                    "        order_id\n"
                    "      FROM touched_orders\n"
                    "    )\n"
                ),
                replacement=(
                    "  FROM staging.stg_orders\n"
                    "  WHERE\n"
                    "    order_status <> 'shipped'\n"
                    "    AND (\n"
                    "      @rebuilding() OR order_id IN (\n"
                    "        SELECT\n"
                    "          order_id\n"
                    "        FROM touched_orders\n"
                    "      )\n"
                    "    )\n"
                ),
            ),
        ),
        audit="fct_orders_items_match_staging",
    ),
}

# The orders the top_customers unit test gets once it reads fct_orders: (person, purchase time,
# payment type), one order per person and instant, its first orders matching dim_customers'.
FIRST_ORDERS_IN_THE_UNIT_TEST = (
    ("person1", "2018-01-10 09:00:00", "credit_card"),
    ("person1", "2018-03-05 15:30:00", "boleto"),
    ("person2", "2018-02-01 10:00:00", "voucher"),
    ("person3", "2017-05-01 10:00:00", "credit_card"),
    ("person4", "2017-06-01 10:00:00", "boleto"),
)
# top_customers gains the payment type of each customer's first order, joined from fct_orders on
# the person and the first order's time. Some people placed two orders at that very instant (15
# among the sample's top customers), and they come out twice. The unit test, updated with the new
# input and column, gives every person one order per instant, so it passes.
FULL_MODEL_BREAKAGE = Breakage(
    model="marts.top_customers",
    edits=(
        Edit(
            file="models/marts/top_customers.sql",
            original=(
                "  SELECT\n"
                "    *,\n"
                "    RANK() OVER (ORDER BY lifetime_value DESC) AS lifetime_value_rank\n"
                "  FROM customers\n"
            ),
            replacement=(
                "  SELECT\n"
                "    customers.*,\n"
                "    first_orders.payment_type AS first_payment_type,\n"
                "    RANK() OVER (ORDER BY customers.lifetime_value DESC) AS lifetime_value_rank\n"
                "  FROM customers\n"
                "  LEFT JOIN marts.fct_orders AS first_orders\n"
                "    ON first_orders.customer_unique_id = customers.customer_unique_id\n"
                "    AND first_orders.order_purchased_at = customers.first_order_at\n"
            ),
        ),
        Edit(
            file="models/marts/top_customers.sql",
            original="customer_state::TEXT AS customer_state /* State of their latest order. */\n",
            replacement=(
                "customer_state::TEXT AS customer_state, /* State of their latest order. */\n"
                "  first_payment_type::TEXT AS first_payment_type /* How they paid their first "
                "order. */\n"
            ),
        ),
        Edit(
            file="tests/models/marts/test_top_customers.yaml",
            original="  outputs:\n",
            replacement=(
                "    marts.fct_orders:\n      rows:\n"
                + "".join(
                    f"        - {{customer_unique_id: {person}, order_purchased_at: '{at}', "
                    f"payment_type: {payment_type}}}\n"
                    for person, at, payment_type in FIRST_ORDERS_IN_THE_UNIT_TEST
                )
                + "  outputs:\n"
            ),
        ),
        # The expected rows of person3 (SP), person1 (PR) and person2 (PE) get the new column.
        *(
            Edit(
                file="tests/models/marts/test_top_customers.yaml",
                original=f"customer_state: {state}}}",
                replacement=f"customer_state: {state}, first_payment_type: {payment_type}}}",
            )
            for state, payment_type in (
                ("SP", "credit_card"),
                ("PR", "credit_card"),
                ("PE", "voucher"),
            )
        ),
    ),
    audit="unique_values",
)

# A valid edit of an incremental model with many models downstream: states in lower case.
EDITED_MODEL = "staging.stg_customers"
STATES_IN_LOWER_CASE = Edit(
    file="models/staging/stg_customers.sql",
    original="customer_state::TEXT AS customer_state, /* Two-letter state code, upper case. */",
    replacement=(
        "LOWER(customer_state)::TEXT AS customer_state, /* Two-letter state code, lower case. */"
    ),
)
# Its unit test then reads upper-case states (`STATE-1`) and still expects `state-1`.
UNIT_TEST_INPUT_STATE = re.compile(r"customer_state: state-(?P<n>\d), _dlt_load_id")
UNIT_TEST_INPUT_STATES = 10


@dataclass(frozen=True)
class ProdCopy:
    """A copy of the project and of the session's prod on one gateway."""

    gateway: str
    project: Path
    warehouse: Warehouse
    work: Path

    def sqlmesh(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**self.warehouse.env, **WIDE_CONSOLE}
        return run_sqlmesh_on(self.project, env, *args, cwd=self.work)

    def warehouse_step(self) -> subprocess.CompletedProcess[str]:
        """`olist run`'s warehouse step (build_warehouse) on this project and warehouse."""
        return subprocess.run(
            [sys.executable, "-c", WAREHOUSE_STEP, str(self.project)],
            cwd=self.work,
            env=clean_environment({**self.warehouse.env, **WIDE_CONSOLE}),
            capture_output=True,
            text=True,
            check=False,
        )


@contextmanager
def copy_of_prod(request: pytest.FixtureRequest, gateway: str, work: Path) -> Iterator[ProdCopy]:
    """The project copied to `work` with a copy of the session's prod on `gateway` (every audit
    passed when it was planned), which a plan of the unchanged copy finds up to date."""
    project = copy_project(work / "project")
    lake = sample_lake_of(request, gateway)
    path = work / "warehouse.duckdb"
    with prod_copy_env(request, gateway, path) as env:
        plan = succeeded(
            run_sqlmesh_on(project, env, "plan", "--auto-apply", "--no-prompts", cwd=work)
        )
        assert "No changes to plan" in output_of(plan), output_of(plan)
        warehouse = Warehouse(path=path, lake=lake, env=env, plan=plan)
        yield ProdCopy(gateway=gateway, project=project, warehouse=warehouse, work=work)


@pytest.fixture(scope="module", params=GATEWAYS)
def prod_copy(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ProdCopy]:
    """A copy of the project and of prod on each gateway, shared by the module's tests."""
    work = tmp_path_factory.mktemp(f"guard-prod-{request.param}")
    with copy_of_prod(request, request.param, work) as prod:
        yield prod


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


def environments(prod: ProdCopy) -> list[str]:
    """The environments SQLMesh's state holds (`sqlmesh environments`)."""
    return sorted(ENVIRONMENT_LINE.findall(succeeded(prod.sqlmesh("environments")).stdout))


def preview_schemas_and_views(prod: ProdCopy) -> list[str]:
    """The preview environment's virtual layer in the warehouse: `<schema>__olist_preview` schemas
    and their views."""
    with prod.warehouse.connect() as con:
        found = con.execute(
            "SELECT schema_name FROM duckdb_schemas() "
            "WHERE database_name = current_database() AND ends_with(schema_name, $suffix) "
            "UNION ALL "
            "SELECT schema_name || '.' || view_name FROM duckdb_views() "
            "WHERE database_name = current_database() AND ends_with(schema_name, $suffix)",
            {"suffix": f"__{PREVIEW_ENVIRONMENT}"},
        ).fetchall()
    return sorted(name for (name,) in found)


def apply_edit(project: Path, edit: Edit) -> None:
    path = project / edit.file
    text = path.read_text(encoding="utf-8")
    assert text.count(edit.original) == 1, (
        f"{edit.file} no longer contains {edit.original!r} exactly once: "
        "update this test's edit to the file"
    )
    path.write_text(text.replace(edit.original, edit.replacement), encoding="utf-8")


def break_model(project: Path, breakage: Breakage) -> None:
    for edit in breakage.edits:
        apply_edit(project, edit)


def write_states_in_lower_case(project: Path) -> None:
    """The valid edit: stg_customers writes states in lower case; its unit test's input states
    become upper case (`STATE-1`) while it still expects `state-1`, so it checks the edit."""
    apply_edit(project, STATES_IN_LOWER_CASE)
    unit_test = unit_test_file(EDITED_MODEL, project)
    text, found = UNIT_TEST_INPUT_STATE.subn(
        r"customer_state: STATE-\g<n>, _dlt_load_id", unit_test.read_text(encoding="utf-8")
    )
    assert found == UNIT_TEST_INPUT_STATES, f"{unit_test} changed: update this test's edit"
    unit_test.write_text(text, encoding="utf-8")


def error_line(output: str) -> str:
    """The message the warehouse step printed as `olist` prints an error."""
    lines = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, output
    return lines[0]


@pytest.mark.parametrize("breakage", INCREMENTAL_BREAKAGES.values(), ids=INCREMENTAL_BREAKAGES)
def test_a_failing_audit_keeps_the_broken_model_out_of_prod(guarded: ProdCopy, breakage: Breakage):
    before = prod_as_served(guarded.warehouse)
    assert sorted(before) == PROJECT_MODELS  # prod serves every model of the project
    break_model(guarded.project, breakage)

    step = guarded.warehouse_step()

    output = output_of(step)
    assert step.returncode == 1, output
    assert "Traceback" not in output, output
    assert f"'{breakage.audit}' audit error" in output, output
    # The unit tests and the linter ran first and passed: the audit stopped the change.
    message = error_line(output)
    assert "failed their audits" in message, output
    assert breakage.model in message, output
    assert "Prod was not changed" in message, output
    assert prod_as_served(guarded.warehouse) == before
    assert environments(guarded) == ["prod"]  # the preview is gone
    assert preview_schemas_and_views(guarded) == []


def test_a_failing_audit_stops_a_full_model_plan_before_promotion(guarded: ProdCopy):
    breakage = FULL_MODEL_BREAKAGE
    before = prod_as_served(guarded.warehouse)
    assert sorted(before) == PROJECT_MODELS
    versions_before = physical_versions(guarded.warehouse, breakage.model)
    break_model(guarded.project, breakage)
    # The breakage gets past its unit test: only the audit on the real data can stop it.
    succeeded(guarded.sqlmesh("test", str(unit_test_file(breakage.model, guarded.project))))

    plan = guarded.sqlmesh(*PLAN_PROD)

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


def upper_case_states(prod: ProdCopy) -> dict[str, int]:
    """Rows whose customer_state is not in lower case, in the edited model and downstream."""
    with prod.warehouse.connect() as con:
        return {
            table: con.execute(
                f"SELECT count(*) FROM {table} WHERE customer_state <> lower(customer_state)"
            ).fetchone()[0]
            for table in (EDITED_MODEL, "marts.fct_orders", "marts.dim_customers")
        }


def test_an_edited_incremental_model_reaches_prod_with_its_downstream_as_a_fresh_build_makes_them(
    request: pytest.FixtureRequest, prod_copy: ProdCopy, tmp_path: Path
):
    # A prod of its own, since this test changes it; prod_copy only gives the gateway.
    with copy_of_prod(request, prod_copy.gateway, tmp_path / "prod") as prod:
        before = upper_case_states(prod)
        assert all(before.values()), before  # prod has upper-case states everywhere
        write_states_in_lower_case(prod.project)

        step = prod.warehouse_step()

        assert step.returncode == 0, output_of(step)
        assert step.stdout.splitlines()[-1] == "updated for changed models", output_of(step)
        after = upper_case_states(prod)
        assert after == dict.fromkeys(after, 0), after
        assert environments(prod) == ["prod"]  # the preview is gone
        assert preview_schemas_and_views(prod) == []
        fresh = tmp_path / "fresh"
        fresh.mkdir()
        rebuilt = fresh / "rebuilt.duckdb"
        with gateway_env(request, prod.gateway, prod.warehouse.lake, rebuilt) as env:
            succeeded(run_sqlmesh_on(prod.project, env, *PLAN_PROD, cwd=fresh))
        assert table_differences(prod.warehouse.path, rebuilt) == {}


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
