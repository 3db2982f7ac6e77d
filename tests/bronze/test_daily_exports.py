"""A month of daily `olist snapshot`, `olist ingest` and `olist export` of the real sample: each
day adds one complete export to the lake, of that day's changes only.

This is the lake the warehouse replays read (helpers.replay `daily_lake`, built once per test
run). The module is collected early on purpose: building the lake takes minutes, and both
replays, collected last, would otherwise wait for it side by side.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb
from helpers.replay import (
    COMPLETION_FOLDER,
    LATE_DAY,
    OLD_ORDERS_STEP,
    DailyLake,
    day_name,
)
from helpers.replay_driver import OLD_ORDER_AGE_DAYS

from ingest.lake_layout import export_load_id
from ingest.tables import TABLES

TABLE_NAMES = {table.name for table in TABLES}


def _exports(files: list[str]) -> list[str]:
    return [export_load_id(f) for f in files if f.startswith(COMPLETION_FOLDER)]


def test_each_day_adds_one_complete_export_of_its_own_files(daily_lake: DailyLake):
    late_day, late_record_day = day_name(LATE_DAY), day_name(LATE_DAY + 2)
    for step in daily_lake.steps:
        exports = _exports(step.files)
        # The replay moves the late day's completion record to two days later.
        assert len(exports) == {late_day: 0, late_record_day: 2}.get(step.name, 1), step.name
        owners = (
            _exports(daily_lake.step(late_record_day).files) if step.name == late_day else exports
        )
        # Besides these, dlt keeps its state and schema versions in `_dlt_*` folders.
        data_files = [f for f in step.files if f.split("/")[0] in TABLE_NAMES]
        assert data_files, f"{step.name}: the export wrote no Parquet file"
        for file in data_files:
            assert file.endswith(".parquet") and any(
                Path(file).name.startswith(f"{owner}.") for owner in owners
            ), (step.name, file, owners)
    every_export = [e for step in daily_lake.steps for e in _exports(step.files)]
    assert len(every_export) == len(set(every_export)) == len(daily_lake.steps)


def test_the_old_orders_day_changes_only_orders_placed_long_before_it(daily_lake: DailyLake):
    step = daily_lake.step(OLD_ORDERS_STEP)
    orders = [str(daily_lake.lake / f) for f in step.files if f.startswith("orders/")]
    assert orders, f"the old-orders export changed no order: {step.files}"
    day = date.fromisoformat(OLD_ORDERS_STEP[:10])
    con = duckdb.connect()
    (count, latest) = con.sql(
        f"SELECT count(*), max(order_purchase_timestamp) FROM read_parquet({orders})"
    ).fetchone()
    con.close()
    # One order moves to a busy old day; every other is placed where it was, long before.
    assert 0 < count <= 10
    assert latest.date() < day - timedelta(days=OLD_ORDER_AGE_DAYS), latest
