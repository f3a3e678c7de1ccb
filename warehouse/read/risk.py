"""Return risk: the model card, scores of open lines, high-risk SKUs and customers, and the
returns reserve, as the last `returnlens train` published them (output "risk")."""

from __future__ import annotations

from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warehouse.derived import is_published, latest_output
from warehouse.read._sql import read_frame

OUTPUT = "risk"
TABLES = ("risk_line_scores", "risk_skus", "risk_customers", "risk_metrics", "risk_calibration",
          "risk_importances", "risk_reserve", "risk_reserve_backtest")
ORDER = {  # table → ORDER BY (from this fixed list, never from a caller)
    "risk_line_scores": "p_return DESC, order_id, line_id",
    "risk_skus": "mean_p_return DESC, sku",
    "risk_customers": "expected_units DESC, customer_id",
    "risk_metrics": "roc_auc DESC",
    "risk_calibration": "bin",
    "risk_importances": "importance DESC, feature",
    "risk_reserve": "as_of",
    "risk_reserve_backtest": "as_of",
}


def model_card(conn: Connection) -> dict[str, Any] | None:
    """The latest training's record (published when, data snapshot, parameters, metrics), or
    None when no model has been trained on this warehouse."""
    return latest_output(conn, OUTPUT)


def risk_table(conn: Connection, table: str, limit: int | None = None) -> pl.DataFrame:
    """One published risk table in its natural order (the first `limit` rows); empty frame when
    nothing was published yet."""
    if table not in TABLES:
        raise ValueError(f"unknown risk table {table!r}; tables are {', '.join(TABLES)}")
    if not is_published(conn, OUTPUT, table):
        return pl.DataFrame()
    # table and ORDER BY come from the fixed lists above
    sql = f"SELECT * FROM models.{table} ORDER BY {ORDER[table]}"
    if limit is None:
        return read_frame(conn, sql)
    return read_frame(conn, sql + " LIMIT :limit", {"limit": limit})


def open_line_count(conn: Connection) -> int:
    """How many open order lines the latest scoring covered."""
    if not is_published(conn, OUTPUT, "risk_line_scores"):
        return 0
    return int(conn.execute(sa.text("SELECT COUNT(*) FROM models.risk_line_scores")).scalar())
