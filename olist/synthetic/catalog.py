"""Sellers and products: the catalogue every order item points into.

Both are drawn up front (they grow slower than orders, so they fit in memory at any scale).
Like the real files, every seller sells at least one product and every product sells at least once:
the first products are handed out one per seller, and each chunk of orders is given a slice of the
products that it must use at least once (see `Catalog.products_for_chunk`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from olist.synthetic import profile
from olist.synthetic.draw import format_ints, hex_ids, lognormal, rng_for
from olist.synthetic.geography import STATES
from olist.synthetic.places import CITY_ACCENTED, CITY_NAMES, STATE_CODES, Places
from olist.synthetic.vocabulary import CATEGORIES

# How real sellers mistype their city (each appears in the real file); `{c}` is the city,
# `{s}` the state code, `{a}` the accented city.
MESSY_CITY_FORMS = (
    "{s_lower} / {s_lower}",
    "{c} / {s_lower}",
    "{c} - {s_lower}",
    "{c}/{s_lower}",
    "{c} \\{c}",
    "{a}",
    "{c_title}",
    "vendas@{c_compact}.com.br",
)


@dataclass(frozen=True)
class Catalog:
    seller_ids: list[str]
    product_ids: list[str]
    product_seller: np.ndarray  # index into seller_ids
    product_price: np.ndarray  # cents
    product_popularity: np.ndarray  # probabilities summing to 1
    product_category: np.ndarray  # index into CATEGORIES, -1 for none

    def products_for_chunk(self, chunk: int, chunks: int) -> np.ndarray:
        """The products chunk `chunk` of `chunks` must sell at least once."""
        count = len(self.product_ids)
        return np.arange(chunk * count // chunks, (chunk + 1) * count // chunks)


def catalog_size(base: int, scale: float) -> int:
    return max(1, round(base * scale**profile.CATALOG_GROWTH))


def build_catalog(seed: int, scale: float) -> Catalog:
    rng = rng_for(seed, 3)
    sellers = catalog_size(profile.SELLERS, scale)
    products = max(sellers, catalog_size(profile.PRODUCTS, scale))
    seller_popularity = rng.lognormal(0, profile.SELLER_POPULARITY_SIGMA, sellers)
    other_sellers = rng.choice(
        sellers, size=products - sellers, p=seller_popularity / seller_popularity.sum()
    )
    popularity = rng.lognormal(0, profile.PRODUCT_POPULARITY_SIGMA, products)
    weights = np.array([weight for _, _, weight in CATEGORIES], dtype=float)
    category = rng.choice(len(CATEGORIES), size=products, p=weights / weights.sum())
    category[rng.random(products) < profile.UNCATEGORISED_PRODUCTS] = -1
    # Every category (the untranslated ones included) has products, however small the data set.
    category[: len(CATEGORIES)] = np.arange(len(CATEGORIES))[:products]
    price = lognormal(rng, profile.PRICE, products).clip(*profile.PRICE_RANGE)
    return Catalog(
        seller_ids=hex_ids(rng, sellers),
        product_ids=hex_ids(rng, products),
        product_seller=np.concatenate([np.arange(sellers), other_sellers]),
        product_price=np.round(price * 100).astype(np.int64),
        product_popularity=popularity / popularity.sum(),
        product_category=category,
    )


def seller_rows(catalog: Catalog, places: Places, seed: int) -> dict[str, list[str]]:
    rng = rng_for(seed, 4)
    count = len(catalog.seller_ids)
    shares = np.array([state.seller_share for state in STATES])
    area = places.sampler(shares)(rng, count)
    city_index = places.city[area]
    state_codes = STATE_CODES[places.state[area]]
    cities = CITY_NAMES[city_index].tolist()
    # At least one seller per messy form, so even a tiny data set shows every quirk. The accented
    # form needs a city that has accents (são paulo), the others take any seller.
    messy = max(len(MESSY_CITY_FORMS), round(profile.MESSY_SELLER_CITIES * count))
    has_accents = CITY_ACCENTED[city_index] != CITY_NAMES[city_index]
    untouched = np.ones(count, dtype=bool)
    for n in range(min(messy, count)):
        form = MESSY_CITY_FORMS[n % len(MESSY_CITY_FORMS)]
        candidates = np.flatnonzero(untouched & (has_accents if "{a}" in form else True))
        if not len(candidates):
            continue
        seller = int(rng.choice(candidates))
        untouched[seller] = False
        city = cities[seller]
        cities[seller] = form.format(
            c=city,
            a=CITY_ACCENTED[city_index[seller]],
            c_title=city.title(),
            c_compact=city.replace(" ", ""),
            s_lower=state_codes[seller].lower(),
        )
    return {
        "seller_id": catalog.seller_ids,
        "seller_zip_code_prefix": places.zip_text(area),
        "seller_city": cities,
        "seller_state": state_codes.tolist(),
    }


def product_rows(catalog: Catalog, seed: int) -> dict[str, list[str]]:
    rng = rng_for(seed, 5)
    count = len(catalog.product_ids)
    uncategorised = catalog.product_category < 0
    unmeasured = rng.random(count) < profile.UNMEASURED_PRODUCTS
    mean, sd, low, high = profile.PRODUCT_NAME_LENGTH
    name_length = np.round(rng.normal(mean, sd, count)).clip(low, high).astype(int)

    def measure(shape: profile.LogNormal, low: int, high: int) -> list[str]:
        values = np.round(lognormal(rng, shape, count)).clip(low, high).astype(int)
        return format_ints(values, unmeasured)

    names = np.array([name for name, _, _ in CATEGORIES] + [""])  # index -1: no category
    return {
        "product_id": catalog.product_ids,
        "product_category_name": names[catalog.product_category].tolist(),
        "product_name_lenght": format_ints(name_length, uncategorised),
        "product_description_lenght": format_ints(
            np.round(lognormal(rng, profile.PRODUCT_DESCRIPTION_LENGTH, count))
            .clip(4, 3992)
            .astype(int),
            uncategorised,
        ),
        "product_photos_qty": format_ints(rng.geometric(0.5, count).clip(1, 20), uncategorised),
        "product_weight_g": measure(profile.PRODUCT_WEIGHT_G, 0, 40_425),
        "product_length_cm": measure(profile.PRODUCT_LENGTH_CM, 7, 105),
        "product_height_cm": measure(profile.PRODUCT_HEIGHT_CM, 2, 105),
        "product_width_cm": measure(profile.PRODUCT_WIDTH_CM, 6, 118),
    }


def translation_rows() -> dict[str, list[str]]:
    translated = [(pt, en) for pt, en, _ in CATEGORIES if en is not None]
    return {
        "product_category_name": [pt for pt, _ in translated],
        "product_category_name_english": [en for _, en in translated],
    }
