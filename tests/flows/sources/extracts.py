"""Small extracts of the real public datasets, made at test time from the shared data folder.

The datasets are not part of the repository (licences, size): tests that need them (marked
`realdata`) build a few thousand real rows into a temporary folder. The folder is
RETURNLENS_SHARED_DATA, by default ../shared/data beside the repository. When it is absent the
test command fails saying so (tests/conftest.py), unless RETURNLENS_ALLOW_MISSING_REAL_DATA=1
asks to skip those tests instead.
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

ALLOW_MISSING = "RETURNLENS_ALLOW_MISSING_REAL_DATA"
SHARED_DATA = Path(os.environ.get("RETURNLENS_SHARED_DATA")
                   or Path(__file__).parents[3] / ".." / "shared" / "data").resolve()
RETAIL_2009_2010 = SHARED_DATA / "online_retail_ii" / "online_retail_ii_2009_2010.parquet"
OLIST = SHARED_DATA / "olist_sample"
REAL_DATA = (RETAIL_2009_2010, OLIST)


def require(path: Path) -> Path:
    """`path`; when it is absent, fail naming it (or skip, if the user allowed missing data)."""
    if not path.exists():
        message = (f"real data not found: {path} is absent (the public datasets are expected in "
                   f"{SHARED_DATA}; see its README)")
        if os.environ.get(ALLOW_MISSING) == "1":
            pytest.skip(message)
        pytest.fail(message)
    return path


def write_retail_extract(source: Path, out: Path) -> Path:
    """About 5,800 real invoice lines, whole invoices only, as Parquet.

    Every invoice of ~60 customers (so their credit notes can find their sales), a few guest
    invoices, invoices with zero-priced lines (stock adjustments) and invoices with fee codes.
    """
    lines = pl.read_parquet(source)
    number = pl.col("Invoice").str.replace_all(r"\D", "").cast(pl.Int64)
    customer = pl.col("Customer ID").cast(pl.Int64)
    chosen = lines.filter(
        (customer % 90 == 7)
        | (customer.is_null() & (number % 2000 == 3))
        | ((pl.col("Price") == 0) & (number % 25 == 1))
        | (pl.col("StockCode").str.contains(r"^[A-Za-z]") & (number % 100 == 2))
    )["Invoice"].unique()
    out.parent.mkdir(parents=True, exist_ok=True)
    lines.filter(pl.col("Invoice").is_in(chosen.implode())).write_parquet(out)
    return out


def write_olist_extract(source: Path, out: Path) -> Path:
    """The sample's orders that have items, with what they join to, as Kaggle-named CSVs."""
    def read(name: str) -> pl.DataFrame:
        return pl.read_parquet(source / f"{name}.parquet")

    items = read("order_items_SAMPLE")
    orders = read("orders_SAMPLE").join(items, on="order_id", how="semi")
    items = items.join(orders, on="order_id", how="semi")
    tables = {
        "orders": orders.drop("src"),
        "order_items": items,
        "customers": read("customers_SAMPLE").join(orders, on="customer_id", how="semi"),
        "order_payments": read("order_payments_FULL").join(orders, on="order_id", how="semi"),
        "order_reviews": read("order_reviews_SAMPLE").join(orders, on="order_id", how="semi"),
        "products": read("products_FULL").join(items, on="product_id", how="semi"),
        "sellers": read("sellers_FULL").join(items, on="seller_id", how="semi"),
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.write_csv(out / f"olist_{name}_dataset.csv")
    read("product_category_name_translation_FULL").write_csv(
        out / "product_category_name_translation.csv")
    return out
