"""The codes the ingest lets through are the codes the marts' audits accept.

A code only the ingest knows stops the whole warehouse build at the audit; a code only the audit
knows is quarantined at ingest although the warehouse would take it. The two lists live apart
(ingest/tables.py in Python, the audits in the models' SQL), so this keeps them equal.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ingest.tables import ORDER_STATUSES, PAYMENT_TYPES

MODELS = Path(__file__).resolve().parents[2] / "models"


def audited_values(model: str, column: str) -> tuple[str, ...]:
    """The values of the model's `accepted_values` audit on `column`, in order."""
    text = (MODELS / model).read_text()
    pattern = rf'accepted_values\(\s*"column"\s*:=\s*{column},\s*is_in\s*:=\s*\(([^)]*)\)'
    match = re.search(pattern, text)
    assert match, f"{model} has no accepted_values audit on {column}"
    return tuple(re.findall(r"'([^']*)'", match[1]))


@pytest.mark.parametrize(
    ("model", "column", "ingest_accepts"),
    [
        ("marts/fct_orders.sql", "order_status", ORDER_STATUSES),
        ("marts/payment_mix.sql", "payment_type", PAYMENT_TYPES),
    ],
)
def test_ingest_accepts_exactly_the_codes_the_marts_audit_accepts(model, column, ingest_accepts):
    assert sorted(audited_values(model, column)) == sorted(ingest_accepts)
