"""Headline KPIs (docs/kpis.md) and the Overview's trends: returns by order cohort, NPR."""

from __future__ import annotations

from datetime import date
from typing import Literal

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warehouse.contract import RETAINING_RESOLUTIONS
from warehouse.read._sql import by_order_day, day_params, read_frame, segment_sql
from warehouse.read.filters import EARLIEST, LATEST, Filters

MoverKey = Literal["sku", "vendor_id"]

KPI_KEYS = (
    "orders", "units_sold", "units_returned", "return_rate_units", "refund_value",
    "return_rate_value", "rto_units", "npr_rate", "net_return_cost",
)

_SALES_AND_RETURNS = sa.text("""
    SELECT COALESCE(SUM(orders), 0) AS orders,
           COALESCE(SUM(units_sold), 0) AS units_sold,
           COALESCE(SUM(sold_value), 0) AS sold_value,
           COALESCE(SUM(units_returned), 0) AS units_returned,
           COALESCE(SUM(refund_value), 0) AS refund_value,
           COALESCE(SUM(rto_units), 0) AS rto_units,
           COALESCE(SUM(net_return_cost), 0) AS net_return_cost
    FROM marts.daily_kpis
    WHERE order_date BETWEEN :date_from AND :date_to
""")
_PICKUPS = sa.text("""
    SELECT COALESCE(SUM(attempts), 0) AS attempts,
           COALESCE(SUM(failed_attempts), 0) AS failed_attempts
    FROM marts.carrier_pickup_daily
    WHERE attempt_date BETWEEN :date_from AND :date_to
""")


def _ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 6) if denominator else None

def kpis(conn: Connection, date_from: date | None = None,
         date_to: date | None = None) -> dict[str, float | int | None]:
    """Headline KPIs (docs/kpis.md): sales and returns by order date, NPR by attempt date."""
    params = {"date_from": date_from or EARLIEST, "date_to": date_to or LATEST}
    s = conn.execute(_SALES_AND_RETURNS, params).mappings().one()
    p = conn.execute(_PICKUPS, params).mappings().one()
    return {
        "orders": int(s["orders"]),
        "units_sold": int(s["units_sold"]),
        "units_returned": int(s["units_returned"]),
        "return_rate_units": _ratio(float(s["units_returned"]), float(s["units_sold"])),
        "refund_value": round(float(s["refund_value"]), 2),
        "return_rate_value": _ratio(float(s["refund_value"]), float(s["sold_value"])),
        "rto_units": int(s["rto_units"]),
        "npr_rate": _ratio(float(p["failed_attempts"]), float(p["attempts"])),
        "net_return_cost": round(float(s["net_return_cost"]), 2),
    }

RETENTION_KEYS = ("returns_resolved", "returns_retained", "exchange_share",
                  "value_resolved", "value_retained", "value_retained_share")

_RETENTION = sa.text("""
    WITH resolved AS (
        SELECT CASE WHEN resolution IN :retaining THEN 1 ELSE 0 END AS retained,
               returns, original_value
        FROM marts.returns_daily
        WHERE return_type = 'customer_return' AND resolution IS NOT NULL
          AND order_date BETWEEN :date_from AND :date_to
    )
    SELECT COALESCE(SUM(returns), 0) AS returns_resolved,
           COALESCE(SUM(retained * returns), 0) AS returns_retained,
           COALESCE(SUM(original_value), 0) AS value_resolved,
           COALESCE(SUM(retained * original_value), 0) AS value_retained
    FROM resolved
""").bindparams(sa.bindparam("retaining", expanding=True))


def retention(conn: Connection, date_from: date | None = None,
              date_to: date | None = None) -> dict[str, float | int | None]:
    """Exchange share and revenue retained (docs/kpis.md, "Retention") of the customer returns
    of orders placed from `date_from` to `date_to`."""
    row = conn.execute(_RETENTION, {"retaining": list(RETAINING_RESOLUTIONS),
                                    "date_from": date_from or EARLIEST,
                                    "date_to": date_to or LATEST}).mappings().one()
    resolved, retained = int(row["returns_resolved"]), int(row["returns_retained"])
    value_resolved = float(row["value_resolved"])
    value_retained = float(row["value_retained"])
    return {
        "returns_resolved": resolved,
        "returns_retained": retained,
        "exchange_share": _ratio(retained, resolved),
        "value_resolved": round(value_resolved, 2),
        "value_retained": round(value_retained, 2),
        "value_retained_share": _ratio(value_retained, value_resolved),
    }

def cohort_trend(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Sales, returns and net return cost by order month for the filtered segment (of the
    filter's days only, in a month it covers in part)."""
    params = day_params(filters)
    segment = segment_sql(filters, params)
    lines = by_order_day("marts.sku_returns", "marts.sku_returns_daily",
                         "order_month, units_sold, sold_value, units_returned, refund_value, "
                         "rto_units", filters, params, segment)
    return read_frame(conn, f"""
        WITH sold AS (
            SELECT order_month, SUM(units_sold) AS units_sold, SUM(sold_value) AS sold_value,
                   SUM(units_returned) AS units_returned, SUM(refund_value) AS refund_value,
                   SUM(rto_units) AS rto_units
            FROM {lines} AS l
            GROUP BY order_month
        ),
        cost AS (
            SELECT order_month, SUM(net_cost) AS net_return_cost
            FROM marts.returns_daily
            WHERE order_date BETWEEN :date_from AND :date_to {segment}
            GROUP BY order_month
        )
        SELECT s.order_month, s.units_sold, s.sold_value, s.units_returned, s.refund_value,
               s.rto_units, COALESCE(c.net_return_cost, 0) AS net_return_cost
        FROM sold s LEFT JOIN cost c ON c.order_month = s.order_month
        ORDER BY s.order_month
    """, params)

def returned_lines_by_cohort(conn: Connection, filters: Filters, key: MoverKey,
                             current: tuple[date, date], previous: tuple[date, date],
                             follow_up_days: int, defects_only: bool = False) -> pl.DataFrame:
    """Per `key`: the order lines of a current and a previous cohort of orders (by order date)
    and how many of them were returned within `follow_up_days` of ordering (for a defect
    reason when `defects_only`), so both cohorts are judged over the same days."""
    if key not in MoverKey.__args__:  # type: ignore[attr-defined]
        raise ValueError(f"unknown key {key!r}")
    days = "days_to_defect_return" if defects_only else "days_to_return"
    params: dict[str, object] = {"cur_from": current[0], "cur_to": current[1],
                                 "prev_from": previous[0], "prev_to": previous[1],
                                 "follow_up": follow_up_days}
    segment = segment_sql(filters, params)
    return read_frame(conn, f"""
        SELECT {key} AS key, MIN(category) AS category,
               SUM(CASE WHEN order_date BETWEEN :cur_from AND :cur_to THEN order_lines
                        ELSE 0 END) AS lines_current,
               SUM(CASE WHEN order_date BETWEEN :cur_from AND :cur_to
                         AND {days} <= :follow_up THEN order_lines ELSE 0 END)
                   AS returned_current,
               SUM(CASE WHEN order_date BETWEEN :prev_from AND :prev_to THEN order_lines
                        ELSE 0 END) AS lines_previous,
               SUM(CASE WHEN order_date BETWEEN :prev_from AND :prev_to
                         AND {days} <= :follow_up THEN order_lines ELSE 0 END)
                   AS returned_previous
        FROM marts.sku_line_cohorts
        WHERE {key} IS NOT NULL AND order_date BETWEEN :prev_from AND :cur_to {segment}
        GROUP BY {key}
        ORDER BY {key}
    """, params)

def npr_by_period(conn: Connection, filters: Filters, current: tuple[date, date],
                  previous: tuple[date, date]) -> pl.DataFrame:
    """Pickup attempts and failures per carrier in a current and a previous period, in all
    and of first attempts (one per pickup, so independent trials to test a change on)."""
    params: dict[str, object] = {"cur_from": current[0], "cur_to": current[1],
                                 "prev_from": previous[0], "prev_to": previous[1]}
    segment = segment_sql(filters, params, region_column="region", category=False,
                           channel=False)
    return read_frame(conn, f"""
        SELECT carrier,
               SUM(CASE WHEN attempt_date BETWEEN :cur_from AND :cur_to THEN attempts ELSE 0 END)
                   AS attempts_current,
               SUM(CASE WHEN attempt_date BETWEEN :cur_from AND :cur_to
                        THEN failed_attempts ELSE 0 END) AS failed_current,
               SUM(CASE WHEN attempt_date BETWEEN :prev_from AND :prev_to
                        THEN attempts ELSE 0 END) AS attempts_previous,
               SUM(CASE WHEN attempt_date BETWEEN :prev_from AND :prev_to
                        THEN failed_attempts ELSE 0 END) AS failed_previous,
               SUM(CASE WHEN attempt_date BETWEEN :cur_from AND :cur_to
                        THEN first_attempts ELSE 0 END) AS first_attempts_current,
               SUM(CASE WHEN attempt_date BETWEEN :cur_from AND :cur_to
                        THEN first_attempts_failed ELSE 0 END) AS first_failed_current,
               SUM(CASE WHEN attempt_date BETWEEN :prev_from AND :prev_to
                        THEN first_attempts ELSE 0 END) AS first_attempts_previous,
               SUM(CASE WHEN attempt_date BETWEEN :prev_from AND :prev_to
                        THEN first_attempts_failed ELSE 0 END) AS first_failed_previous
        FROM marts.carrier_pickup_daily
        WHERE attempt_date BETWEEN :prev_from AND :cur_to {segment}
        GROUP BY carrier
    """, params)
