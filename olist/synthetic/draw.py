"""Random draws and value formatting shared by the table generators.

Everything is vectorised with numpy: a chunk of rows is drawn as arrays, then formatted into the
strings the CSV writer takes. Timestamps are int64 seconds since 1970 (naive local time, as in
Olist) with `NULL_TIME` for a missing value; money is int64 cents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from olist.synthetic.profile import LogNormal

NULL_TIME = np.iinfo(np.int64).min
DAY = 86_400
HOUR = 3_600


def rng_for(seed: int, *stream: int) -> np.random.Generator:
    """An independent generator per (seed, table, chunk...): chunks do not depend on each other,
    so a file is the same whether or not other files or chunks were drawn first."""
    return np.random.default_rng([seed, *stream])


def lognormal(rng: np.random.Generator, shape: LogNormal, size: int) -> np.ndarray:
    return rng.lognormal(np.log(shape.median), shape.sigma, size)


def from_counts(rng: np.random.Generator, counts: Mapping, size: int) -> np.ndarray:
    """Values drawn with probabilities proportional to their counts."""
    values = list(counts)
    weights = np.array([counts[v] for v in values], dtype=float)
    picks = rng.choice(len(values), size=size, p=weights / weights.sum())
    return np.array(values)[picks]


def from_shares(rng: np.random.Generator, shares: Sequence[float], size: int) -> np.ndarray:
    weights = np.asarray(shares, dtype=float)
    return rng.choice(len(weights), size=size, p=weights / weights.sum())


def hex_ids(rng: np.random.Generator, size: int) -> list[str]:
    """Olist-style ids: 32 lowercase hex digits (128 random bits, so no collisions in practice)."""
    text = rng.bytes(16 * size).hex()
    return [text[i : i + 32] for i in range(0, 32 * size, 32)]


def format_times(seconds: np.ndarray) -> list[str]:
    """`YYYY-MM-DD HH:MM:SS`, empty for NULL_TIME."""
    missing = seconds == NULL_TIME
    stamps = np.where(missing, 0, seconds).astype("datetime64[s]")
    text = np.datetime_as_string(stamps, unit="s").tolist()
    return [
        "" if gone else f"{t[:10]} {t[11:]}" for t, gone in zip(text, missing.tolist(), strict=True)
    ]


def format_cents(cents: np.ndarray) -> list[str]:
    return [f"{c // 100}.{c % 100:02d}" for c in cents.tolist()]


def format_ints(values: np.ndarray, missing: np.ndarray | None = None) -> list[str]:
    text = [str(v) for v in values.tolist()]
    if missing is None:
        return text
    return ["" if gone else t for t, gone in zip(text, missing.tolist(), strict=True)]


def format_floats(values: np.ndarray) -> list[str]:
    return [repr(v) for v in values.tolist()]


def midnight(seconds: np.ndarray) -> np.ndarray:
    return seconds - seconds % DAY
