"""The shop's return-policy history: the default one, or one read from a policy file.

A policy file has the `return_policy` feed's columns (warehouse/contract.py RETURN_POLICY) and
may add a `category` column: a row with a category applies to that category's order lines and
overrides the shop-wide row (empty category) in force on the same day. Every order day of the
simulation must be covered for every category. Errors name the file, the row (data rows count
from 1) and the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from flows.sources.synthetic.base import N_DAYS, START
from flows.sources.synthetic.catalogue import CATEGORY_NAMES
from warehouse.contract import FEEDS

REQUIRED = tuple(c.name for c in FEEDS["return_policy"].columns)
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


def policy_history(rows: pl.DataFrame, source: str = "policy") -> PolicyHistory:
    """Lay checked policy rows out per category and day; error if any day is uncovered."""
    categories = CATEGORY_NAMES
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


def read_policy(path: Path) -> pl.DataFrame:
    """Read and check a policy file (CSV or Parquet): contract columns plus optional category."""
    if not path.is_file():
        raise PolicyFileError(f"{path}: no such policy file")
    try:
        raw = (
            pl.read_parquet(path)
            if path.suffix.lower() == ".parquet"
            else pl.read_csv(path, infer_schema=False)
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise PolicyFileError(f"{path}: cannot be read as CSV or Parquet ({exc})") from None
    rows = check_policy(raw, str(path))
    policy_history(rows, str(path))  # every category covered on every order day
    return rows


def check_policy(raw: pl.DataFrame, source: str = "policy") -> pl.DataFrame:
    """Typed policy rows from a frame of any column types; errors name source, row and field."""
    missing = [c for c in REQUIRED if c not in raw.columns]
    if missing:
        raise PolicyFileError(
            f"{source}: missing column(s) {', '.join(missing)}; a policy file has the columns "
            f"{', '.join(REQUIRED)} and optionally {', '.join(OPTIONAL)}"
        )
    if raw.height == 0:
        raise PolicyFileError(f"{source}: has no policy rows")
    text = raw.select(
        [pl.col(c).cast(pl.String) for c in (*REQUIRED, *OPTIONAL) if c in raw.columns]
    )
    records = [_row(source, row, rec) for row, rec in enumerate(text.iter_rows(named=True), 1)]
    seen: dict[str, int] = {}
    for row, policy_id, *_ in records:
        if policy_id in seen:
            raise PolicyFileError(
                f"{source}, row {row}, field policy_id: {policy_id!r} repeats row {seen[policy_id]}"
            )
        seen[policy_id] = row
    by_scope: dict[str | None, list[tuple]] = {}
    for rec in records:
        by_scope.setdefault(rec[7], []).append(rec)
    for scope in by_scope.values():
        scope.sort(key=lambda r: r[2])
        for before, after in zip(scope, scope[1:], strict=False):
            if before[3] is None or after[2] <= before[3]:
                raise PolicyFileError(
                    f"{source}, row {after[0]}, field effective_from: {after[2]} overlaps policy "
                    f"{before[1]!r} (row {before[0]}, {before[2]} to {before[3] or 'open'})"
                    + (f" for category {after[7]}" if after[7] else "")
                )
    return pl.DataFrame(
        [r[1:] for r in records],
        schema={**FEEDS["return_policy"].schema, "category": pl.String},
        orient="row",
    )


def _row(source: str, row: int, rec: dict[str, str | None]) -> tuple:
    """One policy row, typed: (row, policy_id, from, to, window, fee, free shipping, category)."""

    def fail(field: str, problem: str) -> PolicyFileError:
        return PolicyFileError(f"{source}, row {row}, field {field}: {rec[field]!r} {problem}")

    def day(field: str, required: bool) -> date | None:
        value = (rec[field] or "").strip()
        if not value:
            if required:
                raise fail(field, "is empty; write dates as YYYY-MM-DD")
            return None
        try:
            return datetime.fromisoformat(value).date()
        except ValueError:
            raise fail(field, "is not a date; write dates as YYYY-MM-DD") from None

    policy_id = (rec["policy_id"] or "").strip()
    if not policy_id:
        raise fail("policy_id", "is empty")
    first, last = day("effective_from", True), day("effective_to", False)
    if last is not None and first is not None and last < first:
        raise fail("effective_to", f"is before effective_from {first}")
    try:
        window = float(rec["window_days"] or "")
    except ValueError:
        raise fail("window_days", "is not a number of days") from None
    if window < 0 or window != int(window):
        raise fail("window_days", "must be a whole number of days, 0 or more")
    try:
        fee = float(rec["restocking_fee_pct"] or "")
    except ValueError:
        raise fail("restocking_fee_pct", "is not a share between 0 and 1") from None
    if not 0 <= fee <= 1:
        raise fail("restocking_fee_pct", "must be a share between 0 and 1 (0.10 = 10 %)")
    free = TRUE_WORDS.get((rec["free_return_shipping"] or "").strip().lower())
    if free is None:
        raise fail("free_return_shipping", "is not true or false")
    category = (rec.get("category") or "").strip() or None
    if category is not None and category not in CATEGORY_NAMES:
        raise fail("category", f"is not a category ({', '.join(CATEGORY_NAMES)})")
    return row, policy_id, first, last, int(window), fee, free, category


def default_policy() -> PolicyHistory:
    """The shop's own policy history."""
    return policy_history(DEFAULT_POLICY, "default policy")
