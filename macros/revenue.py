"""Revenue, defined once: the macros every mart uses to count money as revenue.

Revenue is what the customer was charged for the goods and their delivery: item price plus
freight value, in BRL. Orders that never became a sale count for nothing: status `canceled`
(cancelled by the customer or Olist) and `unavailable` (the product could not be supplied).
Every other status counts, including orders still on their way (`created`, `approved`,
`invoiced`, `processing`, `shipped`), because the sale has been made.

Payments are deliberately not the measure: they are how the amount was paid (vouchers,
several cards) and differ from price + freight for a few orders (installment interest, partial
vouchers); the marts report them separately as `payment_value`.
"""

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator

STATUSES_WITHOUT_REVENUE = ("canceled", "unavailable")


def _counts_toward_revenue(order_status: exp.Expression) -> exp.Expression:
    excluded = [exp.Literal.string(status) for status in STATUSES_WITHOUT_REVENUE]
    return exp.not_(exp.In(this=order_status, expressions=excluded))


@macro()
def is_revenue_order(evaluator: MacroEvaluator, order_status: exp.Expression) -> exp.Expression:
    """TRUE when an order with this status counts toward revenue (not canceled, not unavailable)."""
    return _counts_toward_revenue(order_status)


@macro()
def revenue(
    evaluator: MacroEvaluator,
    order_status: exp.Expression,
    price: exp.Expression,
    freight_value: exp.Expression,
) -> exp.Expression:
    """Revenue of an order or an item: price + freight_value when its order counts, else 0."""
    counted = (
        exp.case()
        .when(_counts_toward_revenue(order_status), price + freight_value)
        .else_(exp.Literal.number(0))
    )
    return exp.cast(counted, exp.DataType.build("DECIMAL(12, 2)"))
