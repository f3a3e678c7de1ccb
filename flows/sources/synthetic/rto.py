"""Return to origin: parcels that were never delivered (mostly refused cash on delivery)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flows.sources.synthetic.base import N_DAYS, choice
from flows.sources.synthetic.catalogue import REGION_ZONE
from flows.sources.synthetic.demand import Demand
from flows.sources.synthetic.pickups import allocation


@dataclass(frozen=True)
class Rto:
    """Per undelivered line of an RTO order: when the parcel started back, arrived, and by whom."""

    lines: np.ndarray
    request: np.ndarray
    received: np.ndarray  # NaN if after the export
    zone: np.ndarray
    carrier: np.ndarray


def rto(rng: np.random.Generator, demand: Demand) -> Rto:
    """Undelivered lines of RTO orders come back a few days after the promised delivery."""
    lines, orders = demand.lines, demand.orders
    idx = np.flatnonzero(np.isnan(lines.delivered) & orders.rto[lines.order])
    k = len(idx)
    order = lines.order[idx]
    request = orders.promised[order] + rng.uniform(1.0, 3.0, k)
    received = request + rng.uniform(2.0, 7.0, k)
    received = np.where(received > N_DAYS, np.nan, received)
    zone = REGION_ZONE[orders.region[order]]
    carrier = choice(rng, allocation()[orders.region[order]])
    return Rto(idx, request, received, zone, carrier)
