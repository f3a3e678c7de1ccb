"""The read layer: typed functions over marts and audit tables, with bound parameters only.

The CLI, the dashboard and the models read the warehouse through these functions and nothing
else; each takes an open connection and returns plain values or a polars frame.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

EARLIEST = date(1900, 1, 1)
LATEST = date(9999, 12, 31)

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


def table_row_counts(conn: Connection) -> dict[str, int]:
    """Rows in every table of every layer, keyed 'schema.table' (for checks and the CLI)."""
    tables = conn.execute(sa.text(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN ('raw', 'core', 'marts', 'audit') AND table_type = 'BASE TABLE' "
        "ORDER BY table_schema, table_name")).all()
    counts = {}
    for schema, name in tables:
        # identifiers come from the catalogue, not from a user
        counts[f"{schema}.{name}"] = int(conn.execute(
            sa.text(f'SELECT COUNT(*) FROM "{schema}"."{name}"')).scalar())
    return counts


def latest_run(conn: Connection) -> dict | None:
    """The most recent pipeline run's record, or None before the first run."""
    row = conn.execute(sa.text(
        "SELECT * FROM audit.runs ORDER BY started_at DESC LIMIT 1")).mappings().first()
    return dict(row) if row else None


def run_files(conn: Connection, run_id: str) -> pl.DataFrame:
    """The files a run saw, with what happened to each."""
    return pl.read_database(
        sa.text("SELECT * FROM audit.files WHERE run_id = :run_id ORDER BY feed, file_name"),
        conn, execute_options={"parameters": {"run_id": run_id}})
