"""The shop's clock and the small vectorised helpers every stage of the simulation shares."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl

from warehouse.contract import FEEDS

START = datetime(2024, 1, 1)  # a Monday: day 0 of the simulation
AS_OF = datetime(2025, 12, 31)  # the export date: nothing later than this is in any feed
N_DAYS = (AS_OF - START).days
DAY_US = 86_400_000_000


def choice(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One category index per row of a (rows × options) weight matrix."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(axis=1), weights.shape[1] - 1)


def lookup(table: dict[str, object], keys: np.ndarray) -> np.ndarray:
    """`table[key]` for every key; an empty key array gives an empty result (a slice may have
    no returns or no reviews)."""
    values, inverse = np.unique(keys, return_inverse=True)
    return np.array([table[k] for k in values.tolist()])[inverse.reshape(-1)]


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, for turning a return logit into a probability."""
    return 1.0 / (1.0 + np.exp(-x))


def to_ts(days: np.ndarray) -> pl.Series:
    """Float days since START → microsecond timestamps (NaN → null)."""
    us = np.where(np.isnan(days), np.iinfo(np.int64).min, np.nan_to_num(days) * DAY_US)
    return pl.Series(np.datetime64(START, "us") + us.astype(np.int64).astype("timedelta64[us]"))


def frame(feed: str, columns: dict[str, object]) -> pl.DataFrame:
    """A frame of a contract feed; object arrays (strings with nulls) go through Python lists."""
    data = {
        k: v.tolist() if isinstance(v, np.ndarray) and v.dtype == object else v
        for k, v in columns.items()
    }
    return pl.DataFrame(data, schema=FEEDS[feed].schema)


def pick_text(
    rng: np.random.Generator,
    table: dict[str, dict[str, tuple[str, ...]]],
    keys: np.ndarray,
    languages: np.ndarray,
) -> np.ndarray:
    """A phrase for each (key, language) pair, chosen among that pair's variants."""
    out = np.empty(len(keys), dtype=object)
    for key, by_lang in table.items():
        for lang, variants in by_lang.items():
            idx = np.flatnonzero((keys == key) & (languages == lang))
            if len(idx):
                out[idx] = np.asarray(variants, dtype=object)[
                    rng.integers(0, len(variants), len(idx))
                ]
    return out


def ids(prefix: str, offset: int, count: int, width: int) -> np.ndarray:
    """Identifiers `prefix` + zero-padded running number, continuing from `offset`."""
    numbers = pl.Series(offset + np.arange(count)).cast(pl.String).str.zfill(width)
    return (prefix + numbers).to_numpy()
