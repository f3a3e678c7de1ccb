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
)
from flows.sources.synthetic.demand import Demand
from flows.sources.synthetic.policy import PolicyTerms
from flows.sources.synthetic.world import World

# --- the customers' response to the return policy (docs/synthetic-shop.md) ----------------------
# Private to the generator: the policy simulator in models/ must learn the response from the data,
# never read these numbers.
LAG_SHAPE, LAG_SCALE = 1.8, 4.5  # gamma days from delivery to the decision to return (mean 8.1)
REFERENCE_WINDOW = 30  # days; a 30-day window, no fee and free labels leave intent as it is
RUSH = 0.35  # share of late deciders who hurry in before a 30-day deadline
RUSH_PER_LOG_WINDOW = 0.15  # shorter deadlines make more of them hurry (urgency)
RUSH_MAX = 0.8
RUSH_SPAN = 1.5  # days before the deadline a hurried return is requested
URGENCY_PER_LOG_WINDOW = 0.12  # intent log-odds per log-halving of the window (time leniency)
FEE_DETERRENCE = 1.5  # intent log-odds per unit restocking-fee share (0.10 fee → −0.15)
LABEL_DETERRENCE = 0.15  # intent log-odds when the customer pays the return label


def rush_share(window: np.ndarray) -> np.ndarray:
    """Share of late deciders who return just before the deadline rather than keep the item."""
    log_ratio = np.log(REFERENCE_WINDOW / np.maximum(window, 1))
    share = np.clip(RUSH + RUSH_PER_LOG_WINDOW * log_ratio, 0.0, RUSH_MAX)
    return np.where(window > 0, share, 0.0)


def policy_logit(terms: PolicyTerms, fault_likely: np.ndarray) -> np.ndarray:
    """How the policy moves the log-odds of wanting to return: a shorter window raises intent
    (urgency, the endowment of a longer window lowers it), a restocking fee or a paid label
    deters marginal returns; lines with an active vendor defect are returned for a fault, which
    costs no fee, so fees do not deter them."""
    urgency = URGENCY_PER_LOG_WINDOW * np.log(REFERENCE_WINDOW / np.maximum(terms.window, 1))
    fees = FEE_DETERRENCE * terms.fee + LABEL_DETERRENCE * ~terms.free_shipping
    return urgency - np.where(fault_likely, 0.0, fees)


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
    """Draw which delivered lines are returned and the day each return is requested.

    Every line takes the same draws whatever the policy (common random numbers): a decision lag,
    a rush draw, a rush offset and an intent draw, so a policy changes only the lines its terms
    move. A late decider (lag past the window) hurries in with probability `rush_share` or keeps
    the item; a window of 0 days accepts no returns.
    """
    lines = demand.lines
    n = len(lines.order)
    terms = world.policy.terms(lines.category, lines.day)
    window = terms.window
    p_intent = sigmoid(intent_logit(world, demand) + policy_logit(terms, lines.defect_active))
    in_window = stats.gamma.cdf(window, LAG_SHAPE, scale=LAG_SCALE)
    rush = rush_share(window)
    p_return = np.where(
        np.isnan(lines.delivered), 0.0, p_intent * (in_window + rush * (1 - in_window))
    )
    lag = rng.gamma(LAG_SHAPE, LAG_SCALE, n)
    late_decider = lag > window
    rushes = rng.random(n) < rush
    offset = rng.uniform(0, RUSH_SPAN, n) * np.minimum(window, RUSH_SPAN) / RUSH_SPAN
    lag = np.where(late_decider & rushes, window - offset, lag)
    returned = (~np.isnan(lines.delivered)) & (rng.random(n) < p_intent) & ~(late_decider & ~rushes)
    request_day = lines.delivered + lag
    return Decisions(
        p_return,
        returned,
        request_day,
        np.flatnonzero(returned & (request_day <= N_DAYS)),
        terms,
    )
