"""Demand: how many orders each day, who places them, what is in them, and their delivery.

Nothing here depends on the return policy, so the same seed gives the same customers, orders and
deliveries whatever policy a shop is simulated under.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flows.sources.synthetic.base import N_DAYS, START, lookup
from flows.sources.synthetic.catalogue import (
    REGION_COUNTRY,
    REGION_ZONE,
    SERIAL,
    SIZE_WEIGHTS,
    WARDROBING,
)
from flows.sources.synthetic.world import World
from warehouse.contract import CHANNELS, PAYMENT_METHODS

PROMO_DAYS = {  # (month, day) → discount season
    (11, 11),
    (12, 12),
    (11, 29),
    (12, 1),
    (3, 3),
    (6, 6),
    (9, 9),
    (10, 10),
}
COUNTRY_COD_SHARE = {"ID": 0.38, "SG": 0.04, "MY": 0.22, "RU": 0.15, "KR": 0.02, "CN": 0.05}
COUNTRY_RTO_RATE = {"ID": 0.16, "SG": 0.03, "MY": 0.10, "RU": 0.08, "KR": 0.02, "CN": 0.04}


@dataclass(frozen=True)
class Orders:
    """One entry per order."""

    day: np.ndarray  # float days since START
    customer: np.ndarray
    region: np.ndarray
    country: np.ndarray
    payment: np.ndarray
    channel: np.ndarray
    promised: np.ndarray
    rto: np.ndarray  # cash on delivery refused or undeliverable: the parcel comes back


@dataclass(frozen=True)
class Lines:
    """One entry per order line."""

    order: np.ndarray  # index into Orders
    line_no: np.ndarray
    sku: np.ndarray
    in_bracket: np.ndarray  # the same product in another size in the same order
    category: np.ndarray
    price: np.ndarray
    cost: np.ndarray
    fit: np.ndarray
    vendor: np.ndarray
    size: np.ndarray
    n_sizes: np.ndarray
    qty: np.ndarray
    depth: np.ndarray  # discount share
    discount: np.ndarray
    paid: np.ndarray
    day: np.ndarray  # order day
    customer: np.ndarray
    delivered: np.ndarray  # NaN: not delivered (RTO or after the export)
    late_days: np.ndarray
    defect_active: np.ndarray  # the vendor's defect had begun when the line was ordered


@dataclass(frozen=True)
class Demand:
    """A slice's orders and their lines."""

    orders: Orders
    lines: Lines


def orders_per_day(rng: np.random.Generator, n_orders: int) -> np.ndarray:
    """Orders on each day: growth, weekly rhythm, year-end peak, promotion days."""
    days = np.arange(N_DAYS + 1)
    dates = np.datetime64(START.date()) + days
    month = (dates.astype("datetime64[M]").astype(int) % 12) + 1
    dom = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    weekday = (dates.astype(int) + 3) % 7  # 0 = Monday
    growth = 1.0 + 0.8 * days / N_DAYS
    weekly = np.array([1.0, 0.97, 0.97, 1.0, 1.08, 1.15, 1.12])[weekday]
    season = 1.0 + 0.25 * np.exp(-((month - 11.5) ** 2) / 1.5)
    promo = np.array(
        [2.6 if (m, d) in PROMO_DAYS else 1.0 for m, d in zip(month, dom, strict=True)]
    )
    w = growth * weekly * season * promo
    return rng.multinomial(n_orders, w / w.sum())


def place_orders(world: World, rng: np.random.Generator, order_day: np.ndarray) -> Demand:
    """Orders placed at `order_day`: customers, payment, lines, bracketing, prices, delivery."""
    cat, cust = world.catalogue, world.customers
    n_orders = len(order_day)
    pop = cat.popularity

    order_cust = rng.choice(len(cust.weight), n_orders, p=cust.weight)
    region = cust.region[order_cust]
    country = REGION_COUNTRY[region]
    cod_share = lookup(COUNTRY_COD_SHARE, country)
    pay_other = np.array([p for p in PAYMENT_METHODS if p != "cod"])[
        rng.choice(4, n_orders, p=[0.45, 0.3, 0.15, 0.1])
    ]
    payment = np.where(rng.random(n_orders) < cod_share, "cod", pay_other)
    channel = np.array(CHANNELS)[rng.choice(4, n_orders, p=[0.35, 0.4, 0.18, 0.07])]
    day_int = order_day.astype(int)
    dates = np.datetime64(START.date()) + day_int
    month = (dates.astype("datetime64[M]").astype(int) % 12) + 1
    dom = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    is_promo = np.array([(m, d) in PROMO_DAYS for m, d in zip(month, dom, strict=True)])
    n_lines = 1 + np.minimum(rng.poisson(0.5, n_orders), 5)

    # lines
    line_order = np.repeat(np.arange(n_orders), n_lines)
    line_prod = rng.choice(len(pop), len(line_order), p=pop / pop.sum())
    first_sku = np.searchsorted(cat.sku_product, np.arange(len(pop)))
    n_sizes_p = np.bincount(cat.sku_product, minlength=len(pop))
    size_pick = np.zeros(len(line_prod), dtype=np.int64)
    for k, weights in SIZE_WEIGHTS.items():
        idx = np.flatnonzero(n_sizes_p[line_prod] == k)
        size_pick[idx] = rng.choice(k, len(idx), p=np.asarray(weights))
    line_sku = first_sku[line_prod] + size_pick
    # bracketing: the same product in a neighbouring size in the same order
    abuse_line = cust.abuse[order_cust[line_order]]
    p_bracket = np.where(abuse_line == WARDROBING, 0.35, np.where(abuse_line == SERIAL, 0.2, 0.07))
    can_bracket = n_sizes_p[line_prod] > 1
    bracket = can_bracket & (rng.random(len(line_prod)) < p_bracket)
    b_idx = np.flatnonzero(bracket)
    step = np.where(rng.random(len(b_idx)) < 0.5, -1, 1)
    new_size = size_pick[b_idx] + step
    new_size = np.where(
        (new_size < 0) | (new_size >= n_sizes_p[line_prod[b_idx]]),
        size_pick[b_idx] - step,
        new_size,
    )
    line_order = np.concatenate([line_order, line_order[b_idx]])
    line_sku = np.concatenate([line_sku, first_sku[line_prod[b_idx]] + new_size])
    in_bracket = np.concatenate([bracket, np.ones(len(b_idx), dtype=bool)])
    sort = np.argsort(line_order, kind="stable")
    line_order, line_sku, in_bracket = line_order[sort], line_sku[sort], in_bracket[sort]
    n = len(line_order)
    line_no = np.arange(n) - np.searchsorted(line_order, line_order) + 1

    price = cat.sku_price[line_sku]
    qty = rng.choice([1, 2, 3], n, p=[0.86, 0.10, 0.04])
    qty = np.where(in_bracket, 1, qty)
    depth = np.where(
        is_promo[line_order],
        rng.uniform(0.15, 0.5, n),
        np.where(rng.random(n) < 0.2, rng.uniform(0.05, 0.2, n), 0.0),
    )
    discount = np.round(price * qty * depth, 2)

    # delivery, and parcels that come back undelivered
    zone = REGION_ZONE[region]
    promised_o = np.floor(order_day) + np.array([0, 2, 4, 6])[zone] + 0.75
    delay_o = rng.normal(-0.4, 1.2, n_orders) + rng.exponential(0.6, n_orders) * (zone - 1)
    delay_o += np.where(is_promo, rng.exponential(1.5, n_orders), 0)
    delivered_o = np.maximum(promised_o + delay_o, order_day + 0.5)
    rto_rate = lookup(COUNTRY_RTO_RATE, country)
    rto_o = (payment == "cod") & (rng.random(n_orders) < rto_rate)
    rto_o |= rng.random(n_orders) < 0.004
    rto_o &= promised_o + 3 <= N_DAYS  # an RTO needs time to come back before the export
    delivered_o = np.where(rto_o | (delivered_o > N_DAYS), np.nan, delivered_o)
    delivered = delivered_o[line_order]
    o_day = order_day[line_order]
    vendor = cat.sku_vendor[line_sku]
    return Demand(
        Orders(order_day, order_cust, region, country, payment, channel, promised_o, rto_o),
        Lines(
            order=line_order,
            line_no=line_no,
            sku=line_sku,
            in_bracket=in_bracket,
            category=cat.sku_category[line_sku],
            price=price,
            cost=cat.sku_cost[line_sku],
            fit=cat.sku_fit[line_sku],
            vendor=vendor,
            size=cat.sku_size[line_sku],
            n_sizes=cat.sku_n_sizes[line_sku],
            qty=qty,
            depth=depth,
            discount=discount,
            paid=price * qty - discount,
            day=o_day,
            customer=order_cust[line_order],
            delivered=delivered,
            late_days=np.clip(np.nan_to_num(delivered - promised_o[line_order]), 0, 6),
            defect_active=o_day >= world.planted.defect_start[vendor],
        ),
    )
