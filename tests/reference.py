"""Independent computations over generated feed files, to check the warehouse against.

Plain polars over the files the pipeline read; it shares no code with the SQL it checks.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl


def reference_kpis(shop: Path, date_from: date | None = None,
                   date_to: date | None = None) -> dict[str, float | int | None]:
    """The headline KPIs as docs/kpis.md defines them, straight from the feed files."""
    orders = pl.read_parquet(shop / "orders.parquet")
    returns = pl.read_parquet(shop / "returns.parquet")
    scans = pl.read_parquet(shop / "carrier_scans.parquet")
    products = pl.read_parquet(shop / "products.parquet")
    lo, hi = date_from or date(1900, 1, 1), date_to or date(9999, 12, 31)
    orders = orders.filter(pl.col("ordered_at").dt.date().is_between(lo, hi))
    cohort = returns.join(orders.select("order_id", "line_id"), on=["order_id", "line_id"])
    cohort = cohort.join(products.select("sku", "unit_cost"), on="sku", how="left")
    customer = cohort.filter(pl.col("return_type") == "customer_return")
    rto = cohort.filter(pl.col("return_type") == "rto")
    sold_value = (orders["quantity"] * orders["unit_price"] - orders["discount_amount"]).sum()
    exchange_cost = customer.filter(pl.col("resolution") == "exchange").select(
        (pl.col("unit_cost") * pl.col("quantity")).sum()).item()
    net_cost = (
        customer["refund_amount"].sum() + customer["return_shipping_cost"].sum()
        + customer["handling_cost"].sum() + exchange_cost - customer["recovered_value"].sum()
        + rto["return_shipping_cost"].sum() + rto["handling_cost"].sum()
    )
    attempts = scans.filter(pl.col("event_code").is_in(["picked_up", "pickup_failed"])
                            & pl.col("event_at").dt.date().is_between(lo, hi))
    units_sold = int(orders["quantity"].sum())
    units_returned = int(customer["quantity"].sum())
    refund_value = float(customer["refund_amount"].sum())
    failed = attempts.filter(pl.col("event_code") == "pickup_failed").height
    return {
        "orders": orders["order_id"].n_unique(),
        "units_sold": units_sold,
        "units_returned": units_returned,
        "return_rate_units": round(units_returned / units_sold, 6) if units_sold else None,
        "refund_value": round(refund_value, 2),
        "return_rate_value": round(refund_value / sold_value, 6) if sold_value else None,
        "rto_units": int(rto["quantity"].sum()),
        "npr_rate": round(failed / attempts.height, 6) if attempts.height else None,
        "net_return_cost": round(float(net_cost), 2),
    }
