"""Return propensity: the truth the models must learn, and which lines come back when.

A line's return intent is a logistic function of its category, price, discount, size and fit,
payment, late delivery, the customer's own propensity, bracketing, a vendor defect and abuse.
Whether and when an intending customer asks to return follows the return policy the line was
sold under (see `respond` and docs/synthetic-shop.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from flows.sources.synthetic.base import N_DAYS, sigmoid
from flows.sources.synthetic.catalogue import (
    CATEGORIES,
    SERIAL,
    WARDROBING,
    World,
)
from flows.sources.synthetic.demand import Demand
from flows.sources.synthetic.policy import PolicyTerms

LAG_SHAPE, LAG_SCALE = 1.8, 4.5  # gamma days from delivery to the return request
RUSH = 0.35  # share of late deciders who hurry in before the deadline


@dataclass(frozen=True)
class Decisions:
    """Which lines are returned, when, and with what true probability."""

    p_return: np.ndarray  # per line: the probability the line is returned (truth)
    returned: np.ndarray  # per line: the customer asked to return it (even after the export)
    request_day: np.ndarray  # per line
    lines: np.ndarray  # indices of lines whose return request falls before the export
    terms: PolicyTerms  # per line


def intent_logit(world: World, demand: Demand) -> np.ndarray:
    """Log-odds that a customer wants to return a delivered line, before any policy."""
    lines, orders = demand.lines, demand.orders
    cust = lines.customer
    abuse = world.customers.abuse[cust]
    multi_size = lines.n_sizes > 1
    extreme_size = multi_size & ((lines.size == 0) | (lines.size == lines.n_sizes - 1))
    return (
        np.array([c[1] for c in CATEGORIES])[lines.category]
        + 0.35 * np.log(lines.price / np.array([c[3] for c in CATEGORIES])[lines.category])
        + 1.6 * lines.depth
        + 0.30 * extreme_size
        + 0.45 * (lines.fit != 0) * multi_size
        + 0.55 * (orders.payment[lines.order] == "cod")
        + 0.18 * lines.late_days
        + world.customers.propensity[cust]
        + 1.7 * lines.in_bracket
        + 2.3 * lines.defect_active
        + 1.9 * (abuse == SERIAL)
        + 2.1 * ((abuse == WARDROBING) & multi_size)
        + 1.5 * (abuse >= 2)
        + 0.12 * (lines.qty > 1)
        - 0.25 * (np.array(orders.channel)[lines.order] == "marketplace")
    )


def decide(world: World, rng: np.random.Generator, demand: Demand) -> Decisions:
    """Draw which delivered lines are returned and the day each return is requested."""
    lines = demand.lines
    n = len(lines.order)
    terms = world.policy.terms(lines.category, lines.day)
    window = terms.window
    p_intent = sigmoid(intent_logit(world, demand))
    in_window = stats.gamma.cdf(window, LAG_SHAPE, scale=LAG_SCALE)
    p_return = np.where(
        np.isnan(lines.delivered), 0.0, p_intent * (in_window + RUSH * (1 - in_window))
    )
    lag = rng.gamma(LAG_SHAPE, LAG_SCALE, n)
    late_decider = lag > window
    rushes = rng.random(n) < RUSH
    lag = np.where(late_decider & rushes, window - rng.uniform(0, 1.5, n), lag)
    returned = (~np.isnan(lines.delivered)) & (rng.random(n) < p_intent) & ~(late_decider & ~rushes)
    request_day = lines.delivered + lag
    return Decisions(
        p_return,
        returned,
        request_day,
        np.flatnonzero(returned & (request_day <= N_DAYS)),
        terms,
    )
