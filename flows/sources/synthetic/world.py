"""The world every slice of the simulation shares, and the truths planted in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from flows.sources.synthetic.base import START
from flows.sources.synthetic.catalogue import (
    ABUSER_KINDS,
    Catalogue,
    Customers,
    Planted,
    catalogue,
    customers,
    planted,
)
from flows.sources.synthetic.policy import PolicyHistory


@dataclass(frozen=True)
class World:
    """What every slice of the simulation shares."""

    catalogue: Catalogue
    customers: Customers
    planted: Planted
    policy: PolicyHistory


def build_world(seed: int, n_orders: int, policy: PolicyHistory) -> World:
    """Catalogue, planted truths and customers from the seed's first stream; the policy as given."""
    rng = np.random.default_rng([seed, 0])
    cat = catalogue(rng, n_orders)
    truth = planted(rng, cat)
    return World(cat, customers(rng, n_orders), truth, policy)


def truths(world: World) -> dict[str, pl.DataFrame]:
    """The planted answers that do not depend on the orders."""
    incident = world.planted.incident
    cust = world.customers

    def day(d: float) -> date:
        return (START + np.timedelta64(int(d), "D").astype(object)).date()

    return {
        "defective_vendors": pl.DataFrame(
            {
                "vendor_id": [f"V{v:03d}" for v, _ in world.planted.defective],
                "defect_start": [day(d) for _, d in world.planted.defective],
            }
        ),
        "carrier_incidents": pl.DataFrame(
            {
                "carrier": [incident[0]],
                "region": [incident[1]],
                "start": [day(incident[2])],
                "end": [day(incident[3])],
            }
        ),
        "abusers": pl.DataFrame(
            {
                "customer_id": cust.ids[cust.abuse >= 0],
                "kind": np.asarray(ABUSER_KINDS)[cust.abuse[cust.abuse >= 0]],
            }
        ),
        "product_fit": pl.DataFrame(
            {
                "product_id": [f"P{p:05d}" for p in range(len(world.catalogue.product_fit))],
                "fit": np.array(["runs_small", "true_to_size", "runs_large"])[
                    world.catalogue.product_fit.astype(np.int64) + 1
                ],
            }
        ),
    }
