"""The slow halves of the daily-replay tests, each in a process of its own (see helpers.replay).

    python replay_driver.py lake <sample dir> <work dir> <days.json> <manifest.json>
    python replay_driver.py warehouse <source lake> <steps.json> <results.json>

`lake` builds a local lake the way a scheduler's daily `olist run` would, one day at a time:
`olist snapshot` of the sample as of the day (or that day's snapshot with some old orders
edited), `olist ingest`, `olist export`; it records which lake files each day's export added.
`warehouse` replays those files into the lake of the gateway its `OLIST_*` environment names (a
local folder, or an S3 bucket), a step at a time, and after each step brings the warehouse up to
date as `olist run` does (`build_warehouse`), recording what it did.

A process of its own: dlt and SQLMesh read the environment and keep state in the process, and
SQLMesh's config.yaml is rendered from the `OLIST_*` variables when the project loads.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from olist.config import Settings, load_settings

# The "old orders only" day changes orders placed at least this long before it.
OLD_ORDER_AGE_DAYS = 300


def build_lake(sample: Path, work: Path, days: list[dict], manifest: Path) -> None:
    from ingest.export_pipeline import run_export
    from ingest.ingest_pipeline import run_ingest
    from olist.snapshot.cutoff import parse_as_of, take_snapshot

    lake = work / "lake"
    settings = Settings(
        staging_url=f"duckdb:///{work}/staging.duckdb",
        lake_url=str(lake),
        data_dir=work / "data",
        s3=None,
    )
    added: dict[str, list[str]] = {}
    for day in days:
        folder = work / "csv" / day["name"]
        take_snapshot(sample, folder, parse_as_of(day["as_of"]))
        if day.get("edit") == "old_orders":
            edit_old_orders(folder, day["as_of"])
        before = _files(lake)
        run_ingest(settings, folder)
        run_export(settings)
        added[day["name"]] = sorted(_files(lake) - before)
    manifest.write_text(json.dumps(added, indent=1))


def _files(lake: Path) -> set[str]:
    if not lake.exists():
        return set()
    return {str(path.relative_to(lake)) for path in lake.rglob("*") if path.is_file()}


def edit_old_orders(folder: Path, as_of: str) -> None:
    """Change orders placed more than OLD_ORDER_AGE_DAYS before `as_of`, and nothing else, so
    that every kind of group an order belongs to moves or changes (see helpers.replay)."""
    from datetime import date, timedelta

    from olist.snapshot.olist_csv import OlistCsv, format_record

    old_before = (date.fromisoformat(as_of[:10]) - timedelta(days=OLD_ORDER_AGE_DAYS)).isoformat()

    def read(name: str) -> tuple[OlistCsv, list[list[str]]]:
        source = OlistCsv.open(folder / name)
        return source, [row.fields for row in source.rows() if row.fields]

    def write(source: OlistCsv, rows: list[list[str]]) -> None:
        body = b"".join(format_record(fields) + source.line_break for fields in rows)
        source.path.write_bytes(source.header_line + body)

    orders_csv, orders = read("olist_orders_dataset.csv")
    o = {name: orders_csv.index(name) for name in orders_csv.columns}
    old = sorted(
        (row for row in orders if row[o["order_purchase_timestamp"]] < old_before),
        key=lambda row: row[o["order_id"]],
    )
    by_day: dict[str, list[list[str]]] = {}
    for row in orders:
        by_day.setdefault(row[o["order_purchase_timestamp"]][:10], []).append(row)
    customers_csv, customers = read("olist_customers_dataset.csv")
    c = {name: customers_csv.index(name) for name in customers_csv.columns}
    person_of = {row[c["customer_id"]]: row[c["customer_unique_id"]] for row in customers}

    def person(order: list[str]) -> str:  # as fct_orders: no customer record, its own person
        return person_of.get(order[o["customer_id"]], order[o["customer_id"]])

    orders_of_person: dict[str, int] = {}
    for row in orders:
        orders_of_person[person(row)] = orders_of_person.get(person(row), 0) + 1

    # 1. An old order alone on its purchase day moves to another day: that day is left empty.
    lonely = next(row for row in old if len(by_day[row[o["order_purchase_timestamp"]][:10]]) == 1)
    busy_day = max(by_day, key=lambda day: (len(by_day[day]) if day < old_before else 0, day))
    lonely[o["order_purchase_timestamp"]] = busy_day + lonely[o["order_purchase_timestamp"]][10:]
    # 2. An old order of a one-order person goes to another old order's customer record: the
    #    first person is left with no order.
    movers = [row for row in old if row is not lonely and orders_of_person[person(row)] == 1]
    movers[0][o["customer_id"]] = movers[1][o["customer_id"]]
    # 3. Three old delivered orders are canceled after all (revenue, days, months, cohorts).
    canceled = [row for row in old if row[o["order_status"]] == "delivered"][5:8]
    for row in canceled:
        row[o["order_status"]] = "canceled"
    write(orders_csv, orders)
    changed_orders = {row[o["order_id"]] for row in [lonely, movers[0], *canceled]}

    # 4. An item of another old order is sold by another seller and is another product.
    items_csv, items = read("olist_order_items_dataset.csv")
    i = {name: items_csv.index(name) for name in items_csv.columns}
    old_ids = {row[o["order_id"]] for row in old}
    old_items = [row for row in items if row[i["order_id"]] in old_ids - changed_orders]
    old_items[0][i["seller_id"]] = old_items[1][i["seller_id"]]
    old_items[0][i["product_id"]] = old_items[1][i["product_id"]]
    write(items_csv, items)

    # 5. The payment of another old order is re-classified.
    payments_csv, payments = read("olist_order_payments_dataset.csv")
    p = {name: payments_csv.index(name) for name in payments_csv.columns}
    paid = next(
        row
        for row in payments
        if row[p["order_id"]] in old_ids - changed_orders and row[p["payment_type"]] == "boleto"
    )
    paid[p["payment_type"]] = "voucher"
    write(payments_csv, payments)

    # 6. The review of another old order is answered again, long after (a new score).
    reviews_csv, reviews = read("olist_order_reviews_dataset.csv")
    r = {name: reviews_csv.index(name) for name in reviews_csv.columns}
    review = next(row for row in reviews if row[r["order_id"]] in old_ids - changed_orders)
    review[r["review_score"]] = "1" if review[r["review_score"]] != "1" else "5"
    review[r["review_answer_timestamp"]] = as_of[:10] + " 12:00:00"
    write(reviews_csv, reviews)

    # 7. A product sold in an old order changes category.
    products_csv, products = read("olist_products_dataset.csv")
    q = {name: products_csv.index(name) for name in products_csv.columns}
    sold = old_items[2][i["product_id"]]
    product = next(row for row in products if row[q["product_id"]] == sold)
    categories = sorted({row[q["product_category_name"]] for row in products} - {""})
    product[q["product_category_name"]] = next(
        name for name in categories if name != product[q["product_category_name"]]
    )
    write(products_csv, products)


def replay_into_warehouse(source: Path, steps: list[dict], results: Path) -> None:
    from olist.warehouse.build import build_warehouse

    settings = load_settings()  # the gateway's OLIST_* environment (no .env in the cwd)
    put = _uploader(settings)
    done = []
    for step in steps:
        for relative in step["files"]:
            put(source / relative, relative)
        outcome = build_warehouse()
        done.append(
            {
                "name": step["name"],
                "action": outcome.action,
                "rows": {name: model.rows for name, model in outcome.models.items()},
                "rows_in": {name: model.rows_in for name, model in outcome.models.items()},
                "rows_written": {
                    name: model.rows_written for name, model in outcome.models.items()
                },
            }
        )
    results.write_text(json.dumps(done, indent=1))


def _uploader(settings: Settings):
    """A function putting one file at a relative path of the lake (a folder, or S3)."""
    if settings.s3 is None:
        lake = Path(settings.lake_url)

        def copy(path: Path, relative: str) -> None:
            target = lake / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)

        return copy
    import s3fs

    s3 = settings.s3
    fs = s3fs.S3FileSystem(
        key=s3.access_key_id,
        secret=s3.secret_access_key,
        client_kwargs={"endpoint_url": s3.endpoint_url, "region_name": s3.region},
    )
    prefix = settings.lake_url.removeprefix("s3://").rstrip("/")

    def upload(path: Path, relative: str) -> None:
        fs.put_file(str(path), f"{prefix}/{relative}")

    return upload


def main(argv: list[str]) -> int:
    command, *args = argv
    if command == "lake":
        sample, work, days, manifest = args
        build_lake(Path(sample), Path(work), json.loads(Path(days).read_text()), Path(manifest))
    elif command == "warehouse":
        source, steps, results = args
        replay_into_warehouse(Path(source), json.loads(Path(steps).read_text()), Path(results))
    else:
        raise SystemExit(f"unknown command {command!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
