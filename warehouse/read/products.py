"""Products: return rates by cohort and level, SKU totals, reasons, lag and customer feedback."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warehouse.contract import DEFECT_REASONS
from warehouse.read._sql import by_order_day, day_params, read_frame, segment_sql
from warehouse.read.filters import Filters

CohortLevel = Literal["category", "product_id", "sku", "size", "vendor_id"]
COHORT_LEVELS: tuple[str, ...] = CohortLevel.__args__  # type: ignore[attr-defined]
RETURN_DIMENSIONS = ("order_month", "category", "ship_region", "channel", "vendor_id", "sku",
                     "product_id", "size")

def returns_by(conn: Connection, by: Sequence[str]) -> pl.DataFrame:
    """Units and value sold and returned per `by` (marts.sku_returns, by order cohort).

    `by` names columns of RETURN_DIMENSIONS; the return rates are per unit and per value sold.
    """
    unknown = [d for d in by if d not in RETURN_DIMENSIONS]
    if not by or unknown:
        raise ValueError(f"returns_by: group by some of {', '.join(RETURN_DIMENSIONS)}, "
                         f"not {', '.join(unknown) or 'nothing'}")
    columns = ", ".join(by)  # identifiers checked against RETURN_DIMENSIONS above
    frame = pl.read_database(sa.text(f"""
        SELECT {columns}, SUM(units_sold) AS units_sold, SUM(units_returned) AS units_returned,
               SUM(sold_value) AS sold_value, SUM(refund_value) AS refund_value
        FROM marts.sku_returns
        GROUP BY {columns}
        ORDER BY {columns}
    """), conn)
    return frame.with_columns(
        pl.col("units_sold", "units_returned").cast(pl.Int64),
        pl.col("sold_value", "refund_value").cast(pl.Float64),
    ).with_columns(
        return_rate_units=pl.when(pl.col("units_sold") > 0)
        .then(pl.col("units_returned") / pl.col("units_sold")),
        return_rate_value=pl.when(pl.col("sold_value") > 0)
        .then(pl.col("refund_value") / pl.col("sold_value")),
    )

def _drill_sql(params: dict[str, object], product_id: str | None, sku: str | None) -> str:
    sql = ""
    if product_id is not None:
        sql += " AND product_id = :product_id"
        params["product_id"] = product_id
    if sku is not None:
        sql += " AND sku = :sku"
        params["sku"] = sku
    return sql

# Letter sizes smallest first, with the spellings shops use for the large ones.
LETTER_SIZES = {"XXS": 0, "2XS": 0, "XS": 1, "S": 2, "M": 3, "L": 4, "XL": 5, "XXL": 6,
                "2XL": 6, "XXXL": 7, "3XL": 7, "4XL": 8, "5XL": 9}
ONE_SIZE = ("ONE", "ONE SIZE", "ONESIZE", "OS", "NS")
SIZE_SYSTEMS = ("letter", "numeric", "one size", "other", "not recorded")


def with_size_systems(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` (with category and size) with each size's system, its place in that system and
    the key a size is shown by ('shoes · 38').

    Systems come from the labels: letter sizes (XS, S, M…), numeric ones (38, 39…), one size
    (ONE), other labels and sizes not recorded. Sizes are only comparable within one system
    and one category: shoe 38 and a dress 38 are different scales, and M of two categories
    with different return rates would pool them. size_order sorts within a system (S before
    M, 38 before 39; other labels alphabetically).
    """
    label = pl.col("size").str.strip_chars().str.to_uppercase()
    letter = label.replace_strict(LETTER_SIZES, default=None, return_dtype=pl.Float64)
    number = label.str.replace(",", ".").cast(pl.Float64, strict=False)
    system = (pl.when(pl.col("size").is_null() | (label == "")).then(pl.lit("not recorded"))
              .when(label.is_in(ONE_SIZE)).then(pl.lit("one size"))
              .when(letter.is_not_null()).then(pl.lit("letter"))
              .when(number.is_not_null()).then(pl.lit("numeric"))
              .otherwise(pl.lit("other")))
    return frame.with_columns(
        size_system=system,
        size_order=pl.coalesce(letter, number, pl.lit(0.0)),
        key=pl.col("category") + " · " + pl.col("size").fill_null("not recorded"),
    ).with_columns(size_system=pl.col("size_system").cast(pl.Enum(SIZE_SYSTEMS)))


def returns_by_cohort(conn: Connection, filters: Filters, level: CohortLevel,
                      product_id: str | None = None, sku: str | None = None) -> pl.DataFrame:
    """Units sold and returned per `level` value and order month (the cohort grid); sizes per
    category, with their size system (see `with_size_systems`)."""
    if level not in COHORT_LEVELS:
        raise ValueError(f"unknown level {level!r}")
    params: dict[str, object] = {}
    where = segment_sql(filters, params) + _drill_sql(params, product_id, sku)
    group = "category, size" if level == "size" else level
    selected = group if level == "size" else f"{level} AS key"
    lines = by_order_day("marts.sku_returns", "marts.sku_returns_daily",
                         f"{group}, order_month, units_sold, units_returned, sold_value, "
                         "refund_value", filters, params, where)
    grid = read_frame(conn, f"""
        SELECT {selected}, order_month,
               SUM(units_sold) AS units_sold, SUM(units_returned) AS units_returned,
               SUM(sold_value) AS sold_value, SUM(refund_value) AS refund_value
        FROM {lines} AS l
        GROUP BY {group}, order_month
        ORDER BY 1, 2
    """, params)
    if level != "size":
        return grid
    return with_size_systems(grid).sort("category", "size_system", "size_order", "size",
                                        "order_month", nulls_last=True)

def sku_totals(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Per SKU over the filtered cohorts: order lines, units sold, units returned and
    defect-reason units."""
    params = day_params(filters)
    segment = segment_sql(filters, params)
    params["defect_reasons"] = DEFECT_REASONS
    lines = by_order_day("marts.sku_returns", "marts.sku_returns_daily",
                         "sku, product_id, category, size, vendor_id, order_lines, units_sold, "
                         "units_returned", filters, params, segment)
    return read_frame(conn, f"""
        WITH sold AS (
            SELECT sku, product_id, category, size, vendor_id,
                   SUM(order_lines) AS order_lines, SUM(units_sold) AS units_sold,
                   SUM(units_returned) AS units_returned
            FROM {lines} AS l
            GROUP BY sku, product_id, category, size, vendor_id
        ),
        defects AS (
            SELECT sku, SUM(units) AS defect_units
            FROM marts.returns_daily
            WHERE return_type = 'customer_return' AND reason_code IN :defect_reasons
              AND order_date BETWEEN :date_from AND :date_to {segment}
            GROUP BY sku
        )
        SELECT s.*, COALESCE(d.defect_units, 0) AS defect_units
        FROM sold s LEFT JOIN defects d ON d.sku = s.sku
        ORDER BY s.sku
    """, params)

def vendor_names(conn: Connection) -> pl.DataFrame:
    """Vendor id → name, as far as the marts know them."""
    return read_frame(conn, "SELECT DISTINCT vendor_id, vendor_name FROM marts.vendor_quality "
                       "ORDER BY vendor_id")

def return_reasons(conn: Connection, filters: Filters, product_id: str | None = None,
                   sku: str | None = None) -> pl.DataFrame:
    """Customer returns and units per reason, for orders in the filtered cohorts."""
    params = day_params(filters)
    where = segment_sql(filters, params) + _drill_sql(params, product_id, sku)
    return read_frame(conn, f"""
        SELECT reason_code, SUM(returns) AS returns, SUM(units) AS units_returned
        FROM marts.returns_daily
        WHERE return_type = 'customer_return'
          AND order_date BETWEEN :date_from AND :date_to {where}
        GROUP BY reason_code
        ORDER BY units_returned DESC, reason_code
    """, params)

def return_lag(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Customer-return units per order month and whole days since the cohort's first day."""
    params: dict[str, object] = {}
    segment = segment_sql(filters, params)
    return read_frame(conn, f"""
        SELECT order_month, days_since_cohort_start, SUM(units_returned) AS units_returned
        FROM marts.return_lag
        WHERE 1 = 1 {segment}
        GROUP BY order_month, days_since_cohort_start
        ORDER BY 1, 2
    """, params)

SEARCH_LIMIT = 20  # matches offered at most: a list to pick from, not a report


def search_skus(conn: Connection, query: str, limit: int = SEARCH_LIMIT) -> pl.DataFrame:
    """SKUs whose code or product name contains `query` (any case), exact codes first, at most
    `limit` rows: sku, product_id, product_name, category, size."""
    needle = query.strip().lower()
    if not needle:
        return read_frame(conn, """
            SELECT sku, product_id, product_name, category, size
            FROM marts.product_catalogue WHERE 1 = 0
        """)
    # LIKE wildcards in what the user typed are literal characters
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return read_frame(conn, r"""
        SELECT sku, product_id, product_name, category, size
        FROM marts.product_catalogue
        WHERE LOWER(sku) LIKE :pattern ESCAPE '\'
           OR LOWER(COALESCE(product_name, '')) LIKE :pattern ESCAPE '\'
        ORDER BY CASE WHEN LOWER(sku) = :needle THEN 0
                      WHEN LOWER(sku) LIKE :prefix ESCAPE '\' THEN 1 ELSE 2 END,
                 sku
        LIMIT :limit
    """, {"pattern": f"%{escaped}%", "prefix": f"{escaped}%", "needle": needle,
          "limit": max(1, min(int(limit), 100))})


def sku_feedback(conn: Connection, sku: str) -> pl.DataFrame:
    """Return comments (with inspection result) and reviews of one SKU, newest first."""
    return read_frame(conn, """
        SELECT feedback_at, source, order_month, reason_code, condition, rating, language,
               feedback_text
        FROM marts.sku_feedback
        WHERE sku = :sku AND (feedback_text IS NOT NULL OR rating IS NOT NULL)
        ORDER BY feedback_at DESC, source
    """, {"sku": sku})
