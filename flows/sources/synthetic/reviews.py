"""Product reviews: returned and defective items are rated lower and the texts say why."""

from __future__ import annotations

import numpy as np
import polars as pl

from flows.sources.synthetic.base import N_DAYS, frame, ids, lookup, pick_text, to_ts
from flows.sources.synthetic.catalogue import COUNTRY_LANGUAGE
from flows.sources.synthetic.texts import REVIEW_TEXTS


def reviews(
    rng: np.random.Generator,
    offset: int,
    delivered: np.ndarray,
    returned: np.ndarray,
    defect_active: np.ndarray,
    country: np.ndarray,
    order_ids: np.ndarray,
    customer_ids: np.ndarray,
    skus: np.ndarray,
) -> pl.DataFrame:
    """Reviews of delivered lines (all arrays are per line), the first numbered `offset`."""
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
    order = np.where(rng.random(k) < 0.05, None, order_ids[idx].astype(object))
    return frame(
        "reviews",
        {
            "review_id": ids("V", offset, k, 8),
            "order_id": order,
            "sku": skus[idx],
            "customer_id": customer_ids[idx],
            "rating": rating,
            "text": text,
            "language": lang,
            "reviewed_at": to_ts(at[idx]),
        },
    )
