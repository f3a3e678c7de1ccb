"""The synthetic shop: a deterministic, realistic returns history with its ground truth.

`generate_shop(n_orders, seed)` simulates two years of a multi-market online shop (Indonesia,
Singapore, Malaysia, Russia, Korea, China) and returns every feed of the data contract plus the
`_truth` tables that only evaluation may read: per-line return probabilities, vendors that turned
defective, a carrier that degraded in one region, and the customers who abuse returns.

Modules follow the shop: `catalogue` (products, vendors, markets, customers), `demand`
(orders), `policy` (the return-policy history), `propensity` (who returns, when, under which
policy), `reasons`, `pickups` (carriers and scans), `inspection` (conditions and costs), `rto`,
`reviews`, `slices` (one time slice as feed frames) and `writer`. Everything is vectorised
numpy/polars so that a million order lines take seconds; the same seed gives byte-identical
frames. See docs/synthetic-shop.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl

from flows.sources.synthetic.base import N_DAYS
from flows.sources.synthetic.demand import orders_per_day
from flows.sources.synthetic.policy import (
    PolicyFileError,
    check_policy,
    default_policy,
    policy_history,
    read_policy,
)
from flows.sources.synthetic.slices import simulate_slice
from flows.sources.synthetic.world import World, build_world, truths
from flows.sources.synthetic.writer import Shop, write_parts

__all__ = [
    "CHUNK_ORDERS",
    "PolicyFileError",
    "Shop",
    "generate_shop",
    "read_policy",
    "simulate",
    "write_parts",
    "write_shop",
]

CHUNK_ORDERS = 250_000  # orders simulated at once: bounds memory for any shop size


def simulate(n_orders: int, seed: int = 7, policy: pl.DataFrame | None = None) -> Iterator[Shop]:
    """The shop in consecutive slices of time, each a `Shop` of its own.

    `policy` (rows as `read_policy` returns them) replaces the shop's return-policy history;
    the same seed then gives the same customers and orders, with returns that respond to it.

    The first slice also carries the reference tables and the planted truths; every slice
    carries its orders, returns, scans, reviews and true return probabilities. Slicing keeps
    memory bounded whatever the shop's size; the slice size is fixed (CHUNK_ORDERS), so a
    seed always gives the same shop.
    """
    if n_orders < 100:
        raise ValueError("the synthetic shop needs at least 100 orders")
    # checked before the first slice is asked for, so a bad policy fails before any file is written
    history = default_policy() if policy is None else policy_history(check_policy(policy))
    return _slices(build_world(seed, n_orders, history), seed, n_orders)


def _slices(world: World, seed: int, n_orders: int) -> Iterator[Shop]:
    per_day = orders_per_day(np.random.default_rng([seed, 1]), n_orders)
    ends = np.cumsum(per_day)
    offsets = {"order": 0, "return": 0, "scan": 0, "review": 0}
    first_day, chunk = 0, 0
    while first_day <= N_DAYS:
        start_count = ends[first_day - 1] if first_day else 0
        last_day = int(np.searchsorted(ends, start_count + CHUNK_ORDERS, side="right"))
        last_day = min(max(last_day, first_day + 1), N_DAYS + 1)
        rng = np.random.default_rng([seed, 2, chunk])
        counts = per_day[first_day:last_day]
        order_day = np.repeat(np.arange(first_day, last_day), counts).astype(float)
        order_day = np.sort(order_day + rng.beta(2.2, 1.6, len(order_day)))  # evening-heavy
        feeds, truth = simulate_slice(world, rng, order_day, offsets)
        if chunk == 0:
            feeds = {
                **world.catalogue.feeds,
                "return_policy": world.policy.feed(),
                **feeds,
            }
            truth = {**truth, **truths(world), "return_policy": world.policy.rows}
        yield Shop(feeds, truth)
        first_day, chunk = last_day, chunk + 1


def generate_shop(n_orders: int, seed: int = 7, policy: pl.DataFrame | None = None) -> Shop:
    """Simulate `n_orders` orders (about 1.6 lines each) and everything that follows them."""
    parts = list(simulate(n_orders, seed, policy))
    names = parts[0].feeds.keys()
    return Shop(
        feeds={k: pl.concat([p.feeds[k] for p in parts if k in p.feeds]) for k in names},
        truth={k: pl.concat([p.truth[k] for p in parts if k in p.truth]) for k in parts[0].truth},
    )


def write_shop(
    n_orders: int,
    seed: int,
    out: Path,
    file_format: str = "parquet",
    policy: pl.DataFrame | None = None,
) -> dict[str, int]:
    """Simulate slice by slice and append each to its file; rows written per feed."""
    return write_parts(simulate(n_orders, seed, policy), out, file_format)
