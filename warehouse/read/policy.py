"""Policy Lab: the history the return-policy simulator learns from, and its saved scenarios."""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warehouse.derived import has_outputs
from warehouse.read._sql import read_frame

RETURN_LINE_COLUMNS = (
    "order_date", "requested_date", "customer_id", "category", "return_type", "reason_code",
    "resolution", "quantity", "days_to_return", "policy_id", "refund_amount", "restocking_fee",
    "return_shipping_cost", "handling_cost", "exchange_cost", "recovered_value", "net_cost",
    "replacement_cost",
)


def policy_history(conn: Connection) -> pl.DataFrame:
    """The return policies in force over time, oldest first."""
    return read_frame(conn, """
        SELECT policy_id, effective_from, effective_to, window_days, restocking_fee_pct,
               free_return_shipping
        FROM marts.policy_history
        ORDER BY effective_from
    """)


def return_lines(conn: Connection) -> pl.DataFrame:
    """Every return of a known order line with its order date, lag, reason and money columns."""
    return read_frame(conn, f"""
        SELECT {", ".join(RETURN_LINE_COLUMNS)}
        FROM marts.policy_return_lines
    """)


def sales_daily(conn: Connection) -> pl.DataFrame:
    """Order lines, units sold and delivered and sold value per order date and category."""
    return read_frame(conn, """
        SELECT order_date, category, order_lines, units_sold, units_delivered, sold_value
        FROM marts.policy_sales_daily
        ORDER BY order_date, category
    """)


def customer_spend(conn: Connection) -> pl.DataFrame:
    """What each customer spent per order date (net of discounts)."""
    return read_frame(conn, """
        SELECT customer_id, order_date, spend FROM marts.customer_spend_daily
    """)


def saved_scenarios(conn: Connection) -> pl.DataFrame:
    """The saved Policy Lab scenarios (latest publication), empty before any was saved."""
    if not has_outputs(conn):
        return pl.DataFrame()
    published = conn.execute(sa.text(
        "SELECT COUNT(*) FROM models.outputs WHERE output = 'policy'")).scalar()
    if not published:
        return pl.DataFrame()
    return read_frame(conn, "SELECT * FROM models.policy_scenarios ORDER BY saved_at")
