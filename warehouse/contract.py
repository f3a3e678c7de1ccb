"""The data contract: the four feeds and the reference tables, as a merchant exports them.

This module is the single home of every feed's columns, types, keys and accepted values. The
generator writes it, the loaders check it, the warehouse creates its raw tables from it and
docs/data-contract.md is rendered from it (`python -m warehouse.contract > docs/data-contract.md`).
All timestamps are UTC; all money is in the shop's currency (CURRENCY_NOTE below).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import polars as pl

RETURN_TYPES = ("customer_return", "rto")
REASON_CODES = (
    "size_too_small",
    "size_too_large",
    "defective",
    "damaged_in_transit",
    "wrong_item",
    "not_as_described",
    "changed_mind",
    "arrived_late",
    "better_price",
    "rto_undelivered",
)
# Reasons the shop, a vendor or a carrier is at fault for: no restocking fee applies.
FAULT_REASONS = ("defective", "damaged_in_transit", "wrong_item", "not_as_described")
DEFECT_REASONS = ("defective", "not_as_described")
# Inspection conditions that say the product itself was faulty (vendor quality counts them).
DEFECT_CONDITIONS = ("defective", "damaged")
RESOLUTIONS = ("refund", "exchange", "store_credit")
# Resolutions that keep the sale's value in the shop (docs/kpis.md, "retention")
RETAINING_RESOLUTIONS = ("exchange", "store_credit")
CONDITIONS = ("new", "like_new", "used", "damaged", "defective", "empty_box", "wrong_item")
DISPOSITIONS = ("restock", "refurbish", "liquidate", "return_to_vendor", "dispose")
RETURN_METHODS = ("pickup", "dropoff")
EVENT_CODES = (
    "pickup_scheduled",
    "out_for_pickup",
    "pickup_failed",
    "picked_up",
    "in_transit",
    "delivered_to_warehouse",
)
FAILURE_REASONS = (
    "customer_not_available",
    "wrong_address_or_phone",
    "product_not_ready",
    "customer_cancelled",
    "courier_did_not_attempt",
)
# What a person reads for a code (the one place display names live; codes stay in the data).
CODE_LABELS = {
    "size_too_small": "Size too small", "size_too_large": "Size too large",
    "defective": "Defective", "damaged_in_transit": "Damaged in transit",
    "wrong_item": "Wrong item", "not_as_described": "Not as described",
    "changed_mind": "Changed mind", "arrived_late": "Arrived late",
    "better_price": "Found a better price", "rto_undelivered": "Undelivered (RTO)",
    "customer_return": "Customer return", "rto": "Return to origin",
    "refund": "Refund", "exchange": "Exchange", "store_credit": "Store credit",
    "new": "New", "like_new": "Like new", "used": "Used", "damaged": "Damaged",
    "empty_box": "Empty box", "restock": "Restock", "refurbish": "Refurbish",
    "liquidate": "Liquidate", "return_to_vendor": "Return to vendor", "dispose": "Dispose",
    "pickup": "Pickup", "dropoff": "Drop-off",
    "customer_not_available": "Customer not available",
    "wrong_address_or_phone": "Wrong address or phone",
    "product_not_ready": "Product not ready", "customer_cancelled": "Customer cancelled",
    "courier_did_not_attempt": "Courier did not attempt",
    # the kinds of return abuse models/abuse.py scores
    "serial_returner": "Serial returning", "wardrobing": "Wardrobing (worn, then returned)",
    "empty_box_or_switch": "Empty box or switched item",
    "pickup_claim": "Pickup claims after failed pickups",
    "refund_before_receipt": "Refund before receipt",
    # the languages of reviews (ISO 639-1)
    "en": "English", "id": "Indonesian", "ru": "Russian", "ko": "Korean", "zh": "Chinese",
    "pt": "Portuguese",
}


def code_label(code: str) -> str:
    """The words for a contract code (`size_too_large` → 'Size too large'); other values
    (a source's own code) as they are, underscores as spaces."""
    return CODE_LABELS.get(code, code.replace("_", " "))


CHANNELS = ("web", "app", "marketplace", "social")
PAYMENT_METHODS = ("card", "cod", "wallet", "bank_transfer", "bnpl")
LANGUAGES = ("en", "id", "ru", "ko", "zh", "pt")

Kind = Literal["feed", "reference"]


@dataclass(frozen=True)
class Column:
    """One column of a feed: name, polars type, meaning and the values it may take."""

    name: str
    dtype: pl.DataType
    description: str
    nullable: bool = False
    accepted: tuple[str, ...] | None = None
    min_value: float | None = None
    max_value: float | None = None


@dataclass(frozen=True)
class Feed:
    """A feed or reference table: its columns and the natural key that identifies a row."""

    name: str
    kind: Kind
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def schema(self) -> pl.Schema:
        """The polars schema a loaded frame of this feed has."""
        return pl.Schema({c.name: c.dtype for c in self.columns})

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        """The column called `name`; KeyError names the feed when it is not part of it."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"{self.name} has no column {name!r}")


TS = pl.Datetime("us")
STR = pl.String()
INT = pl.Int64()
MONEY = pl.Float64()

ORDERS = Feed(
    "orders",
    "feed",
    "One row per order line, as the shop sold it.",
    key=("order_id", "line_id"),
    columns=(
        Column("order_id", STR, "Order identifier."),
        Column("line_id", INT, "Line number within the order, from 1.", min_value=1),
        Column("customer_id", STR, "Customer identifier."),
        Column("sku", STR, "Stock-keeping unit sold (a product in one size)."),
        Column("quantity", INT, "Units sold on this line.", min_value=1, max_value=1_000_000),
        Column("unit_price", MONEY, "List price charged per unit, before discount.",
               min_value=0, max_value=1_000_000),
        Column("discount_amount", MONEY, "Total discount on the line.", min_value=0),
        Column("ordered_at", TS, "When the order was placed (UTC)."),
        Column("channel", STR, "Sales channel.", accepted=CHANNELS),
        Column("payment_method", STR, "How the customer paid; cod = cash on delivery.",
               accepted=PAYMENT_METHODS),
        Column("ship_region", STR, "Delivery region code (see the regions reference)."),
        Column("promised_delivery_at", TS,
               "Delivery date promised at checkout (UTC); empty when the source has none.",
               nullable=True),
        Column("delivered_at", TS,
               "Actual delivery (UTC); empty when it was never delivered or the source does "
               "not record deliveries (see the run's source notes).", nullable=True),
    ),
)

RETURNS = Feed(
    "returns",
    "feed",
    "One row per returned order line: customer returns and RTO (return to origin: a delivery "
    "that failed and came back).",
    key=("return_id",),
    columns=(
        Column("return_id", STR, "Return identifier."),
        Column("order_id", STR, "Order of the returned line."),
        Column("line_id", INT, "Line of the returned order line.", min_value=1),
        Column("sku", STR, "SKU returned."),
        Column("quantity", INT, "Units returned.", min_value=1, max_value=1_000_000),
        Column("return_type", STR, "customer_return, or rto for a failed delivery.",
               accepted=RETURN_TYPES),
        Column("requested_at", TS, "When the return was requested, or the RTO raised (UTC)."),
        Column("reason_code", STR,
               "Reason chosen by the customer (rto_undelivered for RTO); empty when the source "
               "records no reasons.", nullable=True, accepted=REASON_CODES),
        Column("reason_text", STR, "Customer's free-text comment, any language.", nullable=True),
        Column("resolution", STR, "What the customer asked for; empty for RTO.",
               nullable=True, accepted=RESOLUTIONS),
        Column("refund_amount", MONEY, "Money refunded or credited to the customer.", min_value=0),
        Column("return_shipping_cost", MONEY,
               "Reverse shipping paid by the shop; empty when not recorded.", nullable=True,
               min_value=0),
        Column("handling_cost", MONEY,
               "Warehouse receiving and inspection cost; empty when not recorded.",
               nullable=True, min_value=0),
        Column("restocking_fee", MONEY,
               "Fee kept from the refund under the policy; empty when not recorded.",
               nullable=True, min_value=0),
        Column("return_method", STR, "pickup by a carrier, or dropoff by the customer.",
               nullable=True, accepted=RETURN_METHODS),
        Column("carrier", STR, "Carrier of the reverse shipment.", nullable=True),
        Column("received_at", TS, "When the warehouse received it (UTC).", nullable=True),
        Column("condition", STR, "Condition found at inspection.", nullable=True,
               accepted=CONDITIONS),
        Column("disposition", STR, "What the warehouse did with it.", nullable=True,
               accepted=DISPOSITIONS),
        Column("recovered_value", MONEY,
               "Value recovered by the disposition; empty when not recorded.", nullable=True,
               min_value=0),
        Column("refunded_at", TS, "When the refund or credit was issued (UTC).", nullable=True),
    ),
)

CARRIER_SCANS = Feed(
    "carrier_scans",
    "feed",
    "One row per reverse-pickup scan event reported by a carrier.",
    key=("scan_id",),
    columns=(
        Column("scan_id", STR, "Scan event identifier."),
        Column("return_id", STR, "Return the pickup is for."),
        Column("awb", STR, "Air waybill (tracking number) of the reverse shipment."),
        Column("carrier", STR, "Carrier code."),
        Column("event_code", STR, "Scan event.", accepted=EVENT_CODES),
        Column("failure_reason", STR, "NPR reason, for pickup_failed only.", nullable=True,
               accepted=FAILURE_REASONS),
        Column("attempt", INT, "Pickup attempt number, from 1.", min_value=1),
        Column("event_at", TS, "When the event happened (UTC)."),
        Column("region", STR, "Pickup region code."),
    ),
)

REVIEWS = Feed(
    "reviews",
    "feed",
    "Product reviews written by customers.",
    key=("review_id",),
    columns=(
        Column("review_id", STR, "Review identifier."),
        Column("order_id", STR, "Order the review is about, when known.", nullable=True),
        Column("sku", STR, "SKU reviewed."),
        Column("customer_id", STR, "Reviewer."),
        Column("rating", INT, "Stars, 1 to 5.", min_value=1, max_value=5),
        Column("text", STR, "Review text.", nullable=True),
        Column("language", STR, "ISO 639-1 language of the text.", accepted=LANGUAGES),
        Column("reviewed_at", TS, "When the review was written (UTC)."),
    ),
)

PRODUCTS = Feed(
    "products",
    "reference",
    "The catalogue: one row per SKU (a product in one size).",
    key=("sku",),
    columns=(
        Column("sku", STR, "Stock-keeping unit."),
        Column("product_id", STR, "Product the SKU is a size of."),
        Column("product_name", STR, "Product name."),
        Column("category", STR, "Category."),
        Column("size", STR, "Size label; ONE for products without sizes."),
        Column("vendor_id", STR, "Vendor who supplies it."),
        Column("list_price", MONEY, "Current list price.", min_value=0, max_value=1_000_000),
        Column("unit_cost", MONEY,
               "What the shop pays the vendor per unit; empty when unknown.", nullable=True,
               min_value=0),
    ),
)

VENDORS = Feed(
    "vendors",
    "reference",
    "Suppliers of the products.",
    key=("vendor_id",),
    columns=(
        Column("vendor_id", STR, "Vendor identifier."),
        Column("vendor_name", STR, "Vendor name."),
        Column("country", STR, "Vendor's country (ISO 3166-1 alpha-2)."),
    ),
)

CARRIERS = Feed(
    "carriers",
    "reference",
    "Carriers that run reverse pickups.",
    key=("carrier",),
    columns=(
        Column("carrier", STR, "Carrier code."),
        Column("carrier_name", STR, "Carrier name."),
        Column("base_pickup_cost", MONEY, "Base price of one reverse pickup.", min_value=0),
    ),
)

REGIONS = Feed(
    "regions",
    "reference",
    "Delivery and pickup regions.",
    key=("region",),
    columns=(
        Column("region", STR, "Region code (ISO 3166-2 where one exists)."),
        Column("region_name", STR, "Region name."),
        Column("country", STR, "Country (ISO 3166-1 alpha-2)."),
        Column("zone", INT, "Shipping zone from the shop's warehouse, 1 (near) to 3 (far).",
               min_value=1, max_value=3),
    ),
)

RETURN_POLICY = Feed(
    "return_policy",
    "reference",
    "The return policy in force over time.",
    key=("policy_id",),
    columns=(
        Column("policy_id", STR, "Policy version."),
        Column("effective_from", pl.Date(), "First day the policy applies to orders."),
        Column("effective_to", pl.Date(), "Last day it applies; empty while in force.",
               nullable=True),
        Column("window_days", INT, "Days after delivery a return may be requested.",
               min_value=0),
        Column("restocking_fee_pct", MONEY,
               "Share of the refund kept on returns that are not the shop's fault.",
               min_value=0, max_value=1),
        Column("free_return_shipping", pl.Boolean(), "Whether the shop pays reverse shipping."),
    ),
)

FEEDS: dict[str, Feed] = {
    f.name: f
    for f in (
        VENDORS, CARRIERS, REGIONS, RETURN_POLICY, PRODUCTS,
        ORDERS, RETURNS, CARRIER_SCANS, REVIEWS,
    )
}
"""Every table of the contract, reference tables first (the order they load in)."""

FILE_FORMATS = ("parquet", "csv")

# Money carries no currency column: one source has one currency. An adapter that knows its
# source's currency records it as the source note `currency` (an ISO 4217 code, e.g. GBP for
# Online Retail II, BRL for Olist); files without an adapter (the synthetic shop among them)
# are in RETURNLENS_CURRENCY, by default DEFAULT_CURRENCY. warehouse.read.runs.currency reads it.
DEFAULT_CURRENCY = "USD"  # the synthetic shop's price list is in US dollars
CURRENCY_NOTE = "currency"


def render_markdown() -> str:
    """The contract as Markdown, for docs/data-contract.md."""
    lines = [
        "# Data contract",
        "",
        "Generated from `warehouse/contract.py` by `python -m warehouse.contract`; do not edit.",
        "Every feed is a file named `<feed>.parquet` or `<feed>.csv` in the source folder.",
        "All timestamps are UTC. Money is in the source's one currency: the ISO 4217 code an",
        f"adapter records as the source note `{CURRENCY_NOTE}` (Online Retail II: GBP, Olist: "
        "BRL),",
        "else `RETURNLENS_CURRENCY`, by default "
        f"{DEFAULT_CURRENCY} (the synthetic shop's prices are in {DEFAULT_CURRENCY}).",
        "",
    ]
    for feed in FEEDS.values():
        lines += [
            f"## `{feed.name}` ({feed.kind})",
            "",
            feed.description,
            "",
            f"Natural key: {', '.join(f'`{k}`' for k in feed.key)}.",
            "",
            "| column | type | null | rule | meaning |",
            "|---|---|---|---|---|",
        ]
        for c in feed.columns:
            rules = []
            if c.accepted:
                rules.append("one of " + ", ".join(f"`{v}`" for v in c.accepted))
            if c.min_value is not None:
                rules.append(f"≥ {c.min_value:g}")
            if c.max_value is not None:
                rules.append(f"≤ {c.max_value:g}")
            null = "yes" if c.nullable else "no"
            lines.append(f"| `{c.name}` | {c.dtype} | {null} | {'; '.join(rules)} | "
                         f"{c.description} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    sys.stdout.write(render_markdown())
