"""Product reviews: returned and defective items are rated lower and the texts say why."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from flows.sources.synthetic.base import N_DAYS, frame, ids, lookup, pick_text, to_ts
from flows.sources.synthetic.catalogue import COUNTRY_LANGUAGE
from flows.sources.synthetic.demand import Demand
from flows.sources.synthetic.texts import REVIEW_TEXTS


@dataclass(frozen=True)
class LineLabels:
    """The identifiers a review of a line carries, per line."""

    order_id: np.ndarray
    customer_id: np.ndarray
    sku: np.ndarray


def reviews(
    rng: np.random.Generator,
    offset: int,
    demand: Demand,
    returned: np.ndarray,
    labels: LineLabels,
) -> pl.DataFrame:
    """Reviews of delivered lines (`returned` per line), the first numbered `offset`."""
    lines = demand.lines
    delivered, defect_active = lines.delivered, lines.defect_active
    country = demand.orders.country[lines.order]
    n = len(delivered)
    p_review = np.where(returned, 0.2, 0.1) + 0.15 * defect_active
    writes = ~np.isnan(delivered) & (rng.random(n) < p_review)
    at = delivered + rng.exponential(6.0, n) + 0.2
    idx = np.flatnonzero(writes & (at <= N_DAYS))
    k = len(idx)
    mu = 4.35 - 1.3 * returned[idx] - 2.4 * defect_active[idx]
    rating = np.clip(np.round(rng.normal(mu, 0.85)), 1, 5).astype(np.int64)
    mood = np.where(rating >= 4, "positive", np.where(rating == 3, "neutral", "negative"))
    mood = np.where(defect_active[idx] & (rating <= 2) & (rng.random(k) < 0.8), "defect", mood)
    lang = lookup(COUNTRY_LANGUAGE, country[idx]).astype(object)
    lang = np.where(rng.random(k) < 0.1, "en", lang)
    text = pick_text(rng, REVIEW_TEXTS, mood.astype(object), lang)
    text = np.where(rng.random(k) < 0.25, None, text)
    order = np.where(rng.random(k) < 0.05, None, labels.order_id[idx].astype(object))
    return frame(
        "reviews",
        {
            "review_id": ids("V", offset, k, 8),
            "order_id": order,
            "sku": labels.sku[idx],
            "customer_id": labels.customer_id[idx],
            "rating": rating,
            "text": text,
            "language": lang,
            "reviewed_at": to_ts(at[idx]),
        },
    )
