"""The data quality page: rows per layer and table, quarantined rows, audits, freshness.

- Bronze rows are counted in the staging database (`raw.<table>`), silver and gold in the
  warehouse; quarantined rows are `raw.rejected_rows`, by table and reason.
- Audits: a warehouse update stops at the first failed audit and then does not record its row
  counts (`_olist.row_counts`, olist/warehouse/row_counts.py). So when the recorded counts are of
  the ledger's latest batch, every audit of every model passed at that update; otherwise the last
  update did not finish and the page says so.
- Freshness: the latest purchase in `marts.fct_orders`, and per lake table the latest staging
  load (`_dlt_load_id`, a Unix time) and lake export that reached the warehouse.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd

from ingest.ingest_pipeline import REJECTED_TABLE
from ingest.staging_reader import staging_reader
from ingest.tables import TABLES
from olist.config import Settings
from olist.site.catalog import LAYER_NAMES, ModelDoc
from olist.warehouse.row_counts import LEDGER, STAGING_MODELS, ledger_batch, recorded

Fetch = Callable[[str], pd.DataFrame]


@dataclass(frozen=True)
class TableRows:
    layer: str  # bronze, silver or gold
    table: str
    rows: int


@dataclass(frozen=True)
class Rejections:
    table: str
    reason: str
    rows: int


@dataclass(frozen=True)
class Freshness:
    table: str
    latest_load: datetime | None  # the latest staging load whose rows reached the warehouse
    latest_export: datetime | None  # the latest lake export the warehouse took in


@dataclass(frozen=True)
class Quality:
    rows: list[TableRows]
    rejections: list[Rejections]
    audits_passed: bool  # every audit passed at the last update, which finished
    audit_count: int
    latest_purchase: datetime | None
    freshness: list[Freshness]


def _load_time(load_id: str | None) -> datetime | None:
    """dlt's load ids are Unix times, in seconds with a fraction (None: an empty table)."""
    return (
        None if load_id is None or pd.isna(load_id) else datetime.fromtimestamp(float(load_id), UTC)
    )


def _bronze(settings: Settings) -> tuple[list[TableRows], list[Rejections]]:
    reader = staging_reader(settings)
    counts = reader.row_counts([table.name for table in TABLES] + [REJECTED_TABLE])
    rows = [
        TableRows("bronze", f"raw.{table.name}", counts[table.name])
        for table in TABLES
        if table.name in counts
    ]
    reasons: Counter[tuple[str, str]] = Counter()
    if counts.get(REJECTED_TABLE):
        for batch in reader.read(REJECTED_TABLE, columns=("table_name", "reason")):
            reasons.update(zip(*batch.to_pydict().values(), strict=True))
    return rows, [Rejections(t, r, n) for (t, r), n in sorted(reasons.items())]


def data_quality(settings: Settings, adapter, fetch: Fetch, docs: list[ModelDoc]) -> Quality:
    """Everything the quality page shows; `adapter` is the warehouse's SQLMesh engine adapter."""
    bronze, rejections = _bronze(settings)
    counts = fetch(
        " UNION ALL ".join(
            f"SELECT '{doc.name}' AS model, count(*) AS row_count FROM {doc.name}" for doc in docs
        )
    )
    by_model = dict(zip(counts.model, counts.row_count, strict=True))
    rows = bronze + [
        TableRows(LAYER_NAMES[doc.schema], doc.name, int(by_model[doc.name])) for doc in docs
    ]
    last = recorded(adapter)
    purchase = fetch("SELECT max(order_purchased_at) AS latest FROM marts.fct_orders").latest[0]
    exports = fetch(
        f"SELECT lake_table, max(lake_load_id) AS latest FROM {LEDGER} GROUP BY lake_table"
    )
    latest_export = dict(zip(exports.lake_table, exports.latest, strict=True))
    loads = fetch(
        " UNION ALL ".join(
            f"SELECT '{table}' AS lake_table, max(_dlt_load_id) AS latest "
            f"FROM staging.{model}_versions"
            for table, model in STAGING_MODELS.items()
        )
    )
    latest_load = dict(zip(loads.lake_table, loads.latest, strict=True))
    return Quality(
        rows=rows,
        rejections=rejections,
        audits_passed=last is not None and last.batch == ledger_batch(adapter),
        audit_count=sum(len(doc.audits) for doc in docs),
        latest_purchase=None if pd.isna(purchase) else purchase.to_pydatetime(),
        freshness=[
            Freshness(
                table,
                _load_time(latest_load.get(table)),
                _load_time(latest_export.get(table)),
            )
            for table in STAGING_MODELS
        ],
    )
