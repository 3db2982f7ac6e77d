"""What the real Olist data looks like, as numbers the generator draws from.

Sizes, monthly order counts and status counts are the full dataset's published profile (see
`../shared/data/olist/SOURCE.md` in the development workspace); shares and quantiles were measured
on the real sample of 20,864 orders. `tests/test_generate_calibration.py` compares generated data
with that sample, so a change here that drifts from reality fails a test.

Durations are log-normal unless said otherwise: a median and a spread `sigma` of the logarithm
(p90 = median * exp(1.28 * sigma)).
"""

from __future__ import annotations

from dataclasses import dataclass

# --- sizes at scale factor 1 (the real row counts) -------------------------------------------
ORDERS = 99_441
PRODUCTS = 32_951
SELLERS = 3_095
GEOLOCATION_ROWS = 1_000_163
GEOLOCATION_ZIPS = 19_015
# Catalogue and geography grow slower than orders: ten times the orders do not need ten times the
# sellers, and Brazil does not get ten times the zip codes. rows = size_at_sf1 * sf ** exponent.
CATALOG_GROWTH = 0.8
GEOGRAPHY_GROWTH = 0.5
ZIP_PREFIXES_IN_BRAZIL = 99_000  # 01000..99999: the geography cannot grow past it

# --- orders over time ---------------------------------------------------------------------------
FIRST_MONTH = "2016-09"
# Orders purchased per month, 2016-09 .. 2018-10 (the real data has a gap in 2016-11).
MONTHLY_ORDERS = (
    4, 324, 0, 1,
    800, 1780, 2682, 2404, 3700, 3245, 4026, 4331, 4285, 4631, 7544, 5673,
    7269, 6728, 7211, 6939, 6873, 6167, 6292, 6512, 16, 4,
)  # fmt: skip
# Purchases per hour of the day (sample counts): quiet at night, busy from 10:00 to 22:00.
HOURLY_ORDERS = (
    517, 232, 104, 61, 42, 42, 118, 258, 618, 1012, 1237, 1438,
    1234, 1382, 1329, 1392, 1392, 1264, 1190, 1222, 1367, 1339, 1216, 858,
)  # fmt: skip

# Final status of orders (full data counts).
STATUS_COUNTS = {
    "delivered": 96_478,
    "shipped": 1_107,
    "canceled": 625,
    "unavailable": 609,
    "invoiced": 314,
    "processing": 301,
    "created": 5,
    "approved": 2,
}
RARE_STATUS_COUNT = 10  # statuses rarer than this (created, approved) are placed by quota
# A person (customer_unique_id) buying again: 99,441 orders for 96,096 people.
REPEAT_ORDER_SHARE = 1 - 96_096 / 99_441


@dataclass(frozen=True)
class LogNormal:
    median: float
    sigma: float


APPROVAL_FAST_SHARE = 0.6  # approved automatically within minutes (card payments)
APPROVAL_FAST_HOURS = LogNormal(0.25, 0.5)
APPROVAL_SLOW_HOURS = LogNormal(20, 0.8)  # boleto and manual checks: about a day
CARRIER_DAYS_AFTER_APPROVAL = LogNormal(1.8, 1.0)
DELIVERY_DAYS_AFTER_CARRIER = LogNormal(7.0, 0.8)
# The estimated delivery date (midnight) is the purchase date plus a share of the order's planned
# transit time plus a safety margin: fitted so that days-early quantiles and the late share (8%)
# match the real data.
ESTIMATE_TRANSIT_WEIGHT = 0.5
ESTIMATE_MARGIN_DAYS_MEAN = 18.0
ESTIMATE_MARGIN_DAYS_SD = 6.0
SHIPPING_LIMIT_DAYS = LogNormal(6.0, 0.43)  # seller's deadline to hand over, after approval

# Timestamps missing although the status says the event happened (real rates).
CANCELED_NEVER_APPROVED = 0.22
CANCELED_SHIPPED = 0.11  # canceled after the carrier took it
DELIVERED_NEVER_APPROVED = 14 / 96_478
DELIVERED_WITHOUT_DELIVERY_DATE = 8 / 96_478
CARRIER_BEFORE_APPROVAL = 0.014  # carrier date earlier than approval (a real data error)

# --- items --------------------------------------------------------------------------------------
# Items per order among orders that have items (sample).
ITEMS_PER_ORDER = {
    1: 18649, 2: 1575, 3: 284, 4: 97, 5: 43, 6: 51, 7: 3, 10: 1, 11: 2, 12: 3, 21: 1,
}  # fmt: skip
SINGLE_PRODUCT_SHARE = 0.7  # a multi-item order is often several units of one product
# Share of orders with no items at all, by status (sample: 118/121 unavailable, 36/146 canceled).
NO_ITEMS_SHARE = {"unavailable": 0.975, "canceled": 0.25, "invoiced": 0.016}
PRICE = LogNormal(75.0, 0.95)  # BRL
PRICE_RANGE = (0.85, 6735.00)
FREIGHT_CORE = LogNormal(16.0, 0.3)
FREIGHT_TAIL = LogNormal(22.0, 0.85)
FREIGHT_TAIL_SHARE = 0.3
FREIGHT_RANGE = (0.0, 409.68)
FREE_FREIGHT_SHARE = 0.0033
SHIPPING_LIMIT_OUTLIERS = 1 / 99_441  # a limit a year and more ahead (data entry errors)

# --- payments -----------------------------------------------------------------------------------
# The main way an order is paid (sample, per order).
PAYMENT_METHOD_SHARES = {
    "credit_card": 0.766,
    "boleto": 0.197,
    "debit_card": 0.016,
    "voucher": 0.017,
}
VOUCHERS_WITH_CARD_SHARE = 0.031  # card orders that also use one or more vouchers
TWO_CARDS_SHARE = 0.004
EXTRA_VOUCHERS_MEAN = 0.45  # vouchers beyond the first (Poisson)
ORDERS_WITHOUT_PAYMENT = 1 / 99_441
NOT_DEFINED_PAYMENTS = 3 / 99_441  # canceled orders paid 0.00 with type not_defined
# Credit card installments (sample counts); other methods pay in one installment.
CARD_INSTALLMENTS = {
    0: 1, 1: 5518, 2: 2557, 3: 2180, 4: 1443, 5: 1100, 6: 791, 7: 328, 8: 883, 9: 142,
    10: 1103, 11: 2, 12: 35, 13: 6, 14: 3, 15: 14, 16: 1, 17: 2, 18: 4, 20: 1, 22: 1, 23: 1, 24: 3,
}  # fmt: skip

# --- reviews ------------------------------------------------------------------------------------
# Review score shares by how delivery went (sample); they mix to the real overall shares.
SCORES_ON_TIME = (0.066, 0.027, 0.082, 0.203, 0.622)
SCORES_LATE = (0.458, 0.077, 0.118, 0.134, 0.213)
SCORES_NOT_DELIVERED = (0.70, 0.07, 0.09, 0.05, 0.09)
NO_REVIEW_SHARE = {"delivered": 0.0066}
NO_REVIEW_SHARE_OTHERWISE = 0.09  # undelivered orders are reviewed less
SHARED_REVIEW_SHARE = 0.0082  # a review_id repeated on another order (one review, two orders)
SECOND_REVIEW_SHARE = 0.0055  # an order reviewed twice
REVIEW_ANSWER_DAYS = LogNormal(1.67, 0.9)
TITLE_SHARE = 0.115
MESSAGE_SHARE = 0.414

# --- catalogue ----------------------------------------------------------------------------------
PRODUCT_NAME_LENGTH = (50.0, 10.0, 5, 76)  # normal mean, sd, clipped to min, max
PRODUCT_DESCRIPTION_LENGTH = LogNormal(600, 0.75)
PRODUCT_WEIGHT_G = LogNormal(700, 1.7)
PRODUCT_LENGTH_CM = LogNormal(25, 0.59)
PRODUCT_HEIGHT_CM = LogNormal(13, 0.73)
PRODUCT_WIDTH_CM = LogNormal(20, 0.54)
UNCATEGORISED_PRODUCTS = 610 / 32_951  # no category, name or description length, photos
UNMEASURED_PRODUCTS = 2 / 32_951  # no weight or dimensions
PRODUCT_POPULARITY_SIGMA = 1.2  # log-normal weights: most products sell once, a few hundreds
SELLER_POPULARITY_SIGMA = 1.5
MESSY_SELLER_CITIES = 23 / 3_095  # `sp / sp`, accents, capitals, an e-mail for a city...

# --- geolocation --------------------------------------------------------------------------------
GEOLOCATION_DUPLICATE_SHARE = 261_831 / 1_000_163  # rows repeating another row exactly
ACCENTED_CITY_SHARE = 0.05
ZIP_SPREAD_DEGREES = 0.08  # how far a zip area's centre lies from its city's centre
POINT_SPREAD_DEGREES = 0.01  # how far addresses lie from their zip area's centre
