"""Why customers return (reason codes and their free-text comments) and what they ask for."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flows.sources.synthetic.base import choice, lookup, pick_text
from flows.sources.synthetic.catalogue import (
    CATEGORY_NAMES,
    COUNTRY_LANGUAGE,
    WARDROBING,
)
from flows.sources.synthetic.demand import Demand
from flows.sources.synthetic.texts import REASON_TEXTS
from flows.sources.synthetic.world import World
from warehouse.contract import FAULT_REASONS, REASON_CODES, RESOLUTIONS

CUSTOMER_REASONS = tuple(r for r in REASON_CODES if r != "rto_undelivered")
# reason weights (order of CUSTOMER_REASONS) for sized / unsized categories
REASON_BASE_SIZED = (0.20, 0.16, 0.07, 0.04, 0.04, 0.12, 0.22, 0.05, 0.10)
REASON_BASE_UNSIZED = (0.0, 0.0, 0.22, 0.10, 0.06, 0.18, 0.26, 0.06, 0.12)
SIZE_REASONS = ("size_too_small", "size_too_large")
ELECTRONICS = CATEGORY_NAMES.index("electronics")
REFUND, EXCHANGE, STORE_CREDIT = RESOLUTIONS


@dataclass(frozen=True)
class Claims:
    """Per customer return: reason, comment, fault, the resolution asked for, units returned."""

    reason: np.ndarray
    text: np.ndarray
    fault: np.ndarray  # the shop, a vendor or a carrier is at fault: no restocking fee
    resolution: np.ndarray
    qty: np.ndarray


def claims(world: World, rng: np.random.Generator, demand: Demand, idx: np.ndarray) -> Claims:
    """Reasons follow fit, bracketing, defects, late delivery and abuse; comments mostly agree."""
    lines = demand.lines
    m = len(idx)
    r_cat = lines.category[idx]
    sized = lines.n_sizes[idx] > 1
    w = np.where(sized[:, None], np.array(REASON_BASE_SIZED), np.array(REASON_BASE_UNSIZED))
    w = w.copy()
    r_fit = lines.fit[idx]
    bracket = np.where(lines.in_bracket[idx], 3.0, 1.0)
    defect = lines.defect_active[idx]
    w[:, 0] *= np.where(r_fit == -1, 4.0, 1.0) * bracket
    w[:, 1] *= np.where(r_fit == 1, 4.0, 1.0) * bracket
    w[:, 2] *= np.where(defect, 25.0, 1.0) * np.where(r_cat == ELECTRONICS, 2.0, 1.0)
    w[:, 5] *= np.where(defect, 4.0, 1.0)
    w[:, 7] *= 1.0 + 2.0 * lines.late_days[idx]
    w[:, 6] *= np.where(world.customers.abuse[lines.customer[idx]] == WARDROBING, 3.0, 1.0)
    reason = np.asarray(CUSTOMER_REASONS, dtype=object)[choice(rng, w)]

    r_country = demand.orders.country[lines.order[idx]]
    lang = lookup(COUNTRY_LANGUAGE, r_country).astype(object)
    lang = np.where(rng.random(m) < 0.1, "en", lang)
    text_reason = np.where(
        rng.random(m) < 0.85,
        reason,
        np.asarray(CUSTOMER_REASONS, dtype=object)[rng.integers(0, len(CUSTOMER_REASONS), m)],
    )
    text_reason = np.where(sized | ~np.isin(text_reason, SIZE_REASONS), text_reason, "changed_mind")
    text = pick_text(rng, REASON_TEXTS, text_reason, lang)
    text = np.where(rng.random(m) < 0.12, None, text)

    size_reason = np.isin(reason, SIZE_REASONS)
    res_draw = rng.random(m)
    resolution = np.where(
        size_reason & (res_draw < 0.45),
        EXCHANGE,
        np.where(res_draw < 0.72, REFUND, np.where(res_draw < 0.85, EXCHANGE, STORE_CREDIT)),
    )
    qty = lines.qty[idx]
    r_qty = np.where(qty > 1, rng.integers(1, qty + 1), 1)
    return Claims(reason, text, np.isin(reason, FAULT_REASONS), resolution, r_qty)
