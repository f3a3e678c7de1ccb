"""The synthetic shop: a deterministic, realistic returns history with its ground truth.

`generate_shop(n_orders, seed)` simulates two years of a multi-market online shop (Indonesia,
Singapore, Malaysia, Russia, Korea, China) and returns every feed of the data contract plus the
`_truth` tables that only evaluation may read: per-line return probabilities, vendors that turned
defective, a carrier that degraded in one region, and the customers who abuse returns.

Everything is vectorised numpy/polars so that a million order lines take seconds; the same seed
gives byte-identical frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import polars as pl
from scipy import stats

from flows.sources.texts import REASON_TEXTS, REVIEW_TEXTS
from warehouse.contract import FEEDS, REASON_CODES

START = datetime(2024, 1, 1)
AS_OF = datetime(2025, 12, 31)  # the export date: nothing later than this is in any feed
N_DAYS = (AS_OF - START).days
DAY_US = 86_400_000_000

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
COUNTRY_LANGUAGE = {"ID": "id", "SG": "en", "MY": "en", "RU": "ru", "KR": "ko", "CN": "zh"}
COUNTRY_COD_SHARE = {"ID": 0.38, "SG": 0.04, "MY": 0.22, "RU": 0.15, "KR": 0.02, "CN": 0.05}
COUNTRY_RTO_RATE = {"ID": 0.16, "SG": 0.03, "MY": 0.10, "RU": 0.08, "KR": 0.02, "CN": 0.04}

# carrier, name, base pickup cost, base NPR rate, weekend NPR uplift
CARRIERS = (
    ("SWIFT", "SwiftPost", 4.2, 0.07, 0.03),
    ("KILAT", "Kilat Express", 3.1, 0.13, 0.10),
    ("NORD", "Nordline", 4.8, 0.10, 0.02),
    ("HANA", "Hana Logistics", 3.9, 0.05, 0.01),
    ("DRAGON", "Dragon Courier", 3.4, 0.16, 0.06),
)
# which carriers serve a country, with their share of its pickups
CARRIER_ALLOCATION = {
    "ID": {"KILAT": 0.55, "SWIFT": 0.45},
    "SG": {"SWIFT": 0.7, "KILAT": 0.3},
    "MY": {"SWIFT": 0.5, "KILAT": 0.5},
    "RU": {"NORD": 0.75, "SWIFT": 0.25},
    "KR": {"HANA": 0.8, "SWIFT": 0.2},
    "CN": {"DRAGON": 0.65, "HANA": 0.35},
}
# NPR failure-reason mix per carrier (order of FAILURE_REASONS in the contract)
FAILURE_MIX = {
    "SWIFT": (0.45, 0.20, 0.20, 0.10, 0.05),
    "KILAT": (0.35, 0.20, 0.15, 0.10, 0.20),
    "NORD": (0.50, 0.15, 0.20, 0.10, 0.05),
    "HANA": (0.50, 0.15, 0.20, 0.12, 0.03),
    "DRAGON": (0.30, 0.25, 0.15, 0.10, 0.20),
}
INCIDENT_FAILURE_MIX = (0.15, 0.05, 0.05, 0.05, 0.70)  # the courier stops trying

# category, base return logit, sizes, median price, share of products
CATEGORIES = (
    ("apparel", -1.55, ("XS", "S", "M", "L", "XL", "XXL"), 24.0, 0.30),
    ("shoes", -1.75, ("36", "37", "38", "39", "40", "41", "42", "43", "44", "45"), 48.0, 0.14),
    ("electronics", -2.55, ("ONE",), 110.0, 0.14),
    ("sports", -2.35, ("S", "M", "L", "XL"), 32.0, 0.12),
    ("accessories", -2.75, ("ONE",), 19.0, 0.12),
    ("home", -3.05, ("ONE",), 36.0, 0.10),
    ("beauty", -3.35, ("ONE",), 14.0, 0.08),
)
SIZE_WEIGHTS = {  # how often each size sells, per number of sizes
    1: (1.0,),
    4: (0.22, 0.36, 0.28, 0.14),
    6: (0.07, 0.20, 0.30, 0.24, 0.13, 0.06),
    10: (0.04, 0.07, 0.11, 0.14, 0.16, 0.15, 0.13, 0.10, 0.06, 0.04),
}
# reason weights (order of REASON_CODES without rto_undelivered) for sized / unsized categories
REASON_BASE_SIZED = (0.20, 0.16, 0.07, 0.04, 0.04, 0.12, 0.22, 0.05, 0.10)
REASON_BASE_UNSIZED = (0.0, 0.0, 0.22, 0.10, 0.06, 0.18, 0.26, 0.06, 0.12)
CUSTOMER_REASONS = REASON_CODES[:-1]

POLICIES = (  # policy_id, from, to, window days, restocking fee share, free return shipping
    ("P2024", date(2024, 1, 1), date(2025, 3, 31), 30, 0.0, True),
    ("P2025", date(2025, 4, 1), None, 14, 0.10, True),
)
POLICY_CHANGE_DAY = (datetime(2025, 4, 1) - START).days

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

ABUSER_KINDS = ("serial_returner", "wardrobing", "empty_box", "pickup_claim")
ABUSER_SHARES = (0.015, 0.010, 0.003, 0.003)

CONDITION_NAMES = ("new", "like_new", "used", "damaged", "defective", "empty_box", "wrong_item")
DISPOSITION_NAMES = ("restock", "refurbish", "liquidate", "return_to_vendor", "dispose")
RECOVERY_SHARE = (1.0, 0.55, 0.30, 0.90, 0.0)  # of unit cost, per disposition


@dataclass(frozen=True)
class Shop:
    """Every feed of the contract plus the ground truth, as polars frames."""

    feeds: dict[str, pl.DataFrame]
    truth: dict[str, pl.DataFrame]

    def write(self, out: Path, file_format: str = "parquet") -> dict[str, int]:
        """Write one file per feed into `out` and the truth into `out/_truth` (always Parquet);
        rows written per feed."""
        return write_parts([self], out, file_format)


def _choice(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """One category index per row of a (rows × options) weight matrix."""
    cum = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cum[:, -1]
    return np.minimum((cum < u[:, None]).sum(axis=1), weights.shape[1] - 1)


def _lookup(table: dict[str, object], keys: np.ndarray) -> np.ndarray:
    """`table[key]` for every key; an empty key array gives an empty result (a slice may have
    no returns or no reviews)."""
    values, inverse = np.unique(keys, return_inverse=True)
    return np.array([table[k] for k in values.tolist()])[inverse.reshape(-1)]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _to_ts(days: np.ndarray) -> pl.Series:
    """Float days since START → microsecond timestamps (NaN → null)."""
    us = np.where(np.isnan(days), np.iinfo(np.int64).min, np.nan_to_num(days) * DAY_US)
    return pl.Series(np.datetime64(START, "us") + us.astype(np.int64).astype("timedelta64[us]"))


def _frame(feed: str, columns: dict[str, object]) -> pl.DataFrame:
    """A frame of a contract feed; object arrays (strings with nulls) go through Python lists."""
    data = {
        k: v.tolist() if isinstance(v, np.ndarray) and v.dtype == object else v
        for k, v in columns.items()
    }
    return pl.DataFrame(data, schema=FEEDS[feed].schema)


def _pick_text(
    rng: np.random.Generator,
    table: dict[str, dict[str, tuple[str, ...]]],
    keys: np.ndarray,
    languages: np.ndarray,
) -> np.ndarray:
    """A phrase for each (key, language) pair, chosen among that pair's variants."""
    out = np.empty(len(keys), dtype=object)
    for key, by_lang in table.items():
        for lang, variants in by_lang.items():
            idx = np.flatnonzero((keys == key) & (languages == lang))
            if len(idx):
                out[idx] = np.asarray(variants, dtype=object)[
                    rng.integers(0, len(variants), len(idx))
                ]
    return out


def _reference(rng: np.random.Generator, n_orders: int) -> dict[str, pl.DataFrame]:
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
            "unit_cost": np.round(price[prod_of] * cost_share[prod_of], 2),
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
            "carrier": [c[0] for c in CARRIERS],
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
    policy = pl.DataFrame(
        {
            "policy_id": [p[0] for p in POLICIES],
            "effective_from": [p[1] for p in POLICIES],
            "effective_to": [p[2] for p in POLICIES],
            "window_days": [p[3] for p in POLICIES],
            "restocking_fee_pct": [p[4] for p in POLICIES],
            "free_return_shipping": [p[5] for p in POLICIES],
        },
        schema=FEEDS["return_policy"].schema,
    )
    return {
        "products": products,
        "vendors": vendors,
        "carriers": carriers,
        "regions": regions,
        "return_policy": policy,
        # internal arrays the simulation needs (not written)
        "_sku": pl.DataFrame(
            {
                "prod": prod_of,
                "size_idx": size_idx,
                "n_sizes": n_sizes,
                "cat": cat_idx[prod_of],
                "vendor": vendor_for[prod_of],
                "price": price[prod_of],
                "cost": np.round(price[prod_of] * cost_share[prod_of], 2),
                "fit": fit[prod_of],
            }
        ),
        "_product": pl.DataFrame({"popularity": popularity, "cat": cat_idx, "vendor": vendor_for}),
    }


def _orders_per_day(rng: np.random.Generator, n_orders: int) -> np.ndarray:
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


@dataclass(frozen=True)
class _World:
    """What every chunk of the simulation shares: catalogue, customers, planted truths."""

    ref: dict[str, pl.DataFrame]
    sku_info: pl.DataFrame
    prod_info: pl.DataFrame
    defective: list[tuple[int, float]]
    defect_start: np.ndarray
    incident: tuple[str, str, float, float]
    cust_region: np.ndarray
    cust_propensity: np.ndarray
    cust_weight: np.ndarray
    cust_abuse: np.ndarray
    cust_ids: np.ndarray


def _world(rng: np.random.Generator, n_orders: int) -> _World:
    ref = _reference(rng, n_orders)
    sku_info, prod_info = ref.pop("_sku"), ref.pop("_product")
    n_vendors = ref["vendors"].height

    # planted truths
    vendor_cat = np.arange(n_vendors) % len(CATEGORIES)
    vendor_volume = np.bincount(
        prod_info["vendor"].to_numpy(),
        weights=prod_info["popularity"].to_numpy(),
        minlength=n_vendors,
    )
    defective = []
    for cat in (0, 2):  # one apparel vendor and one electronics vendor go bad
        members = np.flatnonzero(vendor_cat == cat)
        ranked = members[np.argsort(-vendor_volume[members])]
        v = int(ranked[2])  # a big vendor, not the biggest
        defective.append((v, float(rng.integers(420, 560))))
    defect_start = np.full(n_vendors, np.inf)
    for v, d in defective:
        defect_start[v] = d
    incident_start = float(rng.integers(560, 600))
    incident = ("KILAT", "ID-JB", incident_start, incident_start + 42.0)

    # customers
    n_customers = max(n_orders // 3, 50)
    region_share = np.array([r[4] for r in REGIONS])
    cust_region = rng.choice(len(REGIONS), n_customers, p=region_share / region_share.sum())
    cust_propensity = rng.normal(-0.1, 0.5, n_customers)
    cust_activity = rng.pareto(1.6, n_customers) + 0.2
    abuser_draw = rng.random(n_customers)
    cust_abuse = np.full(n_customers, -1)
    edges = np.cumsum(ABUSER_SHARES)
    for k in range(len(ABUSER_KINDS) - 1, -1, -1):
        cust_abuse[abuser_draw < edges[k]] = k
    cust_activity[cust_abuse >= 0] *= 1.5  # abusers buy (and return) a lot
    cust_ids = ("C" + pl.Series(np.arange(n_customers)).cast(pl.String).str.zfill(7)).to_numpy()
    return _World(
        ref,
        sku_info,
        prod_info,
        defective,
        defect_start,
        incident,
        cust_region,
        cust_propensity,
        cust_activity / cust_activity.sum(),
        cust_abuse,
        cust_ids,
    )


def _truths(world: _World) -> dict[str, pl.DataFrame]:
    """The planted answers that do not depend on the orders."""
    prod_fit = world.sku_info.group_by("prod").agg(pl.col("fit").first()).sort("prod")
    incident = world.incident

    def day(d: float) -> date:
        return (START + np.timedelta64(int(d), "D").astype(object)).date()

    return {
        "defective_vendors": pl.DataFrame(
            {
                "vendor_id": [f"V{v:03d}" for v, _ in world.defective],
                "defect_start": [day(d) for _, d in world.defective],
            }
        ),
        "carrier_incidents": pl.DataFrame(
            {
                "carrier": [incident[0]],
                "region": [incident[1]],
                "start": [day(incident[2])],
                "end": [day(incident[3])],
            }
        ),
        "abusers": pl.DataFrame(
            {
                "customer_id": world.cust_ids[world.cust_abuse >= 0],
                "kind": np.asarray(ABUSER_KINDS)[world.cust_abuse[world.cust_abuse >= 0]],
            }
        ),
        "product_fit": pl.DataFrame(
            {
                "product_id": [f"P{p:05d}" for p in prod_fit["prod"]],
                "fit": np.array(["runs_small", "true_to_size", "runs_large"])[
                    prod_fit["fit"].to_numpy().astype(np.int64) + 1
                ],
            }
        ),
    }


CHUNK_ORDERS = 250_000  # orders simulated at once: bounds memory for any shop size


def simulate(n_orders: int, seed: int = 7) -> Iterator[Shop]:
    """The shop in consecutive slices of time, each a `Shop` of its own.

    The first slice also carries the reference tables and the planted truths; every slice
    carries its orders, returns, scans, reviews and true return probabilities. Slicing keeps
    memory bounded whatever the shop's size; the slice size is fixed (CHUNK_ORDERS), so a
    seed always gives the same shop.
    """
    if n_orders < 100:
        raise ValueError("the synthetic shop needs at least 100 orders")
    world = _world(np.random.default_rng([seed, 0]), n_orders)
    per_day = _orders_per_day(np.random.default_rng([seed, 1]), n_orders)
    ends = np.cumsum(per_day)
    offsets = {"order": 0, "return": 0, "scan": 0, "review": 0}
    first_day, chunk = 0, 0
    while first_day <= N_DAYS:
        start_count = ends[first_day - 1] if first_day else 0
        last_day = int(np.searchsorted(ends, start_count + CHUNK_ORDERS, side="right"))
        last_day = min(max(last_day, first_day + 1), N_DAYS + 1)
        rng = np.random.default_rng([seed, 2, chunk])
        counts = per_day[first_day:last_day]
        order_day = np.repeat(np.arange(first_day, last_day), counts).astype(float)
        order_day = np.sort(order_day + rng.beta(2.2, 1.6, len(order_day)))  # evening-heavy
        feeds, truth = _simulate_orders(world, rng, order_day, offsets)
        if chunk == 0:
            feeds = {**world.ref, **feeds}
            truth = {**truth, **_truths(world)}
        yield Shop(feeds, truth)
        first_day, chunk = last_day, chunk + 1


def generate_shop(n_orders: int, seed: int = 7) -> Shop:
    """Simulate `n_orders` orders (about 1.6 lines each) and everything that follows them."""
    parts = list(simulate(n_orders, seed))
    names = parts[0].feeds.keys()
    return Shop(
        feeds={k: pl.concat([p.feeds[k] for p in parts if k in p.feeds]) for k in names},
        truth={k: pl.concat([p.truth[k] for p in parts if k in p.truth]) for k in parts[0].truth},
    )


def write_shop(n_orders: int, seed: int, out: Path, file_format: str = "parquet") -> dict[str, int]:
    """Simulate slice by slice and append each to its file; rows written per feed."""
    return write_parts(simulate(n_orders, seed), out, file_format)


def write_parts(parts: Iterable[Shop], out: Path, file_format: str = "parquet") -> dict[str, int]:
    """Append each part's feeds to one file per feed in `out`, and its truth to `out/_truth`
    (always Parquet), one part in memory at a time; rows written per feed."""
    import pyarrow.parquet as pq

    out.mkdir(parents=True, exist_ok=True)
    (out / "_truth").mkdir(exist_ok=True)
    writers: dict[Path, pq.ParquetWriter] = {}
    rows: dict[str, int] = {}

    def append(path: Path, frame: pl.DataFrame) -> None:
        if path.suffix == ".csv":
            with path.open("a" if path in writers else "w", encoding="utf-8") as fh:
                frame.write_csv(fh, include_header=path not in writers)
            writers.setdefault(path, None)  # type: ignore[arg-type]
            return
        table = frame.to_arrow()
        if path not in writers:
            writers[path] = pq.ParquetWriter(path, table.schema)
        writers[path].write_table(table)

    try:
        for part in parts:
            for name, frame in part.feeds.items():
                append(out / f"{name}.{file_format}", frame)
                rows[name] = rows.get(name, 0) + frame.height
            for name, frame in part.truth.items():
                append(out / "_truth" / f"{name}.parquet", frame)
    finally:
        for writer in writers.values():
            if writer is not None:
                writer.close()
    return rows


def _simulate_orders(
    world: _World, rng: np.random.Generator, order_day: np.ndarray, offsets: dict[str, int]
) -> tuple[dict[str, pl.DataFrame], dict[str, pl.DataFrame]]:
    """Orders placed at `order_day` and all that follows them; advances the id offsets."""
    ref, sku_info, prod_info = world.ref, world.sku_info, world.prod_info
    defect_start, incident = world.defect_start, world.incident
    cust_region, cust_propensity = world.cust_region, world.cust_propensity
    cust_abuse, cust_ids = world.cust_abuse, world.cust_ids
    n_orders = len(order_day)
    pop = prod_info["popularity"].to_numpy()

    # --- orders ---------------------------------------------------------------------------
    order_cust = rng.choice(len(world.cust_weight), n_orders, p=world.cust_weight)
    region = cust_region[order_cust]
    country = np.array([REGIONS[r][2] for r in range(len(REGIONS))])[region]
    cod_share = _lookup(COUNTRY_COD_SHARE, country)
    pay_other = np.array(["card", "wallet", "bank_transfer", "bnpl"])[
        rng.choice(4, n_orders, p=[0.45, 0.3, 0.15, 0.1])
    ]
    payment = np.where(rng.random(n_orders) < cod_share, "cod", pay_other)
    channel = np.array(["web", "app", "marketplace", "social"])[
        rng.choice(4, n_orders, p=[0.35, 0.4, 0.18, 0.07])
    ]
    day_int = order_day.astype(int)
    dates = np.datetime64(START.date()) + day_int
    month = (dates.astype("datetime64[M]").astype(int) % 12) + 1
    dom = (dates - dates.astype("datetime64[M]")).astype(int) + 1
    is_promo = np.array([(m, d) in PROMO_DAYS for m, d in zip(month, dom, strict=True)])
    n_lines = 1 + np.minimum(rng.poisson(0.5, n_orders), 5)

    # lines
    line_order = np.repeat(np.arange(n_orders), n_lines)
    line_prod = rng.choice(len(pop), len(line_order), p=pop / pop.sum())
    sku_prod = sku_info["prod"].to_numpy()
    first_sku = np.searchsorted(sku_prod, np.arange(len(pop)))
    n_sizes_p = np.bincount(sku_prod, minlength=len(pop))
    size_pick = np.zeros(len(line_prod), dtype=np.int64)
    for k, weights in SIZE_WEIGHTS.items():
        idx = np.flatnonzero(n_sizes_p[line_prod] == k)
        size_pick[idx] = rng.choice(k, len(idx), p=np.asarray(weights))
    line_sku = first_sku[line_prod] + size_pick
    # bracketing: the same product in a neighbouring size in the same order
    abuse_line = cust_abuse[order_cust[line_order]]
    p_bracket = np.where(abuse_line == 1, 0.35, np.where(abuse_line == 0, 0.2, 0.07))
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

    sku_cat = sku_info["cat"].to_numpy()[line_sku]
    price = sku_info["price"].to_numpy()[line_sku]
    cost = sku_info["cost"].to_numpy()[line_sku]
    fit = sku_info["fit"].to_numpy()[line_sku]
    vendor = sku_info["vendor"].to_numpy()[line_sku]
    size_idx = sku_info["size_idx"].to_numpy()[line_sku]
    n_sizes = sku_info["n_sizes"].to_numpy()[line_sku]
    qty = rng.choice([1, 2, 3], n, p=[0.86, 0.10, 0.04])
    qty = np.where(in_bracket, 1, qty)
    depth = np.where(
        is_promo[line_order],
        rng.uniform(0.15, 0.5, n),
        np.where(rng.random(n) < 0.2, rng.uniform(0.05, 0.2, n), 0.0),
    )
    discount = np.round(price * qty * depth, 2)
    paid = price * qty - discount

    o_day = order_day[line_order]
    zone = np.array([r[3] for r in REGIONS])[region]
    promised_o = np.floor(order_day) + np.array([0, 2, 4, 6])[zone] + 0.75
    delay_o = rng.normal(-0.4, 1.2, n_orders) + rng.exponential(0.6, n_orders) * (zone - 1)
    delay_o += np.where(is_promo, rng.exponential(1.5, n_orders), 0)
    delivered_o = np.maximum(promised_o + delay_o, order_day + 0.5)
    rto_rate = _lookup(COUNTRY_RTO_RATE, country)
    rto_o = (payment == "cod") & (rng.random(n_orders) < rto_rate)
    rto_o |= rng.random(n_orders) < 0.004
    rto_o &= promised_o + 3 <= N_DAYS  # an RTO needs time to come back before the export
    delivered_o = np.where(rto_o | (delivered_o > N_DAYS), np.nan, delivered_o)
    delivered = delivered_o[line_order]
    late_days = np.clip(np.nan_to_num(delivered - promised_o[line_order]), 0, 6)

    # --- return propensity (the truth the models must learn) --------------------------------
    cat_logit = np.array([c[1] for c in CATEGORIES])[sku_cat]
    cat_median = np.array([c[3] for c in CATEGORIES])[sku_cat]
    cust = order_cust[line_order]
    extreme_size = (n_sizes > 1) & ((size_idx == 0) | (size_idx == n_sizes - 1))
    defect_active = o_day >= defect_start[vendor]
    logit = (
        cat_logit
        + 0.35 * np.log(price / cat_median)
        + 1.6 * depth
        + 0.30 * extreme_size
        + 0.45 * (fit != 0) * (n_sizes > 1)
        + 0.55 * (payment[line_order] == "cod")
        + 0.18 * late_days
        + cust_propensity[cust]
        + 1.7 * in_bracket
        + 2.3 * defect_active
        + 1.9 * (cust_abuse[cust] == 0)
        + 2.1 * ((cust_abuse[cust] == 1) & (n_sizes > 1))
        + 1.5 * (cust_abuse[cust] >= 2)
        + 0.12 * (qty > 1)
        - 0.25 * (np.array(channel)[line_order] == "marketplace")
    )
    p_intent = _sigmoid(logit)
    window = np.where(o_day >= POLICY_CHANGE_DAY, POLICIES[1][3], POLICIES[0][3])
    lag_shape, lag_scale = 1.8, 4.5  # days from delivery to request
    rush = 0.35  # share of late deciders who hurry in before the deadline
    in_window = stats.gamma.cdf(window, lag_shape, scale=lag_scale)
    p_return = np.where(np.isnan(delivered), 0.0, p_intent * (in_window + rush * (1 - in_window)))

    lag = rng.gamma(lag_shape, lag_scale, n)
    late_decider = lag > window
    rushes = rng.random(n) < rush
    lag = np.where(late_decider & rushes, window - rng.uniform(0, 1.5, n), lag)
    returns_mask = (~np.isnan(delivered)) & (rng.random(n) < p_intent) & ~(late_decider & ~rushes)
    req_day = delivered + lag
    cust_ret = np.flatnonzero(returns_mask & (req_day <= N_DAYS))

    # --- customer returns -----------------------------------------------------------------
    m = len(cust_ret)
    r_cat = sku_cat[cust_ret]
    sized = n_sizes[cust_ret] > 1
    w = np.where(sized[:, None], np.array(REASON_BASE_SIZED), np.array(REASON_BASE_UNSIZED))
    w = w.copy()
    r_fit = fit[cust_ret]
    w[:, 0] *= np.where(r_fit == -1, 4.0, 1.0) * np.where(in_bracket[cust_ret], 3.0, 1.0)
    w[:, 1] *= np.where(r_fit == 1, 4.0, 1.0) * np.where(in_bracket[cust_ret], 3.0, 1.0)
    w[:, 2] *= np.where(defect_active[cust_ret], 25.0, 1.0) * np.where(r_cat == 2, 2.0, 1.0)
    w[:, 5] *= np.where(defect_active[cust_ret], 4.0, 1.0)
    w[:, 7] *= 1.0 + 2.0 * late_days[cust_ret]
    w[:, 6] *= np.where(cust_abuse[cust[cust_ret]] == 1, 3.0, 1.0)
    reason_i = _choice(rng, w)
    reason = np.asarray(CUSTOMER_REASONS, dtype=object)[reason_i]

    r_country = country[line_order[cust_ret]]
    lang = _lookup(COUNTRY_LANGUAGE, r_country).astype(object)
    lang = np.where(rng.random(m) < 0.1, "en", lang)
    text_reason = np.where(
        rng.random(m) < 0.85,
        reason,
        np.asarray(CUSTOMER_REASONS, dtype=object)[rng.integers(0, len(CUSTOMER_REASONS), m)],
    )
    text_reason = np.where(
        sized | ~np.isin(text_reason, ["size_too_small", "size_too_large"]),
        text_reason,
        "changed_mind",
    )
    reason_text = _pick_text(rng, REASON_TEXTS, text_reason, lang)
    reason_text = np.where(rng.random(m) < 0.12, None, reason_text)

    fault = np.isin(reason, ["defective", "damaged_in_transit", "wrong_item", "not_as_described"])
    size_reason = np.isin(reason, ["size_too_small", "size_too_large"])
    res_draw = rng.random(m)
    resolution = np.where(
        size_reason & (res_draw < 0.45),
        "exchange",
        np.where(res_draw < 0.72, "refund", np.where(res_draw < 0.85, "exchange", "store_credit")),
    )
    r_qty = np.where(qty[cust_ret] > 1, rng.integers(1, qty[cust_ret] + 1), 1)
    paid_unit = paid[cust_ret] / qty[cust_ret]
    fee_pct = np.where(o_day[cust_ret] >= POLICY_CHANGE_DAY, POLICIES[1][4], POLICIES[0][4])
    restocking = np.where(
        (resolution != "exchange") & ~fault, np.round(paid_unit * r_qty * fee_pct, 2), 0.0
    )
    refund = np.where(resolution == "exchange", 0.0, np.round(paid_unit * r_qty - restocking, 2))

    # pickup or drop-off, carrier by region
    r_region = region[line_order[cust_ret]]
    r_zone = zone[line_order[cust_ret]]
    carrier_codes = [c[0] for c in CARRIERS]
    alloc = np.zeros((len(REGIONS), len(CARRIERS)))
    for ri, reg in enumerate(REGIONS):
        for code, share in CARRIER_ALLOCATION[reg[2]].items():
            alloc[ri, carrier_codes.index(code)] = share
    r_carrier = _choice(rng, alloc[r_region])
    r_abuse = cust_abuse[cust[cust_ret]]
    # a pickup-claim abuser claims on about half of their returns and returns the rest honestly
    r_abuse = np.where((r_abuse == 3) & (rng.random(m) < 0.5), -1, r_abuse)
    pickup = (rng.random(m) >= 0.12) | (r_abuse == 3)
    req = req_day[cust_ret]

    # pickup attempts: each fails with the carrier × region × weekday NPR rate of that day
    scheduled = np.floor(req) + 1 + 0.35 + rng.uniform(0, 0.2, m)
    base_npr = np.array([c[3] for c in CARRIERS])[r_carrier]
    weekend_up = np.array([c[4] for c in CARRIERS])[r_carrier]
    region_npr = rng.normal(0, 0.02, (len(REGIONS), len(CARRIERS))).clip(-0.03, 0.05)
    region_npr[[r[2] for r in REGIONS].index("ID") + 4] += 0.04  # North Sumatra is hard
    attempt_days = np.full((m, 4), np.nan)
    attempt_fail = np.zeros((m, 4), dtype=bool)
    attempt_reason = np.full((m, 4), -1)
    done = ~pickup
    day = scheduled.copy()
    inc_carrier = carrier_codes.index(incident[0])
    inc_region = [r[0] for r in REGIONS].index(incident[1])
    for k in range(4):
        active = ~done
        attempt_days[active, k] = day[active] + 0.05
        wd = (np.floor(day).astype(int) + 0) % 7  # START is a Monday
        in_incident = (
            (r_carrier == inc_carrier)
            & (r_region == inc_region)
            & (day >= incident[2])
            & (day < incident[3])
        )
        p_fail = base_npr + weekend_up * (wd >= 5) + region_npr[r_region, r_carrier]
        p_fail = np.where(in_incident, p_fail + 0.38, p_fail)
        p_fail = np.where(r_abuse == 3, 0.93, p_fail)
        fails = active & (rng.random(m) < p_fail) & ((k < 3) | (r_abuse == 3))
        mix = np.array([FAILURE_MIX[c] for c in carrier_codes])[r_carrier]
        mix = np.where(in_incident[:, None], np.array(INCIDENT_FAILURE_MIX), mix)
        mix = np.where((r_abuse == 3)[:, None], np.array((1.0, 0, 0, 0, 0)), mix)
        attempt_reason[:, k] = np.where(fails, _choice(rng, mix), -1)
        attempt_fail[:, k] = fails
        done = done | (active & ~fails)
        day = np.where(fails, np.floor(day) + 1 + 0.35 + rng.uniform(0, 0.2, m), day)
    n_attempts = (~np.isnan(attempt_days)).sum(axis=1)
    picked = pickup & ~attempt_fail[np.arange(m), np.maximum(n_attempts - 1, 0)]
    last_attempt = attempt_days[np.arange(m), np.maximum(n_attempts - 1, 0)]
    pickup_at = np.where(picked, last_attempt + rng.uniform(0.05, 0.3, m), np.nan)
    transit_at = pickup_at + rng.uniform(0.3, 0.8, m)
    received = np.where(
        pickup,
        pickup_at + 0.5 + r_zone * rng.gamma(2.0, 0.6, m),
        req + 1.5 + rng.gamma(2.0, 1.2, m),
    )
    received = np.where(received > N_DAYS, np.nan, received)

    # inspection and disposition
    cond_w = np.tile(np.array([0.36, 0.33, 0.20, 0.06, 0.02, 0.0, 0.01]), (m, 1))
    cond_w[reason == "defective"] = (0.02, 0.03, 0.05, 0.10, 0.80, 0.0, 0.0)
    cond_w[reason == "damaged_in_transit"] = (0.02, 0.03, 0.05, 0.85, 0.05, 0.0, 0.0)
    cond_w[r_abuse == 1] = (0.03, 0.07, 0.85, 0.05, 0.0, 0.0, 0.0)
    cond_w[r_abuse == 2] = (0.05, 0.05, 0.05, 0.0, 0.0, 0.55, 0.30)
    condition_i = _choice(rng, cond_w)
    disp_w = np.array(
        [
            (0.97, 0.0, 0.03, 0.0, 0.0),  # new
            (0.85, 0.05, 0.10, 0.0, 0.0),  # like_new
            (0.05, 0.40, 0.50, 0.0, 0.05),  # used
            (0.0, 0.20, 0.35, 0.05, 0.40),  # damaged
            (0.0, 0.05, 0.0, 0.80, 0.15),  # defective
            (0.0, 0.0, 0.0, 0.0, 1.0),  # empty_box
            (0.0, 0.0, 0.0, 0.0, 1.0),  # wrong_item
        ]
    )[condition_i]
    disposition_i = _choice(rng, disp_w)
    recovered = np.round(cost[cust_ret] * r_qty * np.array(RECOVERY_SHARE)[disposition_i], 2)
    has_received = ~np.isnan(received)
    condition = np.where(has_received, np.asarray(CONDITION_NAMES, dtype=object)[condition_i], None)
    disposition = np.where(
        has_received, np.asarray(DISPOSITION_NAMES, dtype=object)[disposition_i], None
    )
    recovered = np.where(has_received, recovered, 0.0)
    base_cost = np.array([c[2] for c in CARRIERS])[r_carrier]
    zone_factor = np.array([0, 1.0, 1.3, 1.7])[r_zone]
    ship_cost = np.where(
        pickup,
        base_cost * zone_factor * (1 + 0.15 * (n_attempts - 1)),
        base_cost * 0.6 * zone_factor,
    )
    ship_cost = np.where(pickup & ~picked, base_cost * 0.5 * n_attempts, ship_cost)
    ship_cost = np.round(ship_cost * (0.9 + 0.1 * r_qty), 2)
    handling = np.where(has_received, np.round(2.4 + 0.6 * r_qty, 2), 0.0)
    instant = (paid_unit * r_qty < 15) | (r_abuse == 3)  # low value or "picked up" claims
    refunded = np.where(
        instant, req + rng.uniform(0.1, 1.0, m), received + rng.uniform(0.2, 2.5, m)
    )
    refunded = np.where((resolution == "exchange") | (refunded > N_DAYS), np.nan, refunded)
    refund = np.where(np.isnan(refunded) & (resolution != "exchange"), 0.0, refund)
    restocking = np.where(np.isnan(refunded) & (resolution != "exchange"), 0.0, restocking)

    # --- RTO --------------------------------------------------------------------------------
    rto_lines = np.flatnonzero(np.isnan(delivered) & rto_o[line_order])
    k = len(rto_lines)
    rto_req = promised_o[line_order[rto_lines]] + rng.uniform(1.0, 3.0, k)
    rto_recv = rto_req + rng.uniform(2.0, 7.0, k)
    rto_recv = np.where(rto_recv > N_DAYS, np.nan, rto_recv)
    rto_zone = zone[line_order[rto_lines]]
    rto_carrier = _choice(rng, alloc[region[line_order[rto_lines]]])

    ret_idx = np.concatenate([cust_ret, rto_lines])
    is_rto = np.concatenate([np.zeros(m, dtype=bool), np.ones(k, dtype=bool)])
    ret_order = np.argsort(np.concatenate([req, rto_req]), kind="stable")
    rto_received = ~np.isnan(rto_recv)

    order_ids = pl.Series(offsets["order"] + np.arange(n_orders)).cast(pl.String).str.zfill(8)
    order_ids = ("O" + order_ids).to_numpy()
    sku_names = ref["products"]["sku"].to_numpy()
    region_codes = np.array([r[0] for r in REGIONS], dtype=object)

    orders = pl.DataFrame(
        {
            "order_id": order_ids[line_order],
            "line_id": line_no.astype(np.int64),
            "customer_id": cust_ids[cust],
            "sku": sku_names[line_sku],
            "quantity": qty.astype(np.int64),
            "unit_price": price,
            "discount_amount": discount,
            "ordered_at": _to_ts(o_day),
            "channel": channel[line_order],
            "payment_method": payment[line_order],
            "ship_region": region_codes[region[line_order]],
            "promised_delivery_at": _to_ts(promised_o[line_order]),
            "delivered_at": _to_ts(delivered),
        },
        schema=FEEDS["orders"].schema,
    )

    def cat(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b])[ret_order]

    nan_k = np.full(k, np.nan)
    none_k = np.full(k, None, dtype=object)
    return_ids = (
        "R" + pl.Series(offsets["return"] + np.arange(m + k)).cast(pl.String).str.zfill(8)
    ).to_numpy()
    rto_cost = (
        np.array([c[2] for c in CARRIERS])[rto_carrier] * np.array([0, 1.0, 1.3, 1.7])[rto_zone]
    )
    returns = _frame(
        "returns",
        {
            "return_id": return_ids,
            "order_id": order_ids[line_order[ret_idx]][ret_order],
            "line_id": line_no[ret_idx][ret_order].astype(np.int64),
            "sku": sku_names[line_sku[ret_idx]][ret_order],
            "quantity": cat(r_qty, qty[rto_lines]).astype(np.int64),
            "return_type": np.where(is_rto, "rto", "customer_return")[ret_order],
            "requested_at": _to_ts(cat(req, rto_req)),
            "reason_code": cat(reason, np.full(k, "rto_undelivered", dtype=object)),
            "reason_text": cat(reason_text, none_k),
            "resolution": cat(resolution.astype(object), none_k),
            "refund_amount": cat(refund, np.zeros(k)),
            "return_shipping_cost": cat(ship_cost, np.round(rto_cost, 2)),
            "handling_cost": cat(
                handling, np.where(rto_received, np.round(2.4 + 0.6 * qty[rto_lines], 2), 0.0)
            ),
            "restocking_fee": cat(restocking, np.zeros(k)),
            "return_method": cat(np.where(pickup, "pickup", "dropoff").astype(object), none_k),
            "carrier": cat(
                np.asarray(carrier_codes, dtype=object)[r_carrier],
                np.asarray(carrier_codes, dtype=object)[rto_carrier],
            ),
            "received_at": _to_ts(cat(received, rto_recv)),
            "condition": cat(condition, np.where(rto_received, "new", None)),
            "disposition": cat(disposition, np.where(rto_received, "restock", None)),
            "recovered_value": cat(
                recovered,
                np.where(rto_received, np.round(cost[rto_lines] * qty[rto_lines], 2), 0.0),
            ),
            "refunded_at": _to_ts(cat(refunded, nan_k)),
        },
    )
    cust_return_ids = return_ids[np.argsort(ret_order)[:m]]

    # --- carrier scans ----------------------------------------------------------------------
    scans = _scans(
        rng,
        offsets["scan"],
        cust_return_ids,
        pickup,
        np.asarray(carrier_codes)[r_carrier],
        region_codes[r_region],
        scheduled,
        attempt_days,
        attempt_fail,
        attempt_reason,
        pickup_at,
        transit_at,
        received,
    )

    # --- reviews ----------------------------------------------------------------------------
    reviews = _reviews(
        rng,
        offsets["review"],
        n,
        delivered,
        returns_mask,
        defect_active,
        country[line_order],
        order_ids[line_order],
        cust_ids[cust],
        sku_names[line_sku],
    )

    offsets["order"] += n_orders
    offsets["return"] += m + k
    offsets["scan"] += scans.height
    offsets["review"] += reviews.height
    truth = {
        "return_probability": pl.DataFrame(
            {
                "order_id": order_ids[line_order],
                "line_id": line_no.astype(np.int64),
                "p_return": p_return,
            }
        )
    }
    return {"orders": orders, "returns": returns, "carrier_scans": scans, "reviews": reviews}, truth


def _scans(
    rng: np.random.Generator,
    offset: int,
    return_ids: np.ndarray,
    pickup: np.ndarray,
    carrier: np.ndarray,
    region: np.ndarray,
    scheduled: np.ndarray,
    attempt_days: np.ndarray,
    attempt_fail: np.ndarray,
    attempt_reason: np.ndarray,
    pickup_at: np.ndarray,
    transit_at: np.ndarray,
    received: np.ndarray,
) -> pl.DataFrame:
    """Scan events of every reverse pickup, as the carriers report them."""
    from warehouse.contract import FAILURE_REASONS

    idx = np.flatnonzero(pickup)
    n_att = (~np.isnan(attempt_days[idx])).sum(axis=1)
    parts = []

    def events(
        rows: np.ndarray,
        code: str,
        at: np.ndarray,
        attempt: np.ndarray,
        reason: np.ndarray | None = None,
    ) -> None:
        keep = ~np.isnan(at) & (at <= N_DAYS)
        parts.append(
            pl.DataFrame(
                {
                    "row": rows[keep],
                    "return_id": return_ids[rows[keep]].tolist(),
                    "carrier": carrier[rows[keep]].tolist(),
                    "event_code": [code] * int(keep.sum()),
                    "failure_reason": (None if reason is None else reason[keep].tolist()),
                    "attempt": attempt[keep].astype(np.int64),
                    "event_day": at[keep],
                    "region": region[rows[keep]].tolist(),
                },
                schema_overrides={  # explicit, so that a slice without pickups still stacks
                    "row": pl.Int64,
                    "attempt": pl.Int64,
                    "event_day": pl.Float64,
                    "return_id": pl.String,
                    "carrier": pl.String,
                    "event_code": pl.String,
                    "failure_reason": pl.String,
                    "region": pl.String,
                },
            )
        )

    events(idx, "pickup_scheduled", scheduled[idx] - 0.3, np.ones(len(idx)))
    for k in range(attempt_days.shape[1]):
        has = n_att > k
        rows = idx[has]
        at = attempt_days[rows, k]
        events(rows, "out_for_pickup", at, np.full(len(rows), k + 1))
        failed = attempt_fail[rows, k]
        reasons = np.asarray(FAILURE_REASONS, dtype=object)[np.maximum(attempt_reason[rows, k], 0)]
        events(
            rows[failed],
            "pickup_failed",
            at[failed] + rng.uniform(0.05, 0.35, failed.sum()),
            np.full(failed.sum(), k + 1),
            reasons[failed],
        )
    events(idx, "picked_up", pickup_at[idx], n_att)
    events(idx, "in_transit", transit_at[idx], n_att)
    events(
        idx,
        "delivered_to_warehouse",
        np.where(np.isnan(pickup_at[idx]), np.nan, received[idx]),
        n_att,
    )
    scans = pl.concat(parts).sort(["row", "event_day"])
    n = scans.height
    return scans.select(
        scan_id=pl.lit("S") + pl.Series(offset + np.arange(n)).cast(pl.String).str.zfill(9),
        return_id="return_id",
        awb=pl.col("carrier") + pl.col("return_id").str.slice(1),
        carrier="carrier",
        event_code="event_code",
        failure_reason="failure_reason",
        attempt="attempt",
        event_at=_to_ts(scans["event_day"].to_numpy()),
        region="region",
    ).cast(FEEDS["carrier_scans"].schema)  # type: ignore[arg-type]


def _reviews(
    rng: np.random.Generator,
    offset: int,
    n: int,
    delivered: np.ndarray,
    returned: np.ndarray,
    defect_active: np.ndarray,
    country: np.ndarray,
    order_ids: np.ndarray,
    customer_ids: np.ndarray,
    skus: np.ndarray,
) -> pl.DataFrame:
    """Reviews of delivered lines: returned and defective items are rated lower and say why."""
    p_review = np.where(returned, 0.2, 0.1) + 0.15 * defect_active
    writes = ~np.isnan(delivered) & (rng.random(n) < p_review)
    at = delivered + rng.exponential(6.0, n) + 0.2
    idx = np.flatnonzero(writes & (at <= N_DAYS))
    k = len(idx)
    mu = 4.35 - 1.3 * returned[idx] - 2.4 * defect_active[idx]
    rating = np.clip(np.round(rng.normal(mu, 0.85)), 1, 5).astype(np.int64)
    mood = np.where(rating >= 4, "positive", np.where(rating == 3, "neutral", "negative"))
    mood = np.where(defect_active[idx] & (rating <= 2) & (rng.random(k) < 0.8), "defect", mood)
    lang = _lookup(COUNTRY_LANGUAGE, country[idx]).astype(object)
    lang = np.where(rng.random(k) < 0.1, "en", lang)
    text = _pick_text(rng, REVIEW_TEXTS, mood.astype(object), lang)
    text = np.where(rng.random(k) < 0.25, None, text)
    order = np.where(rng.random(k) < 0.05, None, order_ids[idx].astype(object))
    return _frame(
        "reviews",
        {
            "review_id": (
                "V" + pl.Series(offset + np.arange(k)).cast(pl.String).str.zfill(8)
            ).to_numpy(),
            "order_id": order,
            "sku": skus[idx],
            "customer_id": customer_ids[idx],
            "rating": rating,
            "text": text,
            "language": lang,
            "reviewed_at": _to_ts(at[idx]),
        },
    )
