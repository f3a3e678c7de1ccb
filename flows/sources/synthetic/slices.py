"""One time slice of the shop: its orders and everything that follows them, as feed frames.

The random draws happen in a fixed order (demand, return decisions, claims, pickups,
inspection, RTO, scans, reviews) so that the same seed gives the same shop; demand comes first
and never depends on the return policy.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from flows.sources.synthetic.base import frame, ids, to_ts
from flows.sources.synthetic.catalogue import (
    CARRIER_BASE_COST,
    CARRIER_CODES,
    REGION_CODES,
    ZONE_COST_FACTOR,
)
from flows.sources.synthetic.demand import place_orders
from flows.sources.synthetic.inspection import handling_cost, inspect
from flows.sources.synthetic.pickups import pickups, scans
from flows.sources.synthetic.propensity import decide
from flows.sources.synthetic.reasons import claims
from flows.sources.synthetic.reviews import LineLabels, reviews
from flows.sources.synthetic.rto import rto
from flows.sources.synthetic.world import World
from warehouse.contract import FEEDS

RTO_REASON = "rto_undelivered"


def simulate_slice(
    world: World, rng: np.random.Generator, order_day: np.ndarray, offsets: dict[str, int]
) -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame]]:
    """Orders placed at `order_day` and all that follows them; advances the id offsets."""
    demand = place_orders(world, rng, order_day)
    decisions = decide(world, rng, demand)
    claim = claims(world, rng, demand, decisions.lines)
    picks = pickups(world, rng, demand, decisions)
    found = inspect(rng, demand, decisions, claim, picks)
    back = rto(rng, demand)

    lines, cat = demand.lines, world.catalogue
    n_orders = len(order_day)
    m, k = len(decisions.lines), len(back.lines)
    ret_idx = np.concatenate([decisions.lines, back.lines])
    is_rto = np.concatenate([np.zeros(m, dtype=bool), np.ones(k, dtype=bool)])
    ret_order = np.argsort(np.concatenate([picks.request, back.request]), kind="stable")
    rto_received = ~np.isnan(back.received)

    order_ids = ids("O", offsets["order"], n_orders, 8)
    customer_ids = world.customers.ids[lines.customer]
    skus = cat.sku_names[lines.sku]
    orders = pl.DataFrame(
        {
            "order_id": order_ids[lines.order],
            "line_id": lines.line_no.astype(np.int64),
            "customer_id": customer_ids,
            "sku": skus,
            "quantity": lines.qty.astype(np.int64),
            "unit_price": lines.price,
            "discount_amount": lines.discount,
            "ordered_at": to_ts(lines.day),
            "channel": demand.orders.channel[lines.order],
            "payment_method": demand.orders.payment[lines.order],
            "ship_region": REGION_CODES[demand.orders.region[lines.order]],
            "promised_delivery_at": to_ts(demand.orders.promised[lines.order]),
            "delivered_at": to_ts(lines.delivered),
        },
        schema=FEEDS["orders"].schema,
    )

    def cat_(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b])[ret_order]

    nan_k = np.full(k, np.nan)
    none_k = np.full(k, None, dtype=object)
    return_ids = ids("R", offsets["return"], m + k, 8)
    rto_qty = lines.qty[back.lines]
    carriers = np.asarray(CARRIER_CODES, dtype=object)
    returns = frame(
        "returns",
        {
            "return_id": return_ids,
            "order_id": order_ids[lines.order[ret_idx]][ret_order],
            "line_id": lines.line_no[ret_idx][ret_order].astype(np.int64),
            "sku": skus[ret_idx][ret_order],
            "quantity": cat_(claim.qty, rto_qty).astype(np.int64),
            "return_type": np.where(is_rto, "rto", "customer_return")[ret_order],
            "requested_at": to_ts(cat_(picks.request, back.request)),
            "reason_code": cat_(claim.reason, np.full(k, RTO_REASON, dtype=object)),
            "reason_text": cat_(claim.text, none_k),
            "resolution": cat_(claim.resolution.astype(object), none_k),
            "refund_amount": cat_(found.refund, np.zeros(k)),
            "return_shipping_cost": cat_(
                found.shipping_cost,
                np.round(CARRIER_BASE_COST[back.carrier] * ZONE_COST_FACTOR[back.zone], 2),
            ),
            "handling_cost": cat_(
                found.handling, np.where(rto_received, handling_cost(rto_qty), 0.0)
            ),
            "restocking_fee": cat_(found.restocking, np.zeros(k)),
            "return_method": cat_(
                np.where(picks.pickup, "pickup", "dropoff").astype(object), none_k
            ),
            "carrier": cat_(carriers[picks.carrier], carriers[back.carrier]),
            "received_at": to_ts(cat_(picks.received, back.received)),
            "condition": cat_(found.condition, np.where(rto_received, "new", None)),
            "disposition": cat_(found.disposition, np.where(rto_received, "restock", None)),
            "recovered_value": cat_(
                found.recovered,
                np.where(rto_received, np.round(lines.cost[back.lines] * rto_qty, 2), 0.0),
            ),
            "refunded_at": to_ts(cat_(found.refunded_at, nan_k)),
        },
    )
    cust_return_ids = return_ids[np.argsort(ret_order)[:m]]
    scan_frame = scans(rng, offsets["scan"], cust_return_ids, picks)
    review_frame = reviews(
        rng,
        offsets["review"],
        demand,
        decisions.returned,
        LineLabels(order_ids[lines.order], customer_ids, skus),
    )

    offsets["order"] += n_orders
    offsets["return"] += m + k
    offsets["scan"] += scan_frame.height
    offsets["review"] += review_frame.height
    truth = {
        "return_probability": pl.DataFrame(
            {
                "order_id": order_ids[lines.order],
                "line_id": lines.line_no.astype(np.int64),
                "p_return": decisions.p_return,
            }
        )
    }
    feeds = {"orders": orders, "returns": returns, "carrier_scans": scan_frame}
    return {**feeds, "reviews": review_frame}, truth
