"""Reads for vendor quality: the vendor marts, each as a polars frame, with bound parameters.

Order lines are the trials of every vendor rate; returns and reviews come one row each so the
models can read their text. Every function takes an open Connection first.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy.engine import Connection

from warehouse.derived import is_published, latest_output
from warehouse.read._sql import read_frame


def _vendor_clause(vendor_id: str | None, params: dict[str, object]) -> str:
    """A WHERE clause restricting to one vendor (bound), or none."""
    if vendor_id is None:
        return ""
    params["vendor_id"] = vendor_id
    return "WHERE vendor_id = :vendor_id"


def vendor_names(conn: Connection) -> pl.DataFrame:
    """Vendor id → name (the id where the source has no vendor names)."""
    return read_frame(conn, "SELECT vendor_id, vendor_name FROM marts.vendor_names "
                            "ORDER BY vendor_id")


def vendor_lines_daily(conn: Connection, vendor_id: str | None = None) -> pl.DataFrame:
    """Order lines, units and net sales per vendor, category and order day."""
    params: dict[str, object] = {}
    where = _vendor_clause(vendor_id, params)
    return read_frame(conn, f"""
        SELECT vendor_id, category, order_date, order_lines, units_sold, sold_value
        FROM marts.vendor_lines_daily {where}
        ORDER BY vendor_id, category, order_date
    """, params)


def vendor_sku_monthly(conn: Connection, vendor_id: str | None = None) -> pl.DataFrame:
    """Order lines, units and net sales per vendor, SKU and order month."""
    params: dict[str, object] = {}
    where = _vendor_clause(vendor_id, params)
    return read_frame(conn, f"""
        SELECT vendor_id, category, sku, product_id, size, order_month, order_lines,
               units_sold, sold_value
        FROM marts.vendor_sku_monthly {where}
        ORDER BY vendor_id, sku, order_month
    """, params)


def vendor_return_lines(conn: Connection, vendor_id: str | None = None) -> pl.DataFrame:
    """Customer returns of vendors' products: picked reason, comment, inspection, cost."""
    params: dict[str, object] = {}
    where = _vendor_clause(vendor_id, params)
    return read_frame(conn, f"""
        SELECT return_id, order_id, line_id, vendor_id, category, sku, product_id, order_date,
               order_month, requested_date, quantity, reason_code, reason_text, condition,
               disposition, refund_amount, recovered_value, net_cost
        FROM marts.vendor_return_lines {where}
        ORDER BY return_id
    """, params)


def vendor_review_texts(conn: Connection, vendor_id: str | None = None) -> pl.DataFrame:
    """Reviews of vendors' products with rating, language and text."""
    params: dict[str, object] = {}
    where = _vendor_clause(vendor_id, params)
    return read_frame(conn, f"""
        SELECT review_id, order_id, vendor_id, category, sku, review_date, review_month,
               rating, language, review_text
        FROM marts.vendor_review_texts {where}
        ORDER BY review_id
    """, params)


# --- published vendor outputs (models schema, written by flows/vendors.py) --------------------

OUTPUT = "vendors"
OUTPUT_TABLES = (
    "vendors_scorecard",
    "vendors_monthly",
    "vendors_skus",
    "vendors_comments",
    "vendors_causes",
    "vendors_cause_months",
    "vendors_inspection",
    "vendors_sku_months",
)


def scorecard(conn: Connection) -> pl.DataFrame:
    """The published scorecard: one row per vendor and category, flagged ones first (an empty
    frame before `returnlens vendors` has run)."""
    if not is_published(conn, OUTPUT, "vendors_scorecard"):
        return pl.DataFrame()
    return read_frame(conn, """
        SELECT * FROM models.vendors_scorecard
        ORDER BY flagged DESC, p_excess, vendor_id, category
    """)


def vendor_output(conn: Connection, table: str, vendor_id: str) -> pl.DataFrame:
    """One vendor's rows of a published vendor table (`table` from OUTPUT_TABLES)."""
    if table not in OUTPUT_TABLES:
        raise ValueError(f"unknown vendor output table {table!r}; one of {OUTPUT_TABLES}")
    if not is_published(conn, OUTPUT, table):
        return pl.DataFrame()
    return read_frame(conn, f"SELECT * FROM models.{table} WHERE vendor_id = :vendor_id",
                      {"vendor_id": vendor_id})


def vendor_outputs(conn: Connection, vendor_id: str) -> dict[str, pl.DataFrame]:
    """Every published vendor table, restricted to one vendor (what its evidence pack needs)."""
    return {table: vendor_output(conn, table, vendor_id) for table in OUTPUT_TABLES}


def publication(conn: Connection) -> dict[str, object] | None:
    """The latest publication of the vendor tables (run id, snapshot, metrics), or None."""
    return latest_output(conn, OUTPUT)
