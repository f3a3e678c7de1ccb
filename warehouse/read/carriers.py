"""Carriers: reverse-pickup attempts, NPR by week and weekday, attempts and pickup times."""

from __future__ import annotations

from typing import Literal

import polars as pl
from sqlalchemy.engine import Connection

from warehouse.contract import FAILURE_REASONS
from warehouse.read._sql import day_params, read_frame, segment_sql
from warehouse.read.filters import Filters

PickupMeasure = Literal["pickup_tat_days", "request_to_warehouse_days", "cycle_days"]
PICKUP_MEASURES: tuple[str, ...] = PickupMeasure.__args__  # type: ignore[attr-defined]

def carrier_names(conn: Connection) -> pl.DataFrame:
    """Every carrier in the warehouse, whatever the filters: what keeps a carrier's colour
    the same on every chart and every filter."""
    return read_frame(conn, """
        SELECT carrier FROM marts.carrier_pickup_daily
        UNION
        SELECT carrier FROM marts.pickup_performance
        ORDER BY carrier
    """)

def region_names(conn: Connection) -> pl.DataFrame:
    """Region code → name, for the regions the source names."""
    return read_frame(conn, "SELECT region, region_name FROM marts.region_names ORDER BY region")


def carrier_weekly(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Pickup attempts, failures and failure reasons per carrier, region and ISO week."""
    params = day_params(filters)
    segment = segment_sql(filters, params, region_column="region", category=False,
                           channel=False)
    reasons = ", ".join(f"SUM(failed_{r}) AS failed_{r}" for r in FAILURE_REASONS)
    return read_frame(conn, f"""
        SELECT carrier, region, CAST(date_trunc('week', attempt_date) AS DATE) AS week,
               SUM(attempts) AS attempts, SUM(failed_attempts) AS failed_attempts,
               SUM(first_attempts) AS first_attempts,
               SUM(first_attempts_failed) AS first_attempts_failed, {reasons}
        FROM marts.carrier_pickup_daily
        WHERE attempt_date BETWEEN :date_from AND :date_to {segment}
        GROUP BY carrier, region, CAST(date_trunc('week', attempt_date) AS DATE)
        ORDER BY 1, 2, 3
    """, params)

def npr_by_weekday(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Pickup attempts and failures per carrier and ISO weekday (1 = Monday)."""
    params = day_params(filters)
    segment = segment_sql(filters, params, region_column="region", category=False,
                           channel=False)
    return read_frame(conn, f"""
        SELECT carrier, weekday, SUM(attempts) AS attempts,
               SUM(failed_attempts) AS failed_attempts
        FROM marts.carrier_pickup_daily
        WHERE attempt_date BETWEEN :date_from AND :date_to {segment}
        GROUP BY carrier, weekday
        ORDER BY 1, 2
    """, params)

def pickup_attempts(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Reverse pickups per carrier by attempts made and whether the parcel was picked up."""
    params = day_params(filters)
    segment = segment_sql(filters, params, region_column="region", category=False,
                           channel=False)
    return read_frame(conn, f"""
        SELECT carrier, attempts, picked_up, COUNT(*) AS pickups
        FROM marts.pickup_performance
        WHERE requested_date BETWEEN :date_from AND :date_to {segment}
        GROUP BY carrier, attempts, picked_up
        ORDER BY 1, 2, 3
    """, params)

def pickup_time_histogram(conn: Connection, filters: Filters, measure: PickupMeasure,
                          bin_days: float = 0.5) -> pl.DataFrame:
    """Pickups per carrier in bins of `measure` (days), binned in the warehouse."""
    if measure not in PICKUP_MEASURES:
        raise ValueError(f"unknown measure {measure!r}")
    params = day_params(filters)
    params["bin_days"] = float(bin_days)
    segment = segment_sql(filters, params, region_column="region", category=False,
                           channel=False)
    return read_frame(conn, f"""
        WITH binned AS (
            SELECT carrier, FLOOR({measure} / :bin_days) * :bin_days AS bin_start
            FROM marts.pickup_performance
            WHERE {measure} IS NOT NULL
              AND requested_date BETWEEN :date_from AND :date_to {segment}
        )
        SELECT carrier, bin_start, COUNT(*) AS pickups
        FROM binned
        GROUP BY carrier, bin_start
        ORDER BY 1, 2
    """, params)

def pickup_time_summary(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Per carrier: pickups, picked up, first-attempt successes and median/p90 of each time."""
    params = day_params(filters)
    segment = segment_sql(filters, params, region_column="region", category=False,
                           channel=False)
    quantiles = ", ".join(
        f"percentile_cont({q}) WITHIN GROUP (ORDER BY {m}) AS {m}_p{int(q * 100)}"
        for m in PICKUP_MEASURES for q in (0.5, 0.9))
    return read_frame(conn, f"""
        SELECT carrier, COUNT(*) AS pickups,
               SUM(CASE WHEN picked_up THEN 1 ELSE 0 END) AS picked_up,
               SUM(CASE WHEN picked_up AND failed_attempts = 0 THEN 1 ELSE 0 END)
                   AS first_attempt_pickups,
               {quantiles}
        FROM marts.pickup_performance
        WHERE requested_date BETWEEN :date_from AND :date_to {segment}
        GROUP BY carrier
        ORDER BY carrier
    """, params)


def carrier_region_pickups(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Per region and carrier, over pickups requested in the filter's days: pickups,
    first-attempt pickups, and the sums (and sums of squares) of days to pickup and
    reverse-shipping cost, with how many pickups each covers."""
    params = day_params(filters)
    segment = segment_sql(filters, params, region_column="region", category=False,
                          channel=False)
    return read_frame(conn, f"""
        SELECT region, carrier, SUM(pickups) AS pickups,
               SUM(first_attempt_pickups) AS first_attempt_pickups,
               SUM(timed_pickups) AS timed_pickups, SUM(pickup_days) AS pickup_days,
               SUM(pickup_days_sq) AS pickup_days_sq,
               SUM(costed_pickups) AS costed_pickups, SUM(shipping_cost) AS shipping_cost,
               SUM(shipping_cost_sq) AS shipping_cost_sq
        FROM marts.carrier_region_pickups
        WHERE requested_date BETWEEN :date_from AND :date_to {segment}
        GROUP BY region, carrier
        ORDER BY region, carrier
    """, params)
