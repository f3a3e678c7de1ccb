"""Independent polars computations over a shop's feed files, to check the read layer and the
dashboard against.

They share no code with the warehouse SQL or the dashboard.
"""

from __future__ import annotations

import polars as pl

DEFECTS = ("defective", "not_as_described")


def returns_enriched(shop: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Returns with their order line, product and net cost as the KPI docs define it."""
    lines = shop["orders"].select("order_id", "line_id", "ordered_at", "channel", "ship_region",
                                  "unit_price")
    products = shop["products"].select("sku", "category", "product_id", "vendor_id",
                                       "unit_cost")
    r = shop["returns"].join(lines, on=["order_id", "line_id"], how="left").join(
        products, on="sku", how="left")
    exchange = pl.when(pl.col("resolution") == "exchange").then(
        pl.col("unit_cost").fill_null(0) * pl.col("quantity")).otherwise(0.0)
    return r.with_columns(
        exchange_cost=exchange,
        net_cost=pl.when(pl.col("return_type") == "rto")
        .then(pl.col("return_shipping_cost") + pl.col("handling_cost"))
        .otherwise(pl.col("refund_amount") + pl.col("return_shipping_cost")
                   + pl.col("handling_cost") + exchange - pl.col("recovered_value")),
        requested_month=pl.col("requested_at").dt.truncate("1mo").dt.date(),
        order_month=pl.col("ordered_at").dt.truncate("1mo").dt.date(),
    )


def lines_enriched(shop: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Order lines with their product's category, product and vendor and their order month."""
    products = shop["products"].select("sku", "category", "product_id", "vendor_id")
    return shop["orders"].join(products, on="sku", how="left").with_columns(
        order_month=pl.col("ordered_at").dt.truncate("1mo").dt.date())


def pickup_attempts(shop: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """Pickup attempts (picked_up or pickup_failed scans) with their date."""
    return shop["carrier_scans"].filter(
        pl.col("event_code").is_in(["picked_up", "pickup_failed"])).with_columns(
        attempt_date=pl.col("event_at").dt.date())
