"""Costs: what returns cost by dimension, and the value recovered by SKU and disposition."""

from __future__ import annotations

from typing import Literal

import polars as pl
from sqlalchemy.engine import Connection

from warehouse.read._sql import day_params, read_frame, segment_sql
from warehouse.read.filters import Filters

MONEY_COLUMNS = (
    "refund_amount", "restocking_fee", "return_shipping_cost", "handling_cost",
    "exchange_cost", "recovered_value", "net_cost", "original_value",
)
CostDimension = Literal[
    "requested_month", "category", "channel", "ship_region", "reason_code", "return_type",
    "resolution", "disposition",
]
COST_DIMENSIONS: tuple[str, ...] = CostDimension.__args__  # type: ignore[attr-defined]

def return_costs(conn: Connection, filters: Filters, by: CostDimension) -> pl.DataFrame:
    """Returns, units and every money column per `by`, for returns requested in the range."""
    if by not in COST_DIMENSIONS:
        raise ValueError(f"unknown dimension {by!r}")
    params = day_params(filters)
    segment = segment_sql(filters, params)
    sums = ", ".join(f"SUM({c}) AS {c}" for c in MONEY_COLUMNS)
    return read_frame(conn, f"""
        SELECT COALESCE(CAST({by} AS TEXT), '(none)') AS {by},
               SUM(returns) AS returns, SUM(units) AS units, {sums}
        FROM marts.returns_daily
        WHERE requested_date BETWEEN :date_from AND :date_to {segment}
        GROUP BY {by}
        ORDER BY 1
    """, params)

def recovery_by_sku(conn: Connection, filters: Filters, limit: int | None = None) -> pl.DataFrame:
    """Value recovered per SKU × reason × disposition, with the original value of those units,
    largest original value first; with `limit`, only the first rows, and `rows_in_all` says
    how many there are in all."""
    params = day_params(filters)
    segment = segment_sql(filters, params)
    count, top = "", ""
    if limit is not None:
        params["limit"] = int(limit)
        count, top = ", COUNT(*) OVER () AS rows_in_all", "LIMIT :limit"
    return read_frame(conn, f"""
        SELECT sku, category, reason_code, COALESCE(disposition, '(not received)') AS disposition,
               SUM(returns) AS returns, SUM(units) AS units,
               SUM(original_value) AS original_value, SUM(recovered_value) AS recovered_value
               {count}
        FROM marts.returns_daily
        WHERE requested_date BETWEEN :date_from AND :date_to {segment}
        GROUP BY sku, category, reason_code, disposition
        ORDER BY original_value DESC, sku, reason_code, disposition
        {top}
    """, params)

def recovery_by_disposition(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Original and recovered value of returned units per disposition."""
    params = day_params(filters)
    segment = segment_sql(filters, params)
    return read_frame(conn, f"""
        SELECT COALESCE(disposition, '(not received)') AS disposition,
               SUM(returns) AS returns, SUM(units) AS units,
               SUM(original_value) AS original_value, SUM(recovered_value) AS recovered_value
        FROM marts.returns_daily
        WHERE requested_date BETWEEN :date_from AND :date_to {segment}
        GROUP BY 1
        ORDER BY 1
    """, params)
