"""Daily replays of the real sample, and the comparison of a warehouse with a full rebuild.

A replay is what a scheduler running `olist run` once a day does to the lake and the warehouse:
each day's `olist snapshot` of the sample is ingested and exported (once per test session, into a
local lake, by replay_driver.py `lake`), then the files each export added are put into a
gateway's lake one day at a time, the warehouse being brought up to date after each day as
`olist run` does (replay_driver.py `warehouse`). Two days are not like the others:

- a late export: the export of LATE_DAY writes its files, but its completion record
  (`_dlt_loads/…`) only arrives two days later, after a newer export was taken in: the warehouse
  must not read it before it is complete, nor lose it once it is, although its load id is older;
- a day whose files change only old orders (OLD_ORDERS_DAY, replay_driver.edit_old_orders): an
  order moves to another day and another to another person, each leaving their old day or
  person with no order; orders are canceled; an item changes seller and product, a payment its
  type, a review its score, a product its category.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from helpers.scenarios import gateway_env, new_lake, succeeded
from helpers.warehouse import SampleLake, built_once, clean_environment, run_sqlmesh
from ingest.lake_layout import export_load_id

DRIVER = Path(__file__).with_name("replay_driver.py")
REPLAY_START = date(2018, 5, 31)  # the first day: the sample as of then, a first build
REPLAY_DAYS = 30  # the daily runs after it
LATE_DAY = 8  # its export's completion record arrives with day LATE_DAY + 2
OLD_ORDERS_DAY = 15  # followed by a step whose files change only old orders
LAYERS = ("staging", "intermediate", "marts")
# Which run last wrote a row differs between a replay and a rebuild, by design.
RUN_STAMPS = {"_batch", "batch"}
COMPLETION_FOLDER = "_dlt_loads/"
MANIFEST = "manifest.json"  # what replay_driver.py `lake` says each day's export added


@dataclass(frozen=True)
class Step:
    """What the lake receives before one warehouse update: the files of a day's export."""

    name: str
    files: list[str]

    def as_json(self) -> dict:
        return {"name": self.name, "files": self.files}


@dataclass(frozen=True)
class DailyLake:
    """The local lake all days were exported to, and the steps that replay it."""

    lake: Path
    steps: list[Step]

    def step(self, name: str) -> Step:
        return next(step for step in self.steps if step.name == name)


def day_name(n: int) -> str:
    return (REPLAY_START + timedelta(days=n)).isoformat()


OLD_ORDERS_STEP = f"{day_name(OLD_ORDERS_DAY)} old orders"


@pytest.fixture(scope="session")
def daily_lake(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> DailyLake:
    """Every day's export in one local lake, built once per test run (both gateways' replays
    read it, on whichever xdist workers they run), and the steps that replay it."""

    def build(work: Path) -> None:
        days = []
        for n in range(REPLAY_DAYS + 1):
            days.append({"name": day_name(n), "as_of": day_name(n)})
            if n == OLD_ORDERS_DAY:
                days.append({"name": OLD_ORDERS_STEP, "as_of": day_name(n), "edit": "old_orders"})
        (work / "days.json").write_text(json.dumps(days))
        drive("lake", str(sample_dir), str(work), str(work / "days.json"), str(work / MANIFEST))

    return daily_lake_in(built_once(tmp_path_factory, "daily-lake", build))


def daily_lake_in(work: Path) -> DailyLake:
    """The lake replay_driver.py `lake` built in `work`, and the steps that replay it."""
    days = json.loads((work / "days.json").read_text())
    added: dict[str, list[str]] = json.loads((work / MANIFEST).read_text())
    late = day_name(LATE_DAY)
    late_record = [f for f in added[late] if f.startswith(COMPLETION_FOLDER)]
    assert len(late_record) == 1, f"the export of {late} wrote no completion record: {added[late]}"
    steps = []
    for day in days:
        files = added[day["name"]]
        if day["name"] == late:
            files = [f for f in files if f not in late_record]
        if day["name"] == day_name(LATE_DAY + 2):
            files = [*files, *late_record]
        steps.append(Step(day["name"], files))
    return DailyLake(lake=work / "lake", steps=steps)


def weekly_steps(steps: list[Step]) -> list[Step]:
    """The same files in fewer updates: up to a week of days per update, named after its last
    day, except that the days around the late export and the old-orders day stay one update each
    (they are what the tests look at)."""
    alone = {day_name(LATE_DAY + n) for n in range(3)} | {day_name(OLD_ORDERS_DAY), OLD_ORDERS_STEP}
    grouped: list[Step] = []
    week: list[Step] = []
    for step in steps:
        if step.name in alone or len(week) == 7:
            if week:
                grouped.append(Step(week[-1].name, [f for s in week for f in s.files]))
            week = []
        if step.name in alone:
            grouped.append(step)
        else:
            week.append(step)
    if week:
        grouped.append(Step(week[-1].name, [f for s in week for f in s.files]))
    return grouped


def replay(daily: DailyLake, steps: list[Step], env: Mapping[str, str], work: Path) -> list[dict]:
    """Put each step's files into the lake `env` names and bring its warehouse up to date after
    each step, as `olist run` does; what each update did (replay_driver.py `warehouse`)."""
    steps_file, results = work / "steps.json", work / "results.json"
    steps_file.write_text(json.dumps([step.as_json() for step in steps]))
    drive("warehouse", str(daily.lake), str(steps_file), str(results), env=env, cwd=work)
    return json.loads(results.read_text())


def drive(*args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> None:
    result = subprocess.run(
        [sys.executable, str(DRIVER), *args],
        env=clean_environment(env or {}),
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, (
        f"replay_driver {args[0]} failed:\n{result.stdout}{result.stderr}"
    )


def table_differences(warehouse: Path, rebuilt: Path) -> dict[str, tuple[int, int]]:
    """Per staging, intermediate and mart table, (rows only in `warehouse`, rows only in
    `rebuilt`), for the tables that differ; the run stamps aside.

    Each file is attached under its stem, the catalog its views name (so the stems must differ).
    """
    a, b = warehouse.stem, rebuilt.stem
    assert a != b, "the two warehouses must have different file names"
    con = duckdb.connect()
    con.execute(f"ATTACH '{warehouse}' AS {a} (READ_ONLY)")
    con.execute(f"ATTACH '{rebuilt}' AS {b} (READ_ONLY)")
    found = {}
    for table in _tables(con, a):
        select = ", ".join(f'"{c}"' for c in _columns(con, a, table) if c not in RUN_STAMPS)
        only = [
            con.sql(
                f"SELECT count(*) FROM (SELECT {select} FROM {x}.{table} "
                f"EXCEPT ALL SELECT {select} FROM {y}.{table})"
            ).fetchone()[0]
            for x, y in ((a, b), (b, a))
        ]
        if any(only):
            found[table] = tuple(only)
    con.close()
    return found


def _tables(con: duckdb.DuckDBPyConnection, catalog: str) -> list[str]:
    layers = ", ".join(f"'{layer}'" for layer in LAYERS)
    tables = con.sql(
        "SELECT table_schema || '.' || table_name FROM information_schema.tables "
        f"WHERE table_catalog = '{catalog}' AND table_schema IN ({layers}) ORDER BY 1"
    ).fetchall()
    assert len(tables) >= 30, f"expected every model's table in {catalog}, found {tables}"
    return [name for (name,) in tables]


def _columns(con: duckdb.DuckDBPyConnection, catalog: str, table: str) -> list[str]:
    schema, name = table.split(".")
    return [
        column
        for (column,) in con.sql(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = "
            f"'{catalog}' AND table_schema = '{schema}' AND table_name = '{name}' "
            "ORDER BY ordinal_position"
        ).fetchall()
    ]


PLAN_PROD = ("plan", "--auto-apply", "--no-prompts", "--skip-tests")
# The bronze tables whose rows belong to an order, and so make fct_orders rewrite it.
ORDER_TABLES = ("orders", "order_items", "order_payments", "order_reviews")


@dataclass(frozen=True)
class Replayed:
    gateway: str
    steps: list[Step]  # what the lake received before each update, in order
    updates: dict[str, dict]  # step name -> what the warehouse update after it did
    after_old_orders: dict[str, tuple[int, int]]  # tables differing from a rebuild, then
    at_the_end: dict[str, tuple[int, int]]


def compared_with_a_rebuild(
    request: pytest.FixtureRequest, gateway: str, lake: SampleLake, warehouse: Path, name: str
) -> dict[str, tuple[int, int]]:
    """The tables in which `warehouse` differs from one planned from scratch on `lake`."""
    work = warehouse.parent / name
    work.mkdir()
    rebuilt = work / "rebuilt.duckdb"
    with gateway_env(request, gateway, lake, rebuilt) as env:
        succeeded(run_sqlmesh(env, *PLAN_PROD, cwd=work))
    return table_differences(warehouse, rebuilt)


def touched_orders(lake: Path, history: list[str], new: list[str]) -> int:
    """The orders an export touched, from its files alone: those with a row in one of its order
    tables, and those whose customer record it changed (the customer_id of their latest version
    up to and including it)."""
    con = duckdb.connect()

    def files_of(folder: str, files: list[str]) -> str:
        paths = [str(lake / f) for f in files if f.startswith(f"{folder}/")]
        return f"read_parquet({paths})" if paths else None

    parts = [
        f"SELECT order_id FROM {files_of(table, new)}"
        for table in ORDER_TABLES
        if files_of(table, new)
    ]
    customers = files_of("customers", new)
    all_orders = files_of("orders", [*history, *new])
    if customers and all_orders:
        parts.append(
            f"SELECT order_id FROM {all_orders} "
            "QUALIFY row_number() OVER (PARTITION BY order_id "
            "ORDER BY CAST(_dlt_load_id AS DOUBLE) DESC) = 1 "
            f"AND customer_id IN (SELECT customer_id FROM {customers})"
        )
    if not parts:
        return 0
    (count,) = con.sql(f"SELECT count(*) FROM ({' UNION '.join(parts)})").fetchone()
    con.close()
    return count


class DailyReplayTests:
    """The replay's tests on one gateway. A test module per gateway subclasses this with its
    `gateway`, so that pytest-xdist runs the two replays side by side (a module's tests run on one
    worker)."""

    gateway: str
    weekly = False  # one update per week of days (weekly_steps) instead of one per day

    @pytest.fixture(scope="class")
    @classmethod
    def replayed(
        cls, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, daily_lake
    ) -> Iterator[Replayed]:
        gateway = cls.gateway
        work = tmp_path_factory.mktemp(f"replay-{gateway}")
        lake = new_lake(request, gateway, work)
        warehouse = work / "replayed.duckdb"
        steps = weekly_steps(daily_lake.steps) if cls.weekly else daily_lake.steps
        split = next(n for n, s in enumerate(steps) if s.name == OLD_ORDERS_STEP) + 1
        with gateway_env(request, gateway, lake, warehouse) as env:
            env = {**lake.env, **env}
            updates = replay(daily_lake, steps[:split], env, work)
            after_old_orders = compared_with_a_rebuild(request, gateway, lake, warehouse, "check")
            updates += replay(daily_lake, steps[split:], env, work)
            at_the_end = compared_with_a_rebuild(request, gateway, lake, warehouse, "end")
        yield Replayed(
            gateway=gateway,
            steps=steps,
            updates={update["name"]: update for update in updates},
            after_old_orders=after_old_orders,
            at_the_end=at_the_end,
        )

    def test_a_day_changing_only_old_orders_leaves_the_warehouse_equal_to_a_full_rebuild(
        self, replayed: Replayed
    ):
        assert replayed.after_old_orders == {}

    def test_a_month_of_updates_leaves_the_warehouse_equal_to_a_full_rebuild(
        self, replayed: Replayed
    ):
        assert replayed.at_the_end == {}

    def test_an_export_is_not_read_before_it_is_complete_nor_lost_when_it_completes_late(
        self, replayed: Replayed
    ):
        late, next_day, completed = (day_name(LATE_DAY + n) for n in range(3))
        assert replayed.updates[late]["action"].startswith("up to date"), replayed.updates[late]
        assert replayed.updates[next_day]["action"] == "updated from 1 new lake export(s)"
        # The late export's id is older than the one taken in the day before: it is taken in too.
        assert replayed.updates[completed]["action"] == "updated from 2 new lake export(s)"

    def test_each_update_rewrites_exactly_the_orders_its_exports_touched(
        self, replayed: Replayed, daily_lake: DailyLake
    ):
        every_file = [f for step in daily_lake.steps for f in step.files]
        history: list[str] = []  # the files of the exports taken in so far
        checked = 0
        for n, step in enumerate(replayed.steps):
            # An update takes in the exports whose completion record arrived with its step.
            completed = [export_load_id(f) for f in step.files if f.startswith(COMPLETION_FOLDER)]
            files = [
                f for f in every_file if any(Path(f).name.startswith(f"{c}.") for c in completed)
            ]
            update = replayed.updates[step.name]
            assert update["action"].startswith("up to date") == (not completed), step.name
            if n > 0 and completed:
                expected = touched_orders(daily_lake.lake, history, files)
                assert update["rows_written"]["marts.fct_orders"] == expected, step.name
                checked += 1
            history += files
        assert checked >= len(replayed.steps) - 2  # all but the first and the late export's day
        old_orders = replayed.updates[OLD_ORDERS_STEP]
        assert 0 < old_orders["rows_written"]["marts.fct_orders"] <= 10, old_orders
