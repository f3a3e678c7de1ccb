"""Incremental rebuild of core and marts after a run that only added rows to the fact feeds.

A daily delivery adds a day of orders, returns, scans and reviews to a warehouse of years. The
full rebuild (warehouse/transform.py) recomputes every core and mart table from raw; this one
recomputes only the partitions the run touched: the core rows of the orders, returns and reviews
it added (and of the orders those returns belong to), then the mart rows of the order dates,
order months, request dates, attempt dates and review months those rows fall in. Each partition
is recomputed from scratch with the same SQL the full rebuild runs, so the result equals a full
rebuild (tests/warehouse/test_incremental.py builds both and compares every table).

It applies only when the run added new keys and nothing else: a run that replaced a row (a
correction may move it to another partition) or loaded reference data (products, vendors,
carriers, regions, policy: every row may change) rebuilds everything. A table the layer SQL
creates without a partition rule here is rebuilt whole, so a new mart is never left stale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warehouse.contract import FEEDS
from warehouse.transform import coverage_statements, statements

FACT_FEEDS = tuple(name for name, feed in FEEDS.items() if feed.kind != "reference")
REFERENCE_FEEDS = tuple(name for name, feed in FEEDS.items() if feed.kind == "reference")

# The run's touched keys, as temporary tables, from raw rows carrying this run's id.
_TOUCHED = {
    "_d_orders": """
        SELECT order_id FROM raw.orders WHERE _run_id = :run_id
        UNION SELECT order_id FROM raw.returns WHERE _run_id = :run_id AND order_id IS NOT NULL
    """,
    "_d_returns": """
        SELECT return_id FROM raw.returns
        WHERE _run_id = :run_id OR order_id IN (SELECT order_id FROM _d_orders)
    """,
    "_d_pickup_returns": """
        SELECT return_id FROM raw.carrier_scans WHERE _run_id = :run_id
        UNION SELECT return_id FROM _d_returns
    """,
    "_d_reviews": """
        SELECT review_id FROM raw.reviews
        WHERE _run_id = :run_id OR order_id IN (SELECT order_id FROM _d_orders)
    """,
}
# Partitions of the marts, read off the core rows once they are rebuilt.
_PARTITIONS = {
    "_p_order_dates": "SELECT DISTINCT order_date FROM core.fct_order_lines "
                      "WHERE order_id IN (SELECT order_id FROM _d_orders)",
    "_p_order_months": "SELECT DISTINCT order_month FROM core.fct_order_lines "
                       "WHERE order_id IN (SELECT order_id FROM _d_orders)",
    "_p_request_dates": "SELECT DISTINCT requested_date FROM core.fct_returns "
                        "WHERE return_id IN (SELECT return_id FROM _d_returns)",
    "_p_lag_months": "SELECT DISTINCT order_month FROM core.fct_returns "
                     "WHERE return_id IN (SELECT return_id FROM _d_returns) "
                     "AND order_month IS NOT NULL",
    "_p_attempt_dates": "SELECT DISTINCT attempt_date FROM core.fct_pickup_attempts "
                        "WHERE return_id IN (SELECT return_id FROM _d_pickup_returns)",
    "_p_review_months": "SELECT DISTINCT review_month FROM core.fct_reviews "
                        "WHERE review_id IN (SELECT review_id FROM _d_reviews)",
}
# Which rows of each table a touched key can change: a predicate over the table's columns.
PARTITION_RULES = {
    "core.fct_returns": "return_id IN (SELECT return_id FROM _d_returns)",
    "core.fct_order_lines": "order_id IN (SELECT order_id FROM _d_orders)",
    "core.fct_pickup_attempts": "return_id IN (SELECT return_id FROM _d_pickup_returns)",
    "core.fct_pickups": "return_id IN (SELECT return_id FROM _d_pickup_returns)",
    "core.fct_reviews": "review_id IN (SELECT review_id FROM _d_reviews)",
    "marts.daily_kpis": "order_date IN (SELECT order_date FROM _p_order_dates)",
    "marts.sku_returns": "order_month IN (SELECT order_month FROM _p_order_months)",
    "marts.sku_returns_daily": "order_date IN (SELECT order_date FROM _p_order_dates)",
    "marts.vendor_quality": "order_month IN (SELECT order_month FROM _p_order_months)",
    "marts.carrier_pickup_daily": "attempt_date IN (SELECT attempt_date FROM _p_attempt_dates)",
    "marts.pickup_performance": "return_id IN (SELECT return_id FROM _d_pickup_returns)",
    "marts.vendor_reviews": "review_month IN (SELECT review_month FROM _p_review_months)",
    "marts.returns_daily": "requested_date IN (SELECT requested_date FROM _p_request_dates)",
    "marts.return_lag": "order_month IN (SELECT order_month FROM _p_lag_months)",
    "marts.vendor_lines_daily": "order_date IN (SELECT order_date FROM _p_order_dates)",
    "marts.vendor_sku_monthly": "order_month IN (SELECT order_month FROM _p_order_months)",
    "marts.vendor_return_lines": "return_id IN (SELECT return_id FROM _d_returns)",
    "marts.vendor_review_texts": "review_id IN (SELECT review_id FROM _d_reviews)",
    "marts.sku_feedback": "(source = 'return comment' "
                          "AND feedback_id IN (SELECT return_id FROM _d_returns)) "
                          "OR (source = 'review' "
                          "AND feedback_id IN (SELECT review_id FROM _d_reviews))",
}
# Reference tables the run did not change: the full rebuild recreates them, this one keeps them.
UNCHANGED = ("core.dim_products", "core.dim_regions")
_CREATE = re.compile(r"^CREATE TABLE ([a-z_]+\.[a-z_]+) AS\s+(.*)$", re.S)


@dataclass(frozen=True)
class Plan:
    """How to bring core and marts up to date after a run, and why."""

    incremental: bool
    reason: str


def row_counts(conn: Connection) -> dict[str, int]:
    """Rows in every raw feed table (taken before a run's loads, for `plan`)."""
    return {name: int(conn.execute(sa.text(f"SELECT COUNT(*) FROM raw.{name}")).scalar())
            for name in FEEDS}  # identifiers from the contract


def _layers_exist(conn: Connection) -> bool:
    tables = {f"{s}.{n}" for s, n in conn.execute(sa.text(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema IN ('core', 'marts')")).all()}
    return set(PARTITION_RULES) | set(UNCHANGED) <= tables


def plan(conn: Connection, run_id: str, before: dict[str, int]) -> Plan:
    """Whether the run only added new keys to fact feeds over built layers (then incremental)."""
    if not _layers_exist(conn):
        return Plan(False, "the layers are not built yet")
    for name in REFERENCE_FEEDS:
        touched = conn.execute(sa.text(f"SELECT COUNT(*) FROM raw.{name} WHERE _run_id = :r"),
                               {"r": run_id}).scalar()
        if touched:
            return Plan(False, f"the run loaded {name}")
    added = 0
    for name in FACT_FEEDS:
        written = int(conn.execute(sa.text(
            f"SELECT COUNT(*) FROM raw.{name} WHERE _run_id = :r"), {"r": run_id}).scalar())
        grown = int(conn.execute(sa.text(f"SELECT COUNT(*) FROM raw.{name}")).scalar()) \
            - before[name]
        if written != grown:
            return Plan(False, f"the run replaced {written - grown:,} {name} rows")
        added += written
    if not added:
        return Plan(True, "the run added no rows")
    return Plan(True, f"the run added {added:,} rows and replaced none")


def _temp_table(conn: Connection, name: str, sql: str, params: dict[str, str]) -> None:
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")
    conn.execute(sa.text(f"CREATE TEMPORARY TABLE {name} AS {sql}"), params)


def update_layer(conn: Connection, layer: str, run_id: str) -> int:
    """Bring `layer` up to date with what run `run_id` added; returns statements run.

    Core first, then marts, as in the full rebuild (staging is views, recreated as they are).
    """
    if layer == "core":
        for name, sql in _TOUCHED.items():
            _temp_table(conn, name, sql, {"run_id": run_id})
    if layer == "marts":
        for name, sql in _PARTITIONS.items():
            _temp_table(conn, name, sql, {})
    ran = 0
    for statement in statements(layer):
        if statement.startswith("DROP TABLE"):
            continue
        created = _CREATE.match(statement)
        if created is None:  # a view or another statement: as cheap to run again as to skip
            conn.exec_driver_sql(statement)
            ran += 1
            continue
        table, query = created.groups()
        if table in UNCHANGED:
            continue
        rule = PARTITION_RULES.get(table)
        if rule is None:  # no partition rule: rebuild it whole
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
            conn.exec_driver_sql(statement)
        else:
            conn.exec_driver_sql(f"DELETE FROM {table} WHERE {rule}")
            conn.exec_driver_sql(f"INSERT INTO {table} SELECT * FROM ({query}) q WHERE {rule}")
        ran += 1
    if layer == "marts":
        for statement in coverage_statements():
            conn.exec_driver_sql(statement)
            ran += 1
    return ran
