"""Orders and the rows that hang off them: customers, items, payments and reviews.

Orders are drawn in chunks of `CHUNK_ORDERS`; each chunk has its own random stream, so memory stays
bounded at any scale and a chunk's rows do not depend on the chunks before it. A chunk draws its
orders' timelines first (purchase → approval → carrier → delivery, consistent with the status) and
then everything that depends on them. Rare quirks of the real data that must appear in any data
set (an order with no payment, shipping deadlines years ahead) are handed out by quota
(`rare_quota`) rather than by chance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from olist.synthetic import profile
from olist.synthetic.catalog import Catalog
from olist.synthetic.draw import (
    DAY,
    HOUR,
    NULL_TIME,
    format_cents,
    format_ints,
    format_times,
    from_counts,
    from_shares,
    hex_ids,
    lognormal,
    midnight,
    rng_for,
)
from olist.synthetic.places import CITY_NAMES, STATE_CODES, Places
from olist.synthetic.vocabulary import (
    NEGATIVE_MESSAGES,
    NEGATIVE_TITLES,
    NEUTRAL_MESSAGES,
    NEUTRAL_TITLES,
    POSITIVE_MESSAGES,
    POSITIVE_TITLES,
)

CHUNK_ORDERS = 20_000
Rows = dict[str, list[str]]


@dataclass(frozen=True)
class ChunkPlan:
    index: int
    count: int  # orders in this chunk
    chunks: int
    total_orders: int

    def rare_quota(self, rate: float) -> int:
        """This chunk's part of max(1, rate * total) quirk rows: exact overall, at least one."""
        total = max(1, round(rate * self.total_orders))
        return (self.index + 1) * total // self.chunks - self.index * total // self.chunks


@dataclass(frozen=True)
class Timeline:
    status: np.ndarray
    purchased: np.ndarray  # seconds; NULL_TIME where the event has not happened
    approved: np.ndarray
    carrier: np.ndarray
    delivered: np.ndarray
    estimated: np.ndarray

    @property
    def handled_from(self) -> np.ndarray:
        """When the seller's clock starts: approval, or purchase when never approved."""
        return np.where(self.approved == NULL_TIME, self.purchased, self.approved)


def order_chunk(
    plan: ChunkPlan,
    catalog: Catalog,
    places: Places,
    customer_areas: Callable[[np.random.Generator, int], np.ndarray],
    seed: int,
) -> dict[str, Rows]:
    """The chunk's rows for the five order-related files, keyed by table name."""
    rng = rng_for(seed, 10, plan.index)
    order_ids = np.array(hex_ids(rng, plan.count))
    customer_ids = hex_ids(rng, plan.count)
    timeline = _timeline(rng, plan)
    items, order_value = _items(rng, plan, timeline, catalog, order_ids)
    return {
        "orders": {
            "order_id": order_ids.tolist(),
            "customer_id": customer_ids,
            "order_status": timeline.status.tolist(),
            "order_purchase_timestamp": format_times(timeline.purchased),
            "order_approved_at": format_times(timeline.approved),
            "order_delivered_carrier_date": format_times(timeline.carrier),
            "order_delivered_customer_date": format_times(timeline.delivered),
            "order_estimated_delivery_date": format_times(timeline.estimated),
        },
        "customers": _customers(rng, places, customer_areas, customer_ids),
        "order_items": items,
        "order_payments": _payments(rng, plan, timeline, order_ids, order_value),
        "order_reviews": _reviews(rng, timeline, order_ids),
    }


def _purchase_times(rng: np.random.Generator, count: int) -> np.ndarray:
    months = np.datetime64(profile.FIRST_MONTH, "M") + np.arange(len(profile.MONTHLY_ORDERS) + 1)
    starts = months.astype("datetime64[s]").astype(np.int64)
    month = from_shares(rng, profile.MONTHLY_ORDERS, count)
    days = (starts[month + 1] - starts[month]) // DAY
    day = np.floor(rng.random(count) * days).astype(np.int64)
    hour = from_shares(rng, profile.HOURLY_ORDERS, count)
    return starts[month] + day * DAY + hour * HOUR + rng.integers(0, HOUR, count)


def _statuses(rng: np.random.Generator, plan: ChunkPlan) -> np.ndarray:
    """Final statuses by their real shares; the rarest ones (a handful in the real data) by quota
    so that every data set shows the whole mix."""
    rare = {s: n for s, n in profile.STATUS_COUNTS.items() if n < profile.RARE_STATUS_COUNT}
    common = {s: n for s, n in profile.STATUS_COUNTS.items() if s not in rare}
    status = from_counts(rng, common, plan.count).astype(object)
    quotas = [(s, plan.rare_quota(n / profile.ORDERS)) for s, n in rare.items()]
    chosen = rng.choice(plan.count, size=min(plan.count, sum(q for _, q in quotas)), replace=False)
    status[chosen] = np.repeat([s for s, _ in quotas], [q for _, q in quotas])[: len(chosen)]
    return status


def _timeline(rng: np.random.Generator, plan: ChunkPlan) -> Timeline:
    count = plan.count
    status = _statuses(rng, plan)
    purchased = _purchase_times(rng, count)
    chance = rng.random((4, count))  # one independent uniform per decision below

    fast = chance[0] < profile.APPROVAL_FAST_SHARE
    approval_hours = np.where(
        fast,
        lognormal(rng, profile.APPROVAL_FAST_HOURS, count),
        lognormal(rng, profile.APPROVAL_SLOW_HOURS, count),
    )
    canceled, delivered_status = status == "canceled", status == "delivered"
    never_approved = (
        (status == "created")
        | (canceled & (chance[1] < profile.CANCELED_NEVER_APPROVED))
        | (delivered_status & (chance[1] < profile.DELIVERED_NEVER_APPROVED))
    )
    approved = purchased + (approval_hours * HOUR).astype(np.int64)
    approved = np.where(never_approved, NULL_TIME, approved)

    reached_carrier = (
        delivered_status
        | (status == "shipped")
        | (canceled & (chance[2] < profile.CANCELED_SHIPPED))
    )
    handled_from = np.where(never_approved, purchased, approved)
    carrier_days = lognormal(rng, profile.CARRIER_DAYS_AFTER_APPROVAL, count)
    carrier = handled_from + (carrier_days * DAY).astype(np.int64)
    # The real data's carrier dates are sometimes hours before the approval.
    early = (chance[3] < profile.CARRIER_BEFORE_APPROVAL) & ~never_approved
    early_by = (lognormal(rng, profile.APPROVAL_FAST_HOURS, count) * 16 * HOUR).astype(np.int64)
    carrier = np.where(early, approved - early_by, carrier)
    carrier = np.where(reached_carrier, carrier, NULL_TIME)

    delivery_days = lognormal(rng, profile.DELIVERY_DAYS_AFTER_CARRIER, count)
    delivered = carrier + (delivery_days * DAY).astype(np.int64)
    has_delivery = delivered_status & (rng.random(count) >= profile.DELIVERED_WITHOUT_DELIVERY_DATE)
    delivered = np.where(has_delivery, np.maximum(delivered, purchased + HOUR), NULL_TIME)

    # Every order gets an estimate at purchase, from the transit time it is planned to take.
    transit_days = approval_hours / 24 + carrier_days + delivery_days
    margin = rng.normal(profile.ESTIMATE_MARGIN_DAYS_MEAN, profile.ESTIMATE_MARGIN_DAYS_SD, count)
    estimate_days = np.round(profile.ESTIMATE_TRANSIT_WEIGHT * transit_days + margin)
    estimated = midnight(purchased) + estimate_days.clip(2, 150).astype(np.int64) * DAY
    return Timeline(status, purchased, approved, carrier, delivered, estimated)


def _customers(
    rng: np.random.Generator,
    places: Places,
    customer_areas: Callable[[np.random.Generator, int], np.ndarray],
    customer_ids: list[str],
) -> Rows:
    """One customer row per order; a repeat buyer keeps their person id and address."""
    count = len(customer_ids)
    person = np.array(hex_ids(rng, count))
    area = customer_areas(rng, count)
    repeat = rng.random(count) < profile.REPEAT_ORDER_SHARE
    first_timers = np.flatnonzero(~repeat)
    earlier = first_timers[rng.integers(0, len(first_timers), int(repeat.sum()))]
    person[repeat], area[repeat] = person[earlier], area[earlier]
    return {
        "customer_id": customer_ids,
        "customer_unique_id": person.tolist(),
        "customer_zip_code_prefix": places.zip_text(area),
        "customer_city": CITY_NAMES[places.city[area]].tolist(),
        "customer_state": STATE_CODES[places.state[area]].tolist(),
    }


def _items(
    rng: np.random.Generator,
    plan: ChunkPlan,
    timeline: Timeline,
    catalog: Catalog,
    order_ids: np.ndarray,
) -> tuple[Rows, np.ndarray]:
    """Order items, and each order's value (price + freight, cents; 0 for orders without items)."""
    count = plan.count
    no_items = np.zeros(count, dtype=bool)
    for status, share in profile.NO_ITEMS_SHARE.items():
        no_items |= (timeline.status == status) & (rng.random(count) < share)
    items = np.where(no_items, 0, from_counts(rng, profile.ITEMS_PER_ORDER, count))
    # Distinct products per order: usually one (several units of it), else 2..items.
    several = rng.integers(2, np.maximum(items, 2) + 1)
    single = (items <= 1) | (rng.random(count) < profile.SINGLE_PRODUCT_SHARE)
    distinct = np.where(items == 0, 0, np.where(single, 1, several))

    picks = rng.choice(
        len(catalog.product_ids), size=int(distinct.sum()), p=catalog.product_popularity
    )
    must_sell = catalog.products_for_chunk(plan.index, plan.chunks)[: len(picks)]
    picks[rng.choice(len(picks), size=len(must_sell), replace=False)] = must_sell
    core = lognormal(rng, profile.FREIGHT_CORE, len(picks))
    tail = lognormal(rng, profile.FREIGHT_TAIL, len(picks))
    freight = np.where(rng.random(len(picks)) < profile.FREIGHT_TAIL_SHARE, tail, core)
    freight = np.where(rng.random(len(picks)) < profile.FREE_FREIGHT_SHARE, 0, freight)
    pick_freight = np.round(freight.clip(*profile.FREIGHT_RANGE) * 100).astype(np.int64)

    item_order = np.repeat(np.arange(count), items)
    position = np.arange(len(item_order)) - np.repeat(np.cumsum(items) - items, items)
    pick = np.repeat(np.cumsum(distinct) - distinct, items) + position % np.repeat(distinct, items)
    product = picks[pick]
    price = catalog.product_price[product]
    freight_cents = pick_freight[pick]

    limit_days = lognormal(rng, profile.SHIPPING_LIMIT_DAYS, len(item_order))
    limit = timeline.handled_from[item_order] + (limit_days * DAY).astype(np.int64)
    outliers = rng.choice(
        len(limit),
        size=min(len(limit), plan.rare_quota(profile.SHIPPING_LIMIT_OUTLIERS)),
        replace=False,
    )
    limit[outliers] += rng.integers(365, 600, len(outliers)) * DAY

    rows = {
        "order_id": order_ids[item_order].tolist(),
        "order_item_id": format_ints(position + 1),
        "product_id": [catalog.product_ids[p] for p in product.tolist()],
        "seller_id": [catalog.seller_ids[s] for s in catalog.product_seller[product].tolist()],
        "shipping_limit_date": format_times(limit),
        "price": format_cents(price),
        "freight_value": format_cents(freight_cents),
    }
    value = np.bincount(item_order, weights=price + freight_cents, minlength=count)
    return rows, np.round(value).astype(np.int64)


def _payments(
    rng: np.random.Generator,
    plan: ChunkPlan,
    timeline: Timeline,
    order_ids: np.ndarray,
    order_value: np.ndarray,
) -> Rows:
    """Payment rows: mostly one per order; vouchers and split cards add rows sharing its value."""
    count = plan.count
    methods = np.array(list(profile.PAYMENT_METHOD_SHARES))
    method = methods[from_shares(rng, list(profile.PAYMENT_METHOD_SHARES.values()), count)]
    # Orders without items (unavailable, canceled) were still paid for.
    value = np.where(
        order_value > 0, order_value, np.round(lognormal(rng, profile.PRICE, count) * 100)
    ).astype(np.int64)
    canceled = np.flatnonzero(timeline.status == "canceled")
    undefined = rng.choice(
        canceled,
        size=min(len(canceled), rng.poisson(profile.NOT_DEFINED_PAYMENTS * count)),
        replace=False,
    )
    method[undefined], value[undefined] = "not_defined", 0

    card = method == "credit_card"
    with_vouchers = card & (rng.random(count) < profile.VOUCHERS_WITH_CARD_SHARE)
    two_cards = card & ~with_vouchers & (rng.random(count) < profile.TWO_CARDS_SHARE)
    extra = rng.poisson(profile.EXTRA_VOUCHERS_MEAN, count)
    rows = (
        1
        + np.where(with_vouchers, 1 + extra, 0)
        + two_cards
        + np.where(method == "voucher", extra, 0)
    )
    unpaid = rng.choice(
        count, size=min(count, plan.rare_quota(profile.ORDERS_WITHOUT_PAYMENT)), replace=False
    )
    rows[unpaid] = 0

    payer = np.repeat(np.arange(count), rows)
    first = np.cumsum(rows) - rows
    sequence = np.arange(len(payer)) - first[payer]
    last = sequence == rows[payer] - 1
    kind = method[payer]
    kind = np.where(with_vouchers[payer] & ~last, "voucher", kind)
    # Split the value: random shares, cents floored, the last row takes the remainder.
    weight = rng.random(len(payer)) + 0.2
    share = weight / np.bincount(payer, weights=weight, minlength=count)[payer]
    cents = np.floor(value[payer] * share).astype(np.int64)
    paid = np.bincount(payer, weights=cents, minlength=count).astype(np.int64)
    cents[last] += (value - paid)[rows > 0]
    installments = np.where(
        kind == "credit_card", from_counts(rng, profile.CARD_INSTALLMENTS, len(payer)), 1
    )
    return {
        "order_id": order_ids[payer].tolist(),
        "payment_sequential": format_ints(sequence + 1),
        "payment_type": kind.tolist(),
        "payment_installments": format_ints(installments),
        "payment_value": format_cents(cents),
    }


_TITLES = (NEGATIVE_TITLES, NEUTRAL_TITLES, POSITIVE_TITLES)
_MESSAGES = (NEGATIVE_MESSAGES, NEUTRAL_MESSAGES, POSITIVE_MESSAGES)


def _texts(
    rng: np.random.Generator, sentiment: np.ndarray, present_share: float, pools
) -> list[str]:
    """A text from the pool matching each review's sentiment, or '' (null) for most reviews."""
    present = rng.random(len(sentiment)) < present_share
    pick = rng.random(len(sentiment))
    return [
        pools[s][int(p * len(pools[s]))] if keep else ""
        for s, p, keep in zip(sentiment.tolist(), pick.tolist(), present.tolist(), strict=True)
    ]


def _reviews(rng: np.random.Generator, timeline: Timeline, order_ids: np.ndarray) -> Rows:
    """Reviews: one per order mostly, some none, some two; a few orders share one review."""
    count = len(order_ids)
    delivered = timeline.delivered != NULL_TIME
    late = delivered & (timeline.delivered > timeline.estimated)
    score = np.empty(count, dtype=np.int64)
    for mask, shares in (
        (delivered & ~late, profile.SCORES_ON_TIME),
        (late, profile.SCORES_LATE),
        (~delivered, profile.SCORES_NOT_DELIVERED),
    ):
        score[mask] = 1 + from_shares(rng, shares, int(mask.sum()))
    created = np.where(
        delivered, midnight(timeline.delivered) + DAY, midnight(timeline.estimated) + 2 * DAY
    )
    answer_days = lognormal(rng, profile.REVIEW_ANSWER_DAYS, count)
    answered = created + (answer_days * DAY).astype(np.int64)
    review = _review_columns(rng, hex_ids(rng, count), score, created, answered)

    no_review_share = np.where(
        timeline.status == "delivered",
        profile.NO_REVIEW_SHARE["delivered"],
        profile.NO_REVIEW_SHARE_OTHERWISE,
    )
    reviewed = np.flatnonzero(rng.random(count) >= no_review_share)
    # The review each reviewed order shows: its own or, for a shared id, the previous order's.
    shown = reviewed.copy()
    shares_previous = rng.random(len(reviewed)) < profile.SHARED_REVIEW_SHARE
    shares_previous[0] = False
    shown[shares_previous] = reviewed[np.flatnonzero(shares_previous) - 1]
    # Orders reviewed twice: a second review, days later, with its own id.
    twice = reviewed[rng.random(len(reviewed)) < profile.SECOND_REVIEW_SHARE]
    later = rng.integers(1, 15, len(twice)) * DAY
    second = _review_columns(
        rng,
        hex_ids(rng, len(twice)),
        1 + from_shares(rng, profile.SCORES_ON_TIME, len(twice)),
        created[twice] + later,
        answered[twice] + later,
    )
    rows = {
        name: [values[i] for i in shown.tolist()] + second[name] for name, values in review.items()
    }
    rows["order_id"] = order_ids[np.concatenate([reviewed, twice])].tolist()
    return rows


def _review_columns(
    rng: np.random.Generator,
    review_ids: list[str],
    score: np.ndarray,
    created: np.ndarray,
    answered: np.ndarray,
) -> Rows:
    sentiment = np.digitize(score, [3, 4])  # 1-2 negative, 3 neutral, 4-5 positive
    return {
        "review_id": review_ids,
        "review_score": format_ints(score),
        "review_comment_title": _texts(rng, sentiment, profile.TITLE_SHARE, _TITLES),
        "review_comment_message": _texts(rng, sentiment, profile.MESSAGE_SHARE, _MESSAGES),
        "review_creation_date": format_times(created),
        "review_answer_timestamp": format_times(answered),
    }
