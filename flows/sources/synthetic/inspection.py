"""What the warehouse finds when a return arrives, what it does with it, and what it costs."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flows.sources.synthetic.base import N_DAYS, choice
from flows.sources.synthetic.catalogue import (
    CARRIER_BASE_COST,
    EMPTY_BOX,
    PICKUP_CLAIM,
    WARDROBING,
    ZONE_COST_FACTOR,
)
from flows.sources.synthetic.demand import Demand
from flows.sources.synthetic.pickups import Pickups
from flows.sources.synthetic.propensity import Decisions
from flows.sources.synthetic.reasons import EXCHANGE, Claims
from warehouse.contract import CONDITIONS, DISPOSITIONS

# condition weights (order of CONDITIONS): honest returns, and what defects, transit damage,
# wardrobing and empty-box abuse leave behind
CONDITION_MIX = {
    "honest": (0.36, 0.33, 0.20, 0.06, 0.02, 0.0, 0.01),
    "defective": (0.02, 0.03, 0.05, 0.10, 0.80, 0.0, 0.0),
    "damaged_in_transit": (0.02, 0.03, 0.05, 0.85, 0.05, 0.0, 0.0),
    "wardrobing": (0.03, 0.07, 0.85, 0.05, 0.0, 0.0, 0.0),
    "empty_box": (0.05, 0.05, 0.05, 0.0, 0.0, 0.55, 0.30),
}
DISPOSITION_MIX = {  # per condition, weights in the order of DISPOSITIONS
    "new": (0.97, 0.0, 0.03, 0.0, 0.0),
    "like_new": (0.85, 0.05, 0.10, 0.0, 0.0),
    "used": (0.05, 0.40, 0.50, 0.0, 0.05),
    "damaged": (0.0, 0.20, 0.35, 0.05, 0.40),
    "defective": (0.0, 0.05, 0.0, 0.80, 0.15),
    "empty_box": (0.0, 0.0, 0.0, 0.0, 1.0),
    "wrong_item": (0.0, 0.0, 0.0, 0.0, 1.0),
}
RECOVERY_SHARE = {  # of unit cost, per disposition
    "restock": 1.0,
    "refurbish": 0.55,
    "liquidate": 0.30,
    "return_to_vendor": 0.90,
    "dispose": 0.0,
}
INSTANT_REFUND_BELOW = 15.0  # refunds of less are paid at request, before the item arrives


def handling_cost(qty: np.ndarray) -> np.ndarray:
    """Warehouse handling of a received return."""
    return np.round(2.4 + 0.6 * qty, 2)


@dataclass(frozen=True)
class Inspection:
    """Per customer return: condition, disposition, recovered value, costs, refund."""

    condition: np.ndarray  # None where not received
    disposition: np.ndarray
    recovered: np.ndarray
    shipping_cost: np.ndarray
    handling: np.ndarray
    restocking: np.ndarray
    refund: np.ndarray
    refunded_at: np.ndarray


def inspect(
    rng: np.random.Generator,
    demand: Demand,
    decisions: Decisions,
    claims: Claims,
    p: Pickups,
) -> Inspection:
    """Grade, dispose and refund each customer return under the policy it was sold under."""
    idx = decisions.lines
    m = len(idx)
    cond_w = np.tile(np.array(CONDITION_MIX["honest"]), (m, 1))
    cond_w[claims.reason == "defective"] = CONDITION_MIX["defective"]
    cond_w[claims.reason == "damaged_in_transit"] = CONDITION_MIX["damaged_in_transit"]
    cond_w[p.claim_abuse == WARDROBING] = CONDITION_MIX["wardrobing"]
    cond_w[p.claim_abuse == EMPTY_BOX] = CONDITION_MIX["empty_box"]
    condition_i = choice(rng, cond_w)
    disp_w = np.array([DISPOSITION_MIX[c] for c in CONDITIONS])[condition_i]
    disposition_i = choice(rng, disp_w)
    recovery = np.array([RECOVERY_SHARE[d] for d in DISPOSITIONS])
    recovered = np.round(demand.lines.cost[idx] * claims.qty * recovery[disposition_i], 2)
    has_received = ~np.isnan(p.received)
    condition = np.where(has_received, np.asarray(CONDITIONS, dtype=object)[condition_i], None)
    disposition = np.where(
        has_received, np.asarray(DISPOSITIONS, dtype=object)[disposition_i], None
    )
    recovered = np.where(has_received, recovered, 0.0)
    base_cost = CARRIER_BASE_COST[p.carrier]
    zone_factor = ZONE_COST_FACTOR[p.zone]
    ship_cost = np.where(
        p.pickup,
        base_cost * zone_factor * (1 + 0.15 * (p.n_attempts - 1)),
        base_cost * 0.6 * zone_factor,
    )
    ship_cost = np.where(p.pickup & ~p.picked, base_cost * 0.5 * p.n_attempts, ship_cost)
    ship_cost = np.round(ship_cost * (0.9 + 0.1 * claims.qty), 2)
    # without free return shipping the customer buys the label, unless the shop is at fault
    ship_cost = np.where(~decisions.terms.free_shipping[idx] & ~claims.fault, 0.0, ship_cost)
    handling = np.where(has_received, handling_cost(claims.qty), 0.0)

    lines = demand.lines
    paid_unit = lines.paid[idx] / lines.qty[idx]
    fee = decisions.terms.fee[idx]
    exchange = claims.resolution == EXCHANGE
    restocking = np.where(~exchange & ~claims.fault, np.round(paid_unit * claims.qty * fee, 2), 0.0)
    refund = np.where(exchange, 0.0, np.round(paid_unit * claims.qty - restocking, 2))
    instant = (paid_unit * claims.qty < INSTANT_REFUND_BELOW) | (p.claim_abuse == PICKUP_CLAIM)
    refunded = np.where(
        instant, p.request + rng.uniform(0.1, 1.0, m), p.received + rng.uniform(0.2, 2.5, m)
    )
    refunded = np.where(exchange | (refunded > N_DAYS), np.nan, refunded)
    refund = np.where(np.isnan(refunded) & ~exchange, 0.0, refund)
    restocking = np.where(np.isnan(refunded) & ~exchange, 0.0, restocking)
    return Inspection(
        condition, disposition, recovered, ship_cost, handling, restocking, refund, refunded
    )
