"""The shop's return-policy history: the default one, or one read from a policy file.

A policy file has the `return_policy` feed's columns (warehouse/contract.py RETURN_POLICY) and
may add a `category` column: a row with a category applies to that category's order lines and
overrides the shop-wide row (empty category) in force on the same day. Every order day of the
simulation must be covered for every category. Errors name the file, the row (data rows count
from 1) and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from flows.sources.synthetic.base import N_DAYS, START
from warehouse.contract import FEEDS

POLICY_COLUMNS = FEEDS["return_policy"].columns
REQUIRED = tuple(c.name for c in POLICY_COLUMNS)
OPTIONAL = ("category",)

# the shop's own history: 30 days and no fee, then 14 days and a 10 % restocking fee
DEFAULT_POLICY = pl.DataFrame(
    {
        "policy_id": ["P2024", "P2025"],
        "effective_from": [date(2024, 1, 1), date(2025, 4, 1)],
        "effective_to": [date(2025, 3, 31), None],
        "window_days": [30, 14],
        "restocking_fee_pct": [0.0, 0.10],
        "free_return_shipping": [True, True],
    },
    schema=FEEDS["return_policy"].schema,
)
TRUE_WORDS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


class PolicyFileError(ValueError):
    """A policy file that cannot describe a return-policy history; the message says where."""


@dataclass(frozen=True)
class PolicyTerms:
    """The terms each order line was sold under."""

    window: np.ndarray  # days after delivery a return may be requested
    fee: np.ndarray  # restocking fee, share of the refund on returns that are not a fault
    free_shipping: np.ndarray  # whether the shop pays the return label


@dataclass(frozen=True)
class PolicyHistory:
    """Policy terms per (category, order day), and the rows they came from."""

    rows: pl.DataFrame  # contract columns plus `category` (null = shop-wide)
    window: np.ndarray  # (categories × days)
    fee: np.ndarray
    free_shipping: np.ndarray

    def feed(self) -> pl.DataFrame:
        """The `return_policy` feed: the shop-wide rows, as the contract has no category."""
        return self.rows.filter(pl.col("category").is_null()).select(REQUIRED)

    def terms(self, category: np.ndarray, order_day: np.ndarray) -> PolicyTerms:
        """The terms in force for lines of `category` ordered on (float) `order_day`."""
        day = order_day.astype(np.int64)
        return PolicyTerms(
            self.window[category, day], self.fee[category, day], self.free_shipping[category, day]
        )


def policy_history(
    rows: pl.DataFrame, categories: tuple[str, ...], source: str = "policy"
) -> PolicyHistory:
    """Lay validated policy rows out per category and day; error if any day is uncovered."""
    if "category" not in rows.columns:
        rows = rows.with_columns(category=pl.lit(None, pl.String))
    shape = (len(categories), N_DAYS + 1)
    window = np.full(shape, -1, dtype=np.int64)
    fee = np.zeros(shape)
    free = np.zeros(shape, dtype=bool)
    # shop-wide rows first, so that category rows override them
    ordered = rows.sort(pl.col("category").is_not_null(), "effective_from")
    for rec in ordered.iter_rows(named=True):
        first = max((rec["effective_from"] - START.date()).days, 0)
        last = N_DAYS if rec["effective_to"] is None else (rec["effective_to"] - START.date()).days
        if last < first or first > N_DAYS:
            continue
        cats = slice(None) if rec["category"] is None else categories.index(rec["category"])
        window[cats, first : last + 1] = rec["window_days"]
        fee[cats, first : last + 1] = rec["restocking_fee_pct"]
        free[cats, first : last + 1] = rec["free_return_shipping"]
    gaps = np.argwhere(window < 0)
    if len(gaps):
        c, d = gaps[0]
        day = (START + timedelta(days=int(d))).date()
        raise PolicyFileError(
            f"{source}: no policy covers {categories[c]} orders on {day}; every day from "
            f"{START.date()} to {(START + timedelta(days=N_DAYS)).date()} needs one"
        )
    return PolicyHistory(rows.select(*REQUIRED, "category"), window, fee, free)


def default_policy(categories: tuple[str, ...]) -> PolicyHistory:
    """The shop's own policy history."""
    return policy_history(DEFAULT_POLICY, categories, "default policy")
