"""Zip code areas and the geolocation file.

A zip area belongs to one city of one state (see `geography.py`); customers and sellers are drawn
from the areas, weighted by their state's share and the area's own popularity. The geolocation file
lists points in each area — about 53 per area, more in busy ones — and, like the real file, repeats
about a quarter of its rows exactly and sometimes spells the city with its accents.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from olist.synthetic import profile
from olist.synthetic.draw import format_floats, rng_for
from olist.synthetic.geography import STATES

STATE_CODES = np.array([state.code for state in STATES])
CITY_NAMES = np.array([city.name for state in STATES for city in state.cities])
CITY_ACCENTED = np.array([city.accented for state in STATES for city in state.cities])
_CITY_LAT = np.array([city.lat for state in STATES for city in state.cities])
_CITY_LNG = np.array([city.lng for state in STATES for city in state.cities])
_FIRST_CITY = np.cumsum([0] + [len(state.cities) for state in STATES])[:-1]

_ZIPS_PER_BLOCK = 2_000  # geolocation is drawn and written this many zip areas at a time


@dataclass(frozen=True)
class Places:
    zips: np.ndarray  # int, sorted ascending
    state: np.ndarray  # index into STATES
    city: np.ndarray  # index into CITY_NAMES
    lat: np.ndarray  # the area's centre
    lng: np.ndarray
    popularity: np.ndarray  # relative weight within its state

    def zip_text(self, picks: np.ndarray) -> list[str]:
        return [f"{z:05d}" for z in self.zips[picks].tolist()]

    def sampler(self, state_shares: np.ndarray) -> Callable[[np.random.Generator, int], np.ndarray]:
        """Draws area indices: a state by its share, then an area of it by popularity."""
        state_weight = state_shares / state_shares.sum()
        totals = np.bincount(self.state, weights=self.popularity, minlength=len(STATES))
        p = state_weight[self.state] * self.popularity / totals[self.state]
        p /= p.sum()
        return lambda rng, size: rng.choice(len(p), size=size, p=p)


def zip_count(scale: float) -> int:
    wanted = round(profile.GEOLOCATION_ZIPS * scale**profile.GEOGRAPHY_GROWTH)
    return max(len(STATES), min(wanted, profile.ZIP_PREFIXES_IN_BRAZIL))


def build_places(seed: int, scale: float) -> Places:
    rng = rng_for(seed, 1)
    total = zip_count(scale)
    shares = np.array([state.customer_share for state in STATES]) ** 0.7
    per_state = np.maximum(1, np.floor(total * shares / shares.sum())).astype(int)
    parts = [
        _state_zips(rng, index, min(int(count), STATES[index].zip_count))
        for index, count in enumerate(per_state)
    ]
    zips, state, city = (np.concatenate(column) for column in zip(*parts, strict=True))
    order = np.argsort(zips, kind="stable")
    zips, state, city = zips[order], state[order], city[order]
    spread = profile.ZIP_SPREAD_DEGREES
    return Places(
        zips=zips,
        state=state,
        city=city,
        lat=_CITY_LAT[city] + rng.normal(0, spread, len(zips)),
        lng=_CITY_LNG[city] + rng.normal(0, spread, len(zips)),
        popularity=rng.lognormal(0, 1.0, len(zips)),
    )


def _state_zips(
    rng: np.random.Generator, index: int, count: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`count` distinct prefixes from the state's ranges, each given to a city by position: the
    range is cut into contiguous blocks, the capital's first and largest (weights 1, 1/2...)."""
    state = STATES[index]
    starts = np.array([low for low, _ in state.zip_ranges])
    sizes = np.array([high - low + 1 for low, high in state.zip_ranges])
    offsets = np.sort(rng.choice(state.zip_count, size=count, replace=False))
    ends = np.cumsum(sizes)
    part = np.searchsorted(ends, offsets, side="right")
    zips = starts[part] + offsets - (ends[part] - sizes[part])
    weights = 1 / np.arange(1, len(state.cities) + 1)
    bounds = np.cumsum(weights) / weights.sum()
    city_in_state = np.searchsorted(bounds, offsets / state.zip_count, side="right")
    city = _FIRST_CITY[index] + np.minimum(city_in_state, len(state.cities) - 1)
    return zips, np.full(count, index), city


def geolocation_rows(places: Places, seed: int, scale: float) -> Iterator[dict[str, list[str]]]:
    """The geolocation file in blocks of zip areas, in zip order; at least one point per area."""
    wanted_rows = profile.GEOLOCATION_ROWS * len(places.zips) / profile.GEOLOCATION_ZIPS
    duplicate_share = profile.GEOLOCATION_DUPLICATE_SHARE
    unique_points = wanted_rows * (1 - duplicate_share)
    extra_per_area = unique_points / len(places.zips) - 1
    mean_popularity = places.popularity.mean()
    copies_per_point = duplicate_share / (1 - duplicate_share)
    for block, start in enumerate(range(0, len(places.zips), _ZIPS_PER_BLOCK)):
        rng = rng_for(seed, 2, block)
        areas = np.arange(start, min(start + _ZIPS_PER_BLOCK, len(places.zips)))
        expected = extra_per_area * places.popularity[areas] / mean_popularity
        points = 1 + rng.poisson(expected)
        area = np.repeat(areas, points)
        spread = profile.POINT_SPREAD_DEGREES
        lat = places.lat[area] + rng.normal(0, spread, len(area))
        lng = places.lng[area] + rng.normal(0, spread, len(area))
        accented = rng.random(len(area)) < profile.ACCENTED_CITY_SHARE
        city = np.where(accented, CITY_ACCENTED[places.city[area]], CITY_NAMES[places.city[area]])
        # An exact duplicate follows the row it copies, as in the real file.
        row = np.repeat(np.arange(len(area)), 1 + rng.poisson(copies_per_point, len(area)))
        yield {
            "geolocation_zip_code_prefix": places.zip_text(area[row]),
            "geolocation_lat": format_floats(lat[row]),
            "geolocation_lng": format_floats(lng[row]),
            "geolocation_city": city[row].tolist(),
            "geolocation_state": STATE_CODES[places.state[area[row]]].tolist(),
        }
