"""Pipeline runs and the warehouse's shape: run history, table sizes, date bounds, filter values."""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warehouse.contract import CURRENCY_NOTE
from warehouse.derived import has_outputs
from warehouse.read._sql import read_frame
from warehouse.settings import Settings


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

def run_files(conn: Connection, run_id: str) -> pl.DataFrame:
    """The files a run saw, with what happened to each."""
    return pl.read_database(
        sa.text("SELECT * FROM audit.files WHERE run_id = :run_id ORDER BY feed, file_name"),
        conn, execute_options={"parameters": {"run_id": run_id}})

def recent_runs(conn: Connection, limit: int = 20) -> pl.DataFrame:
    """The latest pipeline runs, newest first."""
    return pl.read_database(
        sa.text("SELECT * FROM audit.runs ORDER BY started_at DESC LIMIT :limit"),
        conn, execute_options={"parameters": {"limit": limit}})

def latest_run_id(conn: Connection) -> str | None:
    """The id of the most recent pipeline run (the warehouse's version), None before any run."""
    row = conn.execute(sa.text(
        "SELECT run_id FROM audit.runs ORDER BY finished_at DESC LIMIT 1")).first()
    return row[0] if row else None

def warehouse_version(conn: Connection) -> str:
    """The latest pipeline run and derived-output publication: changes whenever either lands."""
    run = latest_run_id(conn) or "empty"
    if not has_outputs(conn):
        return run
    published = conn.execute(sa.text(
        "SELECT output_run_id FROM models.outputs ORDER BY published_at DESC LIMIT 1")).scalar()
    return f"{run}/{published}"


def currency(conn: Connection) -> str:
    """The ISO 4217 code of the warehouse's money: the `currency` note of the latest run whose
    adapter recorded one (Online Retail II: GBP, Olist: BRL), else RETURNLENS_CURRENCY (by
    default the synthetic shop's, warehouse.contract.DEFAULT_CURRENCY)."""
    recorded = conn.execute(sa.text("""
        SELECT n.value
        FROM audit.source_notes n JOIN audit.runs r ON r.run_id = n.run_id
        WHERE n.note = :note AND n.value IS NOT NULL
        ORDER BY r.started_at DESC
        LIMIT 1
    """), {"note": CURRENCY_NOTE}).scalar()
    return str(recorded).strip().upper() if recorded else Settings().currency


def data_bounds(conn: Connection) -> pl.DataFrame:
    """First and last day of orders, return requests and pickup attempts (one row)."""
    return read_frame(conn, """
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
    return read_frame(conn, """
        SELECT DISTINCT 'category' AS filter, category AS value FROM marts.sku_returns
        UNION SELECT DISTINCT 'channel', channel FROM marts.sku_returns
        UNION SELECT DISTINCT 'region', ship_region FROM marts.sku_returns
        UNION SELECT DISTINCT 'region', region FROM marts.carrier_pickup_daily
        ORDER BY 1, 2
    """).drop_nulls()
