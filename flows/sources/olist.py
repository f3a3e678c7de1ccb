"""Olist Brazilian e-commerce → contract feeds: order items, sellers, products and reviews.

Olist has no returns field, so this adapter writes no returns: its real signals are delivery
against the estimate, cancellations, low scores and complaint text (reviews in Portuguese).
The rules (docs/real-data.md):
- An order line is an order item whose order is in the orders table (one row per unit, so
  quantity 1); canceled and unavailable orders were not sold and are only counted.
- The customer is Olist's customer_unique_id when the customers table has the order's
  customer, else the order's customer_id; the ship region is the customer's state (BR-SP),
  or BR when the state is unknown.
- The payment method is the order's largest payment: credit and debit card → card, boleto →
  bank_transfer, voucher → wallet; other values are passed on for the contract to quarantine.
- A product's vendor is the seller who sold it most often in the order items.
- A review is about the product of its order's first item; reviews of orders without items
  in the source are skipped and counted.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from flows.records import FileRejected
from flows.sources import AdapterReport, register
from flows.sources.tabular import (
    number,
    read_table,
    rename_aliases,
    share,
    table_files,
    text,
    timestamp,
    write_feed,
)
from warehouse.contract import CURRENCY_NOTE

KIND = "olist"
REQUIRED_TABLES = {
    "orders": ("order_id", "customer_id", "order_status", "order_purchase_timestamp",
               "order_delivered_customer_date", "order_estimated_delivery_date"),
    "order_items": ("order_id", "order_item_id", "product_id", "seller_id", "price"),
    "products": ("product_id", "product_category_name"),
    "sellers": ("seller_id", "seller_city", "seller_state"),
}
OPTIONAL_TABLES = {
    "customers": ("customer_id", "customer_unique_id", "customer_state"),
    "order_payments": ("order_id", "payment_sequential", "payment_type", "payment_value"),
    "order_reviews": ("review_id", "order_id", "review_score", "review_comment_title",
                      "review_comment_message", "review_creation_date"),
    "product_category_name_translation": ("product_category_name",
                                          "product_category_name_english"),
}
TIMESTAMPS = ("order_purchase_timestamp", "order_delivered_customer_date",
              "order_estimated_delivery_date", "review_creation_date")
NUMBERS = ("order_item_id", "price", "payment_sequential", "payment_value", "review_score")
NOT_SOLD = ("canceled", "unavailable")
PAYMENT_METHODS = {"credit_card": "card", "debit_card": "card", "boleto": "bank_transfer",
                   "voucher": "wallet"}
UNKNOWN_STATE_ZONE = 2
STATES = {
    "AC": "Acre", "AL": "Alagoas", "AM": "Amazonas", "AP": "Amapá", "BA": "Bahia",
    "CE": "Ceará", "DF": "Distrito Federal", "ES": "Espírito Santo", "GO": "Goiás",
    "MA": "Maranhão", "MG": "Minas Gerais", "MS": "Mato Grosso do Sul", "MT": "Mato Grosso",
    "PA": "Pará", "PB": "Paraíba", "PE": "Pernambuco", "PI": "Piauí", "PR": "Paraná",
    "RJ": "Rio de Janeiro", "RN": "Rio Grande do Norte", "RO": "Rondônia", "RR": "Roraima",
    "RS": "Rio Grande do Sul", "SC": "Santa Catarina", "SE": "Sergipe", "SP": "São Paulo",
    "TO": "Tocantins",
}
# Zone from São Paulo, where most sellers ship from: 1 SP, 2 the rest of the South-East and
# the South, 3 the North, North-East and Centre-West.
NEAR_STATES = frozenset({"RJ", "MG", "ES", "PR", "SC", "RS"})

MAPPING_NOTES = {
    CURRENCY_NOTE: "BRL",  # a Brazilian marketplace: prices and freight in reais
    "default:orders.quantity": "1: Olist lists one order-item row per unit",
    "default:orders.discount_amount": "0: Olist has no discounts per item",
    "default:products.size": "ONE: Olist has no sizes",
    "absent:products.unit_cost": "empty: Olist has no costs, so margins are unknown",
    "default:regions.zone": f"{UNKNOWN_STATE_ZONE} for BR, the region of orders whose state "
                            "is unknown",
    "derived:orders.channel": "marketplace: Olist is a marketplace",
    "derived:products.product_name": "'<category> <product id prefix>': Olist publishes no "
                                     "product names",
    "derived:products.vendor_id": "the seller who sold the product most often",
    "derived:products.list_price": "median price of the product's order items",
    "derived:vendors.vendor_name": "'seller <id prefix> (city/state)': Olist publishes no "
                                   "seller names",
    "derived:regions.zone": "1 São Paulo, 2 the rest of the South-East and the South, 3 "
                            "elsewhere",
    "absent:returns": "Olist has no returns field; no returns are written, none invented",
    "absent:carrier_scans": "Olist has no pickup or carrier scan data",
}


def _table_key(path: Path) -> str:
    """'olist_order_items_dataset.csv' and 'order_items_SAMPLE.parquet' → 'order_items'."""
    stem = path.name.split(".")[0].lower()
    stem = stem.removeprefix("olist_")
    for suffix in ("_dataset", "_sample", "_full"):
        stem = stem.removesuffix(suffix)
    return stem


def read_tables(source: Path) -> dict[str, pl.DataFrame]:
    """The Olist tables found in `source`, each with its needed columns, typed."""
    wanted = REQUIRED_TABLES | OPTIONAL_TABLES
    tables: dict[str, list[pl.DataFrame]] = {}
    for path in table_files(source):
        key = _table_key(path)
        if key not in wanted:
            continue
        for part, raw in read_table(path, as_text=True):
            frame = rename_aliases(raw, {c: (c,) for c in wanted[key]}, part)
            tables.setdefault(key, []).append(frame.with_columns(
                *(timestamp(c, frame.schema[c]) for c in wanted[key] if c in TIMESTAMPS),
                *(number(c, frame.schema[c]) for c in wanted[key] if c in NUMBERS),
                *(text(c) for c in wanted[key] if c not in TIMESTAMPS + NUMBERS),
            ))
    missing = [t for t in REQUIRED_TABLES if t not in tables]
    if missing:
        raise FileRejected(
            f"{source}: no Olist table(s) {', '.join(missing)}; expected files named like "
            f"{', '.join(f'olist_{t}_dataset.csv' for t in missing)} or {missing[0]}.parquet")
    return {key: pl.concat(frames).unique(maintain_order=True) for key, frames in tables.items()}


def _empty(columns: tuple[str, ...]) -> pl.DataFrame:
    return pl.DataFrame({c: [] for c in columns}, schema={c: pl.String for c in columns})


def order_lines(t: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Order items joined to their order, customer and main payment (canceled ones included)."""
    customers = t.get("customers", _empty(OPTIONAL_TABLES["customers"]))
    payments = t.get("order_payments", _empty(OPTIONAL_TABLES["order_payments"])).with_columns(
        pl.col("payment_value", "payment_sequential").cast(pl.Float64))
    main_payment = (payments.sort(["payment_value", "payment_sequential"],
                                  descending=[True, False])
                    .group_by("order_id", maintain_order=True).first()
                    .select("order_id", "payment_type"))
    return (t["order_items"].join(t["orders"], on="order_id", how="inner")
            .join(customers.unique("customer_id"), on="customer_id", how="left")
            .join(main_payment, on="order_id", how="left")
            .sort("order_id", "order_item_id"))


def orders_feed(lines: pl.DataFrame) -> pl.DataFrame:
    """The orders feed: one row per sold item; delivery against Olist's estimate."""
    return lines.select(
        order_id="order_id",
        line_id=pl.col("order_item_id").cast(pl.Int64),
        customer_id=pl.coalesce("customer_unique_id", "customer_id"),
        sku="product_id",
        quantity=pl.lit(1, dtype=pl.Int64),
        unit_price="price",
        discount_amount=pl.lit(0.0),
        ordered_at="order_purchase_timestamp",
        channel=pl.lit("marketplace"),
        payment_method=pl.col("payment_type").replace(PAYMENT_METHODS),
        ship_region=pl.when(pl.col("customer_state").is_in(list(STATES)))
        .then("BR-" + pl.col("customer_state")).otherwise(pl.lit("BR")),
        promised_delivery_at="order_estimated_delivery_date",
        delivered_at="order_delivered_customer_date",
    )


def regions_feed() -> pl.DataFrame:
    """Brazil's 27 states, and BR for orders whose state is unknown."""
    states = pl.DataFrame({"state": list(STATES), "region_name": list(STATES.values())})
    known = states.select(
        region="BR-" + pl.col("state"), region_name="region_name", country=pl.lit("BR"),
        zone=pl.when(pl.col("state") == "SP").then(1)
        .when(pl.col("state").is_in(list(NEAR_STATES))).then(2).otherwise(3).cast(pl.Int64))
    unknown = pl.DataFrame({"region": ["BR"], "region_name": ["Brazil (state unknown)"],
                            "country": ["BR"], "zone": [UNKNOWN_STATE_ZONE]})
    return pl.concat([known, unknown])


def vendors_feed(sellers: pl.DataFrame) -> pl.DataFrame:
    """One vendor per seller, named by its id prefix and city, since Olist names none."""
    return sellers.unique("seller_id", keep="first").sort("seller_id").select(
        vendor_id="seller_id",
        vendor_name=pl.format("seller {} ({}/{})", pl.col("seller_id").str.slice(0, 8),
                              pl.col("seller_city").fill_null("?"),
                              pl.col("seller_state").fill_null("?")),
        country=pl.lit("BR"),
    )


def products_feed(t: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Every product in the order items: translated category, main seller, median price."""
    items = t["order_items"]
    translation = t.get("product_category_name_translation",
                        _empty(OPTIONAL_TABLES["product_category_name_translation"]))
    sellers = (items.group_by("product_id", "seller_id").len()
               .sort(["len", "seller_id"], descending=[True, False])
               .group_by("product_id", maintain_order=True).first())
    prices = items.group_by("product_id").agg(list_price=pl.col("price").median())
    category = pl.coalesce("product_category_name_english", "product_category_name",
                           pl.lit("unknown"))
    return (prices.join(t["products"].unique("product_id"), on="product_id", how="left")
            .join(translation.unique("product_category_name"), on="product_category_name",
                  how="left")
            .join(sellers, on="product_id", how="left")
            .sort("product_id")
            .select(
                sku="product_id",
                product_id="product_id",
                product_name=pl.format("{} {}", category, pl.col("product_id").str.slice(0, 8)),
                category=category,
                size=pl.lit("ONE"),
                vendor_id="seller_id",
                list_price="list_price",
                unit_cost=pl.lit(None, dtype=pl.Float64),
            ))


def reviews_feed(t: dict[str, pl.DataFrame], reviews: pl.DataFrame) -> pl.DataFrame:
    """Reviews of orders whose items are known, about the order's first item."""
    first_item = (t["order_items"].sort("order_id", "order_item_id")
                  .group_by("order_id", maintain_order=True).first()
                  .select("order_id", "product_id"))
    customers = t.get("customers", _empty(OPTIONAL_TABLES["customers"]))
    customer = (t["orders"].select("order_id", "customer_id")
                .join(customers.unique("customer_id"), on="customer_id", how="left")
                .select("order_id", customer=pl.coalesce("customer_unique_id", "customer_id")))
    body = pl.concat_str("review_comment_title", "review_comment_message", separator=". ",
                         ignore_nulls=True)
    return (reviews.join(first_item, on="order_id", how="inner")
            .join(customer, on="order_id", how="left")
            .sort("review_creation_date", "review_id")
            .select(
                review_id="review_id",
                order_id="order_id",
                sku="product_id",
                customer_id=pl.col("customer").fill_null("unknown"),
                rating=pl.col("review_score").cast(pl.Int64),
                text=pl.when(body == "").then(None).otherwise(body),
                language=pl.lit("pt"),
                reviewed_at="review_creation_date",
            ))


def _notes(t: dict[str, pl.DataFrame], lines: pl.DataFrame, sold: pl.DataFrame,
           reviews: pl.DataFrame | None, parsed: pl.DataFrame | None) -> dict[str, str]:
    """The facts of this mapping, for audit.source_notes."""
    items = t["order_items"]
    not_sold = lines.filter(pl.col("order_status").is_in(NOT_SOLD))
    delivered = sold.filter(pl.col("delivered_at").is_not_null())
    late = delivered.filter(pl.col("delivered_at").dt.date() > pl.col("promised_delivery_at")
                            .dt.date())
    notes = {
        "source": ", ".join(sorted(t)),
        "order_lines": f"{share(lines.height, items.height)} order items have their order in "
                       "the orders table (the rest cannot be dated)",
        "order_lines_not_sold": (
            f"{not_sold.height:,} lines of {not_sold['order_id'].n_unique():,} canceled or "
            "unavailable orders: not loaded as sales"),
        "orders_feed": f"{sold.height:,} lines of {sold['order_id'].n_unique():,} orders, "
                       f"{sold['ordered_at'].min():%Y-%m-%d} to "
                       f"{sold['ordered_at'].max():%Y-%m-%d}",
        "delivered_late": f"{share(late.height, delivered.height)} delivered lines arrived "
                          "after the estimated date",
        "not_delivered": f"{share(sold.height - delivered.height, sold.height)} lines have no "
                         "delivery date",
        "customers_known": f"{share(sold['ship_region'].ne('BR').sum(), sold.height)} lines "
                           "have their customer in the customers table (unique id and state); "
                           "the rest use the order's customer_id and region BR",
        "payment_methods": ", ".join(
            f"{m or 'missing'} {n:,}" for m, n in
            sold.group_by("payment_method").len().sort("len", descending=True).iter_rows()),
        **MAPPING_NOTES,
    }
    if reviews is None or parsed is None:
        notes["absent:reviews"] = "no order_reviews table in the source"
    else:
        notes["reviews"] = (f"{share(parsed.height, reviews.height)} reviews attached to a "
                            "product through their order's items; the rest are skipped")
        notes["reviews_with_text"] = share(parsed["text"].is_not_null().sum(), parsed.height)
        notes["derived:reviews.sku"] = "the product of the order's first item"
        notes["default:reviews.language"] = "pt: Olist reviews are in Portuguese"
        notes["default:reviews.customer_id"] = "'unknown' where the order is not in the source"
    return notes


@register(KIND)
def olist_adapter(source: Path, out_dir: Path) -> AdapterReport:
    """Map a folder of Olist tables (CSV or Parquet, full or sampled) onto contract feeds."""
    t = read_tables(source)
    lines = order_lines(t)
    sold = orders_feed(lines.filter(~pl.col("order_status").is_in(NOT_SOLD)))
    written = [
        write_feed(vendors_feed(t["sellers"]), "vendors", out_dir),
        write_feed(regions_feed(), "regions", out_dir),
        write_feed(products_feed(t), "products", out_dir),
        write_feed(sold, "orders", out_dir),
    ]
    reviews = t.get("order_reviews")
    parsed = None if reviews is None else reviews_feed(t, reviews)
    if parsed is not None:
        written.append(write_feed(parsed, "reviews", out_dir))
    return AdapterReport(KIND, written, _notes(t, lines, sold, reviews, parsed))
