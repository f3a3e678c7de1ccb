"""The shop's catalogue (products, sizes, vendors), its markets and carriers, and its customers.

Also where the planted truths that do not depend on orders are drawn: the two vendors that turn
defective, the carrier that degrades in one region, and the customers who abuse returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from flows.sources.synthetic.base import ids
from warehouse.contract import DEFAULT_CURRENCY, FEEDS

# region, name, country, zone, share of orders
REGIONS = (
    ("ID-JK", "Jakarta", "ID", 1, 0.20),
    ("ID-JB", "West Java", "ID", 1, 0.16),
    ("ID-JI", "East Java", "ID", 2, 0.10),
    ("ID-BA", "Bali", "ID", 2, 0.04),
    ("ID-SU", "North Sumatra", "ID", 3, 0.05),
    ("SG", "Singapore", "SG", 1, 0.06),
    ("MY-14", "Kuala Lumpur", "MY", 2, 0.06),
    ("RU-MOW", "Moscow", "RU", 2, 0.09),
    ("RU-SPE", "Saint Petersburg", "RU", 3, 0.04),
    ("KR-11", "Seoul", "KR", 2, 0.08),
    ("KR-26", "Busan", "KR", 3, 0.03),
    ("CN-SH", "Shanghai", "CN", 2, 0.05),
    ("CN-GD", "Guangdong", "CN", 3, 0.04),
)
REGION_CODES = np.array([r[0] for r in REGIONS], dtype=object)
REGION_COUNTRY = np.array([r[2] for r in REGIONS])
REGION_ZONE = np.array([r[3] for r in REGIONS])
COUNTRY_LANGUAGE = {"ID": "id", "SG": "en", "MY": "en", "RU": "ru", "KR": "ko", "CN": "zh"}

# carrier, name, base pickup cost, base NPR rate, weekend NPR uplift
CARRIERS = (
    ("SWIFT", "SwiftPost", 4.2, 0.07, 0.03),
    ("KILAT", "Kilat Express", 3.1, 0.13, 0.10),
    ("NORD", "Nordline", 4.8, 0.10, 0.02),
    ("HANA", "Hana Logistics", 3.9, 0.05, 0.01),
    ("DRAGON", "Dragon Courier", 3.4, 0.16, 0.06),
)
CARRIER_CODES = [c[0] for c in CARRIERS]
CARRIER_BASE_COST = np.array([c[2] for c in CARRIERS])
ZONE_COST_FACTOR = np.array([0, 1.0, 1.3, 1.7])  # reverse shipping cost by delivery zone

# One price list for every market, in US dollars (the median prices below); every amount the
# shop writes (prices, costs, refunds, fees) is in it. The contract's DEFAULT_CURRENCY is the
# currency of files that come without an adapter, so the demo shop's money reads as CURRENCY.
CURRENCY = DEFAULT_CURRENCY

# category, base return logit, sizes, median price (CURRENCY), share of products
CATEGORIES = (
    ("apparel", -1.55, ("XS", "S", "M", "L", "XL", "XXL"), 24.0, 0.30),
    ("shoes", -1.75, ("36", "37", "38", "39", "40", "41", "42", "43", "44", "45"), 48.0, 0.14),
    ("electronics", -2.55, ("ONE",), 110.0, 0.14),
    ("sports", -2.35, ("S", "M", "L", "XL"), 32.0, 0.12),
    ("accessories", -2.75, ("ONE",), 19.0, 0.12),
    ("home", -3.05, ("ONE",), 36.0, 0.10),
    ("beauty", -3.35, ("ONE",), 14.0, 0.08),
)
CATEGORY_NAMES = tuple(c[0] for c in CATEGORIES)
SIZE_WEIGHTS = {  # how often each size sells, per number of sizes
    1: (1.0,),
    4: (0.22, 0.36, 0.28, 0.14),
    6: (0.07, 0.20, 0.30, 0.24, 0.13, 0.06),
    10: (0.04, 0.07, 0.11, 0.14, 0.16, 0.15, 0.13, 0.10, 0.06, 0.04),
}

ABUSER_KINDS = ("serial_returner", "wardrobing", "empty_box", "pickup_claim")
ABUSER_SHARES = (0.015, 0.010, 0.003, 0.003)
SERIAL, WARDROBING, EMPTY_BOX, PICKUP_CLAIM = range(len(ABUSER_KINDS))


@dataclass(frozen=True)
class Catalogue:
    """The reference feeds, and per SKU (index = row of `products`) what the simulation needs."""

    feeds: dict[str, pl.DataFrame]
    sku_names: np.ndarray
    sku_product: np.ndarray
    sku_size: np.ndarray  # position of the size among its product's sizes
    sku_n_sizes: np.ndarray
    sku_category: np.ndarray  # index into CATEGORIES
    sku_vendor: np.ndarray
    sku_price: np.ndarray
    sku_cost: np.ndarray
    sku_fit: np.ndarray  # -1 runs small, 0 true to size, 1 runs large
    popularity: np.ndarray  # per product
    product_vendor: np.ndarray  # per product
    product_fit: np.ndarray  # per product


@dataclass(frozen=True)
class Customers:
    """Who buys: home region, personal return propensity, share of orders, abuse kind (-1 none)."""

    ids: np.ndarray
    region: np.ndarray
    propensity: np.ndarray
    weight: np.ndarray
    abuse: np.ndarray


@dataclass(frozen=True)
class Planted:
    """Truths drawn once: defective vendors (index, first day) and one carrier incident."""

    defective: list[tuple[int, float]]
    defect_start: np.ndarray  # per vendor: first order day of the defect, inf if never
    incident: tuple[str, str, float, float]  # carrier, region, first day, end day


def catalogue(rng: np.random.Generator, n_orders: int) -> Catalogue:
    """Products in sizes from vendors that each specialise in one category; carriers, regions."""
    n_vendors = int(np.clip(n_orders // 1500, 35, 140))
    n_products = int(np.clip(n_orders // 120, 150, 3000))
    cat_idx = rng.choice(len(CATEGORIES), n_products, p=[c[4] for c in CATEGORIES])
    # every vendor specialises in one category; products go to vendors of their category
    vendor_cat = np.arange(n_vendors) % len(CATEGORIES)
    vendor_for = np.empty(n_products, dtype=np.int64)
    for c in range(len(CATEGORIES)):
        members = np.flatnonzero(vendor_cat == c)
        idx = np.flatnonzero(cat_idx == c)
        vendor_for[idx] = rng.choice(members, len(idx))
    medians = np.array([c[3] for c in CATEGORIES])[cat_idx]
    price = np.round(medians * rng.lognormal(0, 0.45, n_products), 2) + 0.99
    cost_share = rng.uniform(0.35, 0.6, n_products)
    fit = rng.choice([-1, 0, 1], n_products, p=[0.15, 0.7, 0.15])  # runs small / true / large
    popularity = rng.pareto(1.3, n_products) + 0.05

    skus, rows = [], []
    for p in range(n_products):
        cat = CATEGORIES[cat_idx[p]]
        for s, size in enumerate(cat[2]):
            rows.append((p, s, len(cat[2])))
            skus.append(f"P{p:05d}-{size}")
    prod_of = np.array([r[0] for r in rows])
    size_idx = np.array([r[1] for r in rows])
    n_sizes = np.array([r[2] for r in rows])
    sizes = [CATEGORIES[cat_idx[p]][2][s] for p, s in zip(prod_of, size_idx, strict=True)]
    adjectives = ("Classic", "Urban", "Everyday", "Premium", "Lite", "Pro", "Soft", "Active")
    cost = np.round(price[prod_of] * cost_share[prod_of], 2)
    products = pl.DataFrame(
        {
            "sku": skus,
            "product_id": [f"P{p:05d}" for p in prod_of],
            "product_name": [
                f"{adjectives[p % 8]} {CATEGORIES[cat_idx[p]][0].title()} {p:05d}" for p in prod_of
            ],
            "category": [CATEGORIES[cat_idx[p]][0] for p in prod_of],
            "size": sizes,
            "vendor_id": [f"V{vendor_for[p]:03d}" for p in prod_of],
            "list_price": price[prod_of],
            "unit_cost": cost,
        },
        schema=FEEDS["products"].schema,
    )
    countries = ("CN", "ID", "KR", "VN", "TR", "IN", "BD")
    vendors = pl.DataFrame(
        {
            "vendor_id": [f"V{v:03d}" for v in range(n_vendors)],
            "vendor_name": [
                f"Vendor {v:03d} {CATEGORIES[vendor_cat[v]][0].title()} Co."
                for v in range(n_vendors)
            ],
            "country": [countries[v % len(countries)] for v in range(n_vendors)],
        },
        schema=FEEDS["vendors"].schema,
    )
    carriers = pl.DataFrame(
        {
            "carrier": CARRIER_CODES,
            "carrier_name": [c[1] for c in CARRIERS],
            "base_pickup_cost": [c[2] for c in CARRIERS],
        },
        schema=FEEDS["carriers"].schema,
    )
    regions = pl.DataFrame(
        {
            "region": [r[0] for r in REGIONS],
            "region_name": [r[1] for r in REGIONS],
            "country": [r[2] for r in REGIONS],
            "zone": [r[3] for r in REGIONS],
        },
        schema=FEEDS["regions"].schema,
    )
    return Catalogue(
        feeds={"products": products, "vendors": vendors, "carriers": carriers, "regions": regions},
        sku_names=products["sku"].to_numpy(),
        sku_product=prod_of,
        sku_size=size_idx,
        sku_n_sizes=n_sizes,
        sku_category=cat_idx[prod_of],
        sku_vendor=vendor_for[prod_of],
        sku_price=price[prod_of],
        sku_cost=cost,
        sku_fit=fit[prod_of],
        popularity=popularity,
        product_vendor=vendor_for,
        product_fit=fit,
    )


def planted(rng: np.random.Generator, cat: Catalogue) -> Planted:
    """Two big (not the biggest) vendors turn defective; KILAT degrades in West Java for 6 weeks."""
    n_vendors = cat.feeds["vendors"].height
    vendor_cat = np.arange(n_vendors) % len(CATEGORIES)
    vendor_volume = np.bincount(
        cat.product_vendor,
        weights=cat.popularity,
        minlength=n_vendors,
    )
    defective = []
    for c in (0, 2):  # one apparel vendor and one electronics vendor go bad
        members = np.flatnonzero(vendor_cat == c)
        ranked = members[np.argsort(-vendor_volume[members])]
        v = int(ranked[2])  # a big vendor, not the biggest
        defective.append((v, float(rng.integers(420, 560))))
    defect_start = np.full(n_vendors, np.inf)
    for v, d in defective:
        defect_start[v] = d
    incident_start = float(rng.integers(560, 600))
    return Planted(
        defective, defect_start, ("KILAT", "ID-JB", incident_start, incident_start + 42.0)
    )


def customers(rng: np.random.Generator, n_orders: int) -> Customers:
    """About one customer per three orders, some very active, a few of them abusers."""
    n_customers = max(n_orders // 3, 50)
    region_share = np.array([r[4] for r in REGIONS])
    region = rng.choice(len(REGIONS), n_customers, p=region_share / region_share.sum())
    propensity = rng.normal(-0.1, 0.5, n_customers)
    activity = rng.pareto(1.6, n_customers) + 0.2
    abuser_draw = rng.random(n_customers)
    abuse = np.full(n_customers, -1)
    edges = np.cumsum(ABUSER_SHARES)
    for k in range(len(ABUSER_KINDS) - 1, -1, -1):
        abuse[abuser_draw < edges[k]] = k
    activity[abuse >= 0] *= 1.5  # abusers buy (and return) a lot
    return Customers(
        ids=ids("C", 0, n_customers, 7),
        region=region,
        propensity=propensity,
        weight=activity / activity.sum(),
        abuse=abuse,
    )
