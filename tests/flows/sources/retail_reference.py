"""The Online Retail II rules of docs/real-data.md, computed independently over a raw extract.

Plain Python and polars over the original columns, sharing no code with the adapter: which
lines are sales, which credit lines link to which sale, and so what the warehouse's KPIs must
be once the contract's own range and cross-table rules have had their say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from warehouse.contract import FEEDS

PRODUCT = re.compile(r"^(\d{5}|DCGS|SP\d)")


@dataclass(frozen=True)
class Reference:
    """What the adapter and the warehouse should make of an extract."""

    sales: pl.DataFrame  # invoice, line, customer, code, at, quantity, price
    returns: pl.DataFrame  # credit lines with sale_invoice/sale_line (null when unlinked), why
    stock_adjustments: int
    non_product: int

    def kpis(self) -> dict[str, float | int | None]:
        """orders, units_sold, units_returned, return_rate_units as the warehouse must show."""
        orders = self.sales
        for name, column in (("quantity", "quantity"), ("price", "unit_price")):
            high = FEEDS["orders"].column(column).max_value
            if high is not None:
                orders = orders.filter(pl.col(name) <= high)
        linked = self.returns.filter(pl.col("sale_invoice").is_not_null()).join(
            orders.select(sale_invoice="invoice", sale_line="line", sold="quantity",
                          sale_price="price"), on=["sale_invoice", "sale_line"])
        kept = linked.filter(
            pl.col("quantity") * pl.col("price") <= pl.col("sold") * pl.col("sale_price") + 0.01)
        units_sold = int(orders["quantity"].sum())
        units_returned = int(kept["quantity"].sum())
        return {
            "orders": orders["invoice"].n_unique(),
            "units_sold": units_sold,
            "units_returned": units_returned,
            "return_rate_units": round(units_returned / units_sold, 6) if units_sold else None,
        }


def reference(extract: Path) -> Reference:
    """Classify and link the extract's lines by the documented rules, the slow obvious way."""
    raw = pl.read_parquet(extract)
    rows = []
    position: dict[str, int] = {}
    for r in raw.iter_rows(named=True):
        invoice = r["Invoice"].strip().upper()
        position[invoice] = position.get(invoice, 0) + 1
        customer = r["Customer ID"]
        rows.append({
            "invoice": invoice, "line": position[invoice],
            "customer": None if customer is None else str(int(customer)),
            "code": r["StockCode"].strip().upper(), "at": r["InvoiceDate"],
            "quantity": r["Quantity"], "price": r["Price"],
        })
    is_product = [bool(PRODUCT.match(r["code"])) for r in rows]
    sales = [r for r, p in zip(rows, is_product, strict=True)
             if p and not r["invoice"].startswith("C") and r["quantity"] > 0 and r["price"] > 0]
    credits = [dict(r) for r, p in zip(rows, is_product, strict=True)
               if p and r["invoice"].startswith("C") and r["quantity"] < 0]
    adjustments = sum(1 for r, p in zip(rows, is_product, strict=True)
                      if p and not r["invoice"].startswith("C")
                      and (r["quantity"] < 0 or r["price"] <= 0))

    left = {(s["invoice"], s["line"]): s["quantity"] for s in sales}
    for ret in sorted(credits, key=lambda r: (r["at"], r["invoice"], r["line"])):
        wanted = -ret["quantity"]
        earlier = [s for s in sales if s["customer"] is not None
                   and s["customer"] == ret["customer"] and s["code"] == ret["code"]
                   and s["at"] < ret["at"]]
        enough = [s for s in earlier if left[(s["invoice"], s["line"])] >= wanted]
        pick = max(enough, key=lambda s: (s["at"], s["invoice"], s["line"]), default=None)
        if pick is not None:
            left[(pick["invoice"], pick["line"])] -= wanted
        ret["quantity"] = wanted
        ret["sale_invoice"] = pick["invoice"] if pick else None
        ret["sale_line"] = pick["line"] if pick else None
        ret["why"] = (None if pick else "no_customer" if ret["customer"] is None
                      else "no_earlier_sale" if not earlier
                      else "no_earlier_sale_with_enough_quantity")
    schema = {"invoice": pl.String, "line": pl.Int64, "customer": pl.String,
              "code": pl.String, "at": pl.Datetime("us"), "quantity": pl.Int64,
              "price": pl.Float64}
    return Reference(
        sales=pl.DataFrame(sales, schema=schema),
        returns=pl.DataFrame(credits, schema=schema | {
            "sale_invoice": pl.String, "sale_line": pl.Int64, "why": pl.String}),
        stock_adjustments=adjustments,
        non_product=is_product.count(False),
    )
