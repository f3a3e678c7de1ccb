"""The dashboard's read layer: typed functions over marts.* and audit.* with bound parameters.

Every function takes an open connection and a `Filters` (the dashboard's global filters) where
they apply, and returns a polars frame. Column names used in SQL text come from the constants
below, never from a caller; values are always bound parameters.
"""

from __future__ import annotations

import calendar
import warnings
from dataclasses import dataclass
from datetime import date
from typing import Literal

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warehouse.contract import DEFECT_REASONS, FAILURE_REASONS
from warehouse.queries import EARLIEST, LATEST

MONEY_COLUMNS = (
    "refund_amount", "restocking_fee", "return_shipping_cost", "handling_cost",
    "exchange_cost", "recovered_value", "net_cost", "original_value",
)
CostDimension = Literal[
    "requested_month", "category", "channel", "ship_region", "reason_code", "return_type",
    "resolution", "disposition",
]
COST_DIMENSIONS: tuple[str, ...] = CostDimension.__args__  # type: ignore[attr-defined]
CohortLevel = Literal["category", "product_id", "sku", "size", "vendor_id"]
COHORT_LEVELS: tuple[str, ...] = CohortLevel.__args__  # type: ignore[attr-defined]
MoverKey = Literal["sku", "vendor_id"]
PickupMeasure = Literal["pickup_tat_days", "request_to_warehouse_days", "cycle_days"]
PICKUP_MEASURES: tuple[str, ...] = PickupMeasure.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Filters:
    """The dashboard's global filters: an order/request month range and segments (empty = all)."""

    month_from: date | None = None
    month_to: date | None = None
    categories: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    @property
    def date_from(self) -> date:
        """First day covered (the first day of month_from)."""
        return self.month_from or EARLIEST

    @property
    def date_to(self) -> date:
        """Last day covered (the last day of month_to)."""
        if self.month_to is None:
            return LATEST
        last = calendar.monthrange(self.month_to.year, self.month_to.month)[1]
        return self.month_to.replace(day=last)

    @property
    def has_segments(self) -> bool:
        """Whether a category, channel or region filter is set."""
        return bool(self.categories or self.channels or self.regions)


ALL = Filters()


def _read(conn: Connection, sql: str, params: dict[str, object] | None = None) -> pl.DataFrame:
    """Run `sql` with bound parameters (tuples expand into IN lists) and return a polars frame."""
    params = dict(params or {})
    statement = sa.text(sql)
    expanding = [k for k, v in params.items() if isinstance(v, tuple)]
    if expanding:
        statement = statement.bindparams(*(sa.bindparam(k, expanding=True) for k in expanding))
    with warnings.catch_warnings():
        # polars notes that DuckDB's DB-API Arrow output costs a copy; it is small here
        warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")
        frame = pl.read_database(statement, conn, execute_options={"parameters": params})
    # SUMs come back as DECIMAL (DuckDB HUGEINT, PostgreSQL NUMERIC): make them plain numbers
    return frame.with_columns(
        pl.col(name).cast(pl.Int64 if dtype.scale == 0 else pl.Float64)  # type: ignore[union-attr]
        for name, dtype in frame.schema.items() if isinstance(dtype, pl.Decimal)
    )


def _segment_sql(filters: Filters, params: dict[str, object], region_column: str = "ship_region",
                 category: bool = True, channel: bool = True) -> str:
    """AND-clauses for the segment filters a mart carries; binds their values into `params`."""
    clauses = []
    if category and filters.categories:
        clauses.append("category IN :categories")
        params["categories"] = tuple(filters.categories)
    if channel and filters.channels:
        clauses.append("channel IN :channels")
        params["channels"] = tuple(filters.channels)
    if region_column and filters.regions:
        clauses.append(f"{region_column} IN :regions")
        params["regions"] = tuple(filters.regions)
    return "".join(f" AND {c}" for c in clauses)


def _month_params(filters: Filters) -> dict[str, object]:
    return {"month_from": filters.month_from or EARLIEST, "month_to": filters.month_to or LATEST}


def _day_params(filters: Filters) -> dict[str, object]:
    return {"date_from": filters.date_from, "date_to": filters.date_to}


# --- shared ----------------------------------------------------------------------------------

def latest_run_id(conn: Connection) -> str | None:
    """The id of the most recent pipeline run (the warehouse's version), None before any run."""
    row = conn.execute(sa.text(
        "SELECT run_id FROM audit.runs ORDER BY finished_at DESC LIMIT 1")).first()
    return row[0] if row else None


def data_bounds(conn: Connection) -> pl.DataFrame:
    """First and last day of orders, return requests and pickup attempts (one row)."""
    return _read(conn, """
        WITH orders AS (SELECT MIN(order_date) AS first_day, MAX(order_date) AS last_day
                        FROM marts.daily_kpis),
        requests AS (SELECT MIN(requested_date) AS first_day, MAX(requested_date) AS last_day
                     FROM marts.returns_daily),
        attempts AS (SELECT MIN(attempt_date) AS first_day, MAX(attempt_date) AS last_day
                     FROM marts.carrier_pickup_daily)
        SELECT o.first_day AS first_order_day, o.last_day AS last_order_day,
               r.first_day AS first_request_day, r.last_day AS last_request_day,
               a.first_day AS first_attempt_day, a.last_day AS last_attempt_day
        FROM orders o CROSS JOIN requests r CROSS JOIN attempts a
    """)


def filter_values(conn: Connection) -> pl.DataFrame:
    """Every value the segment filters can take: columns filter ('category', ...) and value."""
    return _read(conn, """
        SELECT DISTINCT 'category' AS filter, category AS value FROM marts.sku_returns
        UNION SELECT DISTINCT 'channel', channel FROM marts.sku_returns
        UNION SELECT DISTINCT 'region', ship_region FROM marts.sku_returns
        UNION SELECT DISTINCT 'region', region FROM marts.carrier_pickup_daily
        ORDER BY 1, 2
    """).drop_nulls()


# --- overview --------------------------------------------------------------------------------

def cohort_trend(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Sales, returns and net return cost by order month for the filtered segment."""
    params = _month_params(filters)
    segment = _segment_sql(filters, params)
    return _read(conn, f"""
        WITH sold AS (
            SELECT order_month, SUM(units_sold) AS units_sold, SUM(sold_value) AS sold_value,
                   SUM(units_returned) AS units_returned, SUM(refund_value) AS refund_value,
                   SUM(rto_units) AS rto_units
            FROM marts.sku_returns
            WHERE order_month BETWEEN :month_from AND :month_to {segment}
            GROUP BY order_month
        ),
        cost AS (
            SELECT order_month, SUM(net_cost) AS net_return_cost
            FROM marts.returns_daily
            WHERE order_month BETWEEN :month_from AND :month_to {segment}
            GROUP BY order_month
        )
        SELECT s.order_month, s.units_sold, s.sold_value, s.units_returned, s.refund_value,
               s.rto_units, COALESCE(c.net_return_cost, 0) AS net_return_cost
        FROM sold s LEFT JOIN cost c ON c.order_month = s.order_month
        ORDER BY s.order_month
    """, params)


def return_units_by_period(conn: Connection, filters: Filters, key: MoverKey,
                           current: tuple[date, date], previous: tuple[date, date],
                           defects_only: bool = False) -> pl.DataFrame:
    """Customer-return units requested in a current and a previous period, per `key`."""
    if key not in MoverKey.__args__:  # type: ignore[attr-defined]
        raise ValueError(f"unknown key {key!r}")
    params: dict[str, object] = {"cur_from": current[0], "cur_to": current[1],
                                 "prev_from": previous[0], "prev_to": previous[1]}
    segment = _segment_sql(filters, params)
    reasons = ""
    if defects_only:
        reasons = " AND reason_code IN :defect_reasons"
        params["defect_reasons"] = DEFECT_REASONS
    return _read(conn, f"""
        SELECT {key} AS key, MIN(category) AS category,
               SUM(CASE WHEN requested_date BETWEEN :cur_from AND :cur_to THEN units ELSE 0 END)
                   AS units_current,
               SUM(CASE WHEN requested_date BETWEEN :prev_from AND :prev_to THEN units ELSE 0 END)
                   AS units_previous
        FROM marts.returns_daily
        WHERE return_type = 'customer_return' AND {key} IS NOT NULL
          AND requested_date BETWEEN :prev_from AND :cur_to {segment}{reasons}
        GROUP BY {key}
    """, params)


def npr_by_period(conn: Connection, filters: Filters, current: tuple[date, date],
                  previous: tuple[date, date]) -> pl.DataFrame:
    """Pickup attempts and failures per carrier in a current and a previous period."""
    params: dict[str, object] = {"cur_from": current[0], "cur_to": current[1],
                                 "prev_from": previous[0], "prev_to": previous[1]}
    segment = _segment_sql(filters, params, region_column="region", category=False,
                           channel=False)
    return _read(conn, f"""
        SELECT carrier,
               SUM(CASE WHEN attempt_date BETWEEN :cur_from AND :cur_to THEN attempts ELSE 0 END)
                   AS attempts_current,
               SUM(CASE WHEN attempt_date BETWEEN :cur_from AND :cur_to
                        THEN failed_attempts ELSE 0 END) AS failed_current,
               SUM(CASE WHEN attempt_date BETWEEN :prev_from AND :prev_to
                        THEN attempts ELSE 0 END) AS attempts_previous,
               SUM(CASE WHEN attempt_date BETWEEN :prev_from AND :prev_to
                        THEN failed_attempts ELSE 0 END) AS failed_previous
        FROM marts.carrier_pickup_daily
        WHERE attempt_date BETWEEN :prev_from AND :cur_to {segment}
        GROUP BY carrier
    """, params)


# --- products --------------------------------------------------------------------------------

def _drill_sql(params: dict[str, object], product_id: str | None, sku: str | None) -> str:
    sql = ""
    if product_id is not None:
        sql += " AND product_id = :product_id"
        params["product_id"] = product_id
    if sku is not None:
        sql += " AND sku = :sku"
        params["sku"] = sku
    return sql


def returns_by_cohort(conn: Connection, filters: Filters, level: CohortLevel,
                      product_id: str | None = None, sku: str | None = None) -> pl.DataFrame:
    """Units sold and returned per `level` value and order month (the cohort grid)."""
    if level not in COHORT_LEVELS:
        raise ValueError(f"unknown level {level!r}")
    params = _month_params(filters)
    where = _segment_sql(filters, params) + _drill_sql(params, product_id, sku)
    return _read(conn, f"""
        SELECT {level} AS key, order_month,
               SUM(units_sold) AS units_sold, SUM(units_returned) AS units_returned,
               SUM(sold_value) AS sold_value, SUM(refund_value) AS refund_value
        FROM marts.sku_returns
        WHERE order_month BETWEEN :month_from AND :month_to {where}
        GROUP BY {level}, order_month
        ORDER BY 1, 2
    """, params)


def sku_totals(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Per SKU over the filtered cohorts: units sold, units returned and defect-reason units."""
    params = _month_params(filters)
    segment = _segment_sql(filters, params)
    params["defect_reasons"] = DEFECT_REASONS
    return _read(conn, f"""
        WITH sold AS (
            SELECT sku, product_id, category, size, vendor_id,
                   SUM(units_sold) AS units_sold, SUM(units_returned) AS units_returned
            FROM marts.sku_returns
            WHERE order_month BETWEEN :month_from AND :month_to {segment}
            GROUP BY sku, product_id, category, size, vendor_id
        ),
        defects AS (
            SELECT sku, SUM(units) AS defect_units
            FROM marts.returns_daily
            WHERE return_type = 'customer_return' AND reason_code IN :defect_reasons
              AND order_month BETWEEN :month_from AND :month_to {segment}
            GROUP BY sku
        )
        SELECT s.*, COALESCE(d.defect_units, 0) AS defect_units
        FROM sold s LEFT JOIN defects d ON d.sku = s.sku
        ORDER BY s.sku
    """, params)


def vendor_names(conn: Connection) -> pl.DataFrame:
    """Vendor id → name, as far as the marts know them."""
    return _read(conn, "SELECT DISTINCT vendor_id, vendor_name FROM marts.vendor_quality "
                       "ORDER BY vendor_id")


def return_reasons(conn: Connection, filters: Filters, product_id: str | None = None,
                   sku: str | None = None) -> pl.DataFrame:
    """Customer returns and units per reason, for orders in the filtered cohorts."""
    params = _month_params(filters)
    where = _segment_sql(filters, params) + _drill_sql(params, product_id, sku)
    return _read(conn, f"""
        SELECT reason_code, SUM(returns) AS returns, SUM(units) AS units_returned
        FROM marts.returns_daily
        WHERE return_type = 'customer_return'
          AND order_month BETWEEN :month_from AND :month_to {where}
        GROUP BY reason_code
        ORDER BY units_returned DESC, reason_code
    """, params)


def return_lag(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Customer-return units per order month and whole days since the cohort's first day."""
    params: dict[str, object] = {}
    segment = _segment_sql(filters, params)
    return _read(conn, f"""
        SELECT order_month, days_since_cohort_start, SUM(units_returned) AS units_returned
        FROM marts.return_lag
        WHERE 1 = 1 {segment}
        GROUP BY order_month, days_since_cohort_start
        ORDER BY 1, 2
    """, params)


def sku_feedback(conn: Connection, sku: str) -> pl.DataFrame:
    """Return comments (with inspection result) and reviews of one SKU, newest first."""
    return _read(conn, """
        SELECT feedback_at, source, order_month, reason_code, condition, rating, language,
               feedback_text
        FROM marts.sku_feedback
        WHERE sku = :sku AND (feedback_text IS NOT NULL OR rating IS NOT NULL)
        ORDER BY feedback_at DESC, source
    """, {"sku": sku})


# --- costs -----------------------------------------------------------------------------------

def return_costs(conn: Connection, filters: Filters, by: CostDimension) -> pl.DataFrame:
    """Returns, units and every money column per `by`, for returns requested in the range."""
    if by not in COST_DIMENSIONS:
        raise ValueError(f"unknown dimension {by!r}")
    params = _day_params(filters)
    segment = _segment_sql(filters, params)
    sums = ", ".join(f"SUM({c}) AS {c}" for c in MONEY_COLUMNS)
    return _read(conn, f"""
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
    params = _day_params(filters)
    segment = _segment_sql(filters, params)
    count, top = "", ""
    if limit is not None:
        params["limit"] = int(limit)
        count, top = ", COUNT(*) OVER () AS rows_in_all", "LIMIT :limit"
    return _read(conn, f"""
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
    params = _day_params(filters)
    segment = _segment_sql(filters, params)
    return _read(conn, f"""
        SELECT COALESCE(disposition, '(not received)') AS disposition,
               SUM(returns) AS returns, SUM(units) AS units,
               SUM(original_value) AS original_value, SUM(recovered_value) AS recovered_value
        FROM marts.returns_daily
        WHERE requested_date BETWEEN :date_from AND :date_to {segment}
        GROUP BY 1
        ORDER BY 1
    """, params)


# --- carriers --------------------------------------------------------------------------------

def carrier_weekly(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Pickup attempts, failures and failure reasons per carrier, region and ISO week."""
    params = _day_params(filters)
    segment = _segment_sql(filters, params, region_column="region", category=False,
                           channel=False)
    reasons = ", ".join(f"SUM(failed_{r}) AS failed_{r}" for r in FAILURE_REASONS)
    return _read(conn, f"""
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
    params = _day_params(filters)
    segment = _segment_sql(filters, params, region_column="region", category=False,
                           channel=False)
    return _read(conn, f"""
        SELECT carrier, weekday, SUM(attempts) AS attempts,
               SUM(failed_attempts) AS failed_attempts
        FROM marts.carrier_pickup_daily
        WHERE attempt_date BETWEEN :date_from AND :date_to {segment}
        GROUP BY carrier, weekday
        ORDER BY 1, 2
    """, params)


def pickup_attempts(conn: Connection, filters: Filters) -> pl.DataFrame:
    """Reverse pickups per carrier by attempts made and whether the parcel was picked up."""
    params = _day_params(filters)
    segment = _segment_sql(filters, params, region_column="region", category=False,
                           channel=False)
    return _read(conn, f"""
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
    params = _day_params(filters)
    params["bin_days"] = float(bin_days)
    segment = _segment_sql(filters, params, region_column="region", category=False,
                           channel=False)
    return _read(conn, f"""
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
    params = _day_params(filters)
    segment = _segment_sql(filters, params, region_column="region", category=False,
                           channel=False)
    quantiles = ", ".join(
        f"percentile_cont({q}) WITHIN GROUP (ORDER BY {m}) AS {m}_p{int(q * 100)}"
        for m in PICKUP_MEASURES for q in (0.5, 0.9))
    return _read(conn, f"""
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


# --- data quality ----------------------------------------------------------------------------

def recent_files(conn: Connection, runs: int = 5) -> pl.DataFrame:
    """The files the latest `runs` runs saw, with what happened to each."""
    return _read(conn, """
        WITH latest AS (SELECT run_id, started_at FROM audit.runs
                        ORDER BY started_at DESC LIMIT :runs)
        SELECT f.*, l.started_at
        FROM audit.files f JOIN latest l ON l.run_id = f.run_id
        ORDER BY l.started_at DESC, f.feed, f.file_name
    """, {"runs": runs})


def quarantine_summary(conn: Connection) -> pl.DataFrame:
    """Quarantined rows per run, feed, field and rule."""
    return _read(conn, """
        SELECT run_id, feed, field, rule, COUNT(*) AS rows_quarantined
        FROM audit.quarantine
        GROUP BY run_id, feed, field, rule
        ORDER BY rows_quarantined DESC, feed, field, rule
    """)


def quarantined_rows(conn: Connection, limit: int = 1000) -> pl.DataFrame:
    """Quarantined rows with the rule they broke and why, newest run first."""
    return _read(conn, """
        SELECT q.run_id, q.feed, q.file_name, q.row_number, q.field, q.rule, q.status,
               q.message, q.record
        FROM audit.quarantine q LEFT JOIN audit.runs r ON r.run_id = q.run_id
        ORDER BY r.started_at DESC, q.feed, q.file_name, q.row_number
        LIMIT :limit
    """, {"limit": limit})
