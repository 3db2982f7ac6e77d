"""Dev environments on the real sample: a changed mart is built alone, then promoted for free.

On each gateway, a copy of the project (helpers.scenarios.copy_project) gets a copy of the session's
prod on the sample lake (helpers.scenarios.prod_copy_env). Then one mart changes in the copy,
`top_customers` writing its city in upper case, and:

- `sqlmesh plan dev --include-unmodified` builds only `top_customers` (nothing depends on it);
  every other model in dev is a view on prod's physical table (`--include-unmodified` gives dev a
  view for every model, so anything can be queried in `<schema>__dev`, at no cost: nothing
  unchanged is computed);
- `sqlmesh table_diff prod:dev marts.top_customers` shows every row matched on the grain and
  `customer_city` as the only column that differs;
- `sqlmesh plan prod` afterwards (the promotion) swaps prod's views to the tables dev built and
  computes nothing.

The scenario runs once per gateway; each test reads what it recorded.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from helpers.scenarios import (
    GATEWAYS,
    PROJECT_MODELS,
    WIDE_CONSOLE,
    copy_project,
    evaluated_batches,
    prod_copy_env,
    run_sqlmesh_on,
    succeeded,
)
from helpers.warehouse import output_of

# Each of these builds a warehouse, runs the pipeline end to end or starts a stack.
pytestmark = pytest.mark.slow

# A FULL model: a change to an incremental (INCREMENTAL_BY_PARTITION) model is forward-only, so
# prod would keep its table rather than take dev's (the README's dev-environment section).
CHANGED_MART = "marts.top_customers"
CHANGED_FILE = Path("models/marts/top_customers.sql")
ORIGINAL_LINE = "  customer_city::TEXT AS customer_city,"
CHANGED_LINE = "  UPPER(customer_city)::TEXT AS customer_city,"
CHANGED_COLUMN = "customer_city"
# The changed mart and every model downstream of it (none).
REBUILT_IN_DEV = {CHANGED_MART}

# `--skip-tests`: the YAML unit tests have their own test (test_warehouse_staging.py).
PLAN = ("plan", "--auto-apply", "--no-prompts", "--skip-tests")

# The virtual layer: `CREATE VIEW marts.dim_customers AS SELECT * FROM <physical table>;`
VIEW_TARGET = re.compile(r"\bFROM\s+(?P<table>[^\s;]+)\s*;?\s*$", re.IGNORECASE)
# `sqlmesh table_diff`: one line per row category, one line per column under the stats header.
ROW_COUNT = re.compile(
    r"(?P<category>[A-Z][A-Z ]*[A-Z]):\s+(?P<rows>\d+) rows \((?P<pct>[\d.]+)%\)"
)
COLUMN_STATS_HEADER = "COMMON ROWS column comparison stats:"
COLUMN_MATCH = re.compile(r"^(?P<column>\w+)\s+(?P<pct>[\d.]+)$")


@dataclass(frozen=True)
class Stage:
    """The warehouse after one step: its physical objects and where each virtual view points."""

    physical: frozenset[str]
    views: dict[str, str]  # `schema.view` (dev schemas included) -> physical table

    def environment(self, name: str = "prod") -> dict[str, str]:
        """Each model's physical table in environment `name` (its views in `<schema>__<name>`)."""
        models = {}
        for view, table in self.views.items():
            schema, model = view.split(".")
            base, _, environment = schema.partition("__")
            if (environment or "prod") == name:
                models[f"{base}.{model}"] = table
        return models


@dataclass(frozen=True)
class DevScenario:
    """What the warehouse and SQLMesh showed at each step of developing one change."""

    prod: Stage  # after planning the unchanged project into prod
    dev: Stage  # after `plan dev` on the changed project
    promoted: Stage  # after `plan prod` on the changed project
    dev_plan: subprocess.CompletedProcess[str]
    dev_table_name: subprocess.CompletedProcess[str]
    table_diff: subprocess.CompletedProcess[str]
    promotion: subprocess.CompletedProcess[str]
    changed_mart_rows: int


def read_stage(warehouse: Path) -> Stage:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        physical = con.execute(
            """
            SELECT database_name, schema_name, table_name FROM duckdb_tables()
            UNION ALL
            SELECT database_name, schema_name, view_name FROM duckdb_views()
            """
        ).fetchall()
        views = con.execute(
            """
            SELECT schema_name || '.' || view_name, sql FROM duckdb_views()
            WHERE NOT internal AND schema_name NOT LIKE 'sqlmesh%'
            """
        ).fetchall()
    return Stage(
        # SQLMesh keeps every model version's table or view in a schema `sqlmesh__<schema>`.
        physical=frozenset(
            f"{catalog}.{schema}.{name}"
            for catalog, schema, name in physical
            if schema.startswith("sqlmesh__")
        ),
        views={view: physical_table_of(sql) for view, sql in views},
    )


def physical_table_of(view_sql: str) -> str:
    """`catalog.schema.table` a virtual-layer view selects from, without quotes."""
    match = VIEW_TARGET.search(view_sql)
    assert match is not None, f"not a virtual-layer view: {view_sql}"
    return match["table"].replace('"', "")


def column_match_pcts(table_diff: str) -> dict[str, float]:
    """The `pct_match` of each column, from `sqlmesh table_diff`'s column stats."""
    after_header = table_diff.split(COLUMN_STATS_HEADER, 1)[1]
    stats = {}
    for line in after_header.splitlines():
        match = COLUMN_MATCH.match(line.strip())
        if match:
            stats[match["column"]] = float(match["pct"])
        elif stats and not line.strip():
            break
    return stats


def change_the_mart(project: Path) -> None:
    path = project / CHANGED_FILE
    text = path.read_text(encoding="utf-8")
    assert ORIGINAL_LINE in text, f"{CHANGED_FILE} no longer has the line this test changes"
    path.write_text(text.replace(ORIGINAL_LINE, CHANGED_LINE), encoding="utf-8")


def count_rows(warehouse: Path, model: str) -> int:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"SELECT count(*) FROM {model}").fetchone()[0]


def develop_a_change(
    request: pytest.FixtureRequest, gateway: str, work: Path
) -> Iterator[DevScenario]:
    project = copy_project(work / "project")
    warehouse = work / "warehouse.duckdb"
    with prod_copy_env(request, gateway, warehouse) as env:
        env |= WIDE_CONSOLE

        def sqlmesh(*args: str) -> subprocess.CompletedProcess[str]:
            return succeeded(run_sqlmesh_on(project, env, *args, cwd=work))

        prod = read_stage(warehouse)
        changed_mart_rows = count_rows(warehouse, CHANGED_MART)

        change_the_mart(project)
        dev_plan = sqlmesh(*PLAN, "dev", "--include-unmodified")
        dev = read_stage(warehouse)
        dev_table_name = sqlmesh("table_name", CHANGED_MART, "--env", "dev")
        table_diff = sqlmesh("table_diff", "prod:dev", CHANGED_MART)

        promotion = sqlmesh(*PLAN)
        yield DevScenario(
            prod=prod,
            dev=dev,
            promoted=read_stage(warehouse),
            dev_plan=dev_plan,
            dev_table_name=dev_table_name,
            table_diff=table_diff,
            promotion=promotion,
            changed_mart_rows=changed_mart_rows,
        )


@pytest.fixture(scope="module", params=GATEWAYS)
def scenario(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DevScenario]:
    yield from develop_a_change(request, request.param, tmp_path_factory.mktemp("dev-env"))


def test_dev_plan_computes_only_the_changed_mart_and_its_downstream(scenario):
    new_physical = scenario.dev.physical - scenario.prod.physical
    dev = scenario.dev.environment("dev")

    assert evaluated_batches(scenario.dev_plan) == {
        model.replace(".", "__dev.", 1): ["full refresh"] for model in REBUILT_IN_DEV
    }, output_of(scenario.dev_plan)
    assert new_physical == {dev[model] for model in REBUILT_IN_DEV}


def test_every_unchanged_model_in_dev_is_a_view_on_prods_physical_table(scenario):
    prod, dev = scenario.prod.environment(), scenario.dev.environment("dev")

    assert sorted(prod) == sorted(dev) == PROJECT_MODELS
    unchanged = [model for model in PROJECT_MODELS if model not in REBUILT_IN_DEV]
    assert {model: dev[model] for model in unchanged} == {model: prod[model] for model in unchanged}
    assert all(dev[model] != prod[model] for model in REBUILT_IN_DEV)
    # Developing in dev leaves prod as it was.
    assert scenario.dev.environment() == prod


def test_table_name_in_dev_is_the_table_dev_built_for_the_changed_mart(scenario):
    table = scenario.dev_table_name.stdout.strip()

    assert table == scenario.dev.environment("dev")[CHANGED_MART]
    assert table != scenario.prod.environment()[CHANGED_MART]


def test_table_diff_prod_to_dev_shows_the_changed_column_on_every_row(scenario):
    output = scenario.table_diff.stdout
    rows = scenario.changed_mart_rows

    assert "Schemas match" in output, output
    # Every row is on both sides (matched on the grain) and differs: no full matches, none
    # only in prod or only in dev.
    assert ROW_COUNT.findall(output) == [("PARTIAL MATCH", str(rows), "100.0")], output
    stats = column_match_pcts(output)
    assert stats.pop(CHANGED_COLUMN) < 100.0, output
    assert stats, output
    assert set(stats.values()) == {100.0}, output


def test_promoting_dev_to_prod_recomputes_nothing(scenario):
    prod_after = scenario.promoted.environment()
    dev = scenario.dev.environment("dev")

    assert evaluated_batches(scenario.promotion) == {}, output_of(scenario.promotion)
    assert "No physical layer updates to perform" in scenario.promotion.stdout
    assert scenario.promoted.physical == scenario.dev.physical
    # Prod now reads exactly what dev built and checked.
    assert prod_after == dev
