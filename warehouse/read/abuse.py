"""Return abuse: the published review queue of suspected customers and their returns.

Reads the `abuse` output of models/abuse.py (tables models.abuse_customers and
models.abuse_returns, written through warehouse.derived). Before anything is published both
functions return empty frames with the same columns, so a page can say "not scored yet".
"""

from __future__ import annotations

import polars as pl
from sqlalchemy.engine import Connection

from warehouse import derived
from warehouse.read._sql import read_frame

QUEUE_COLUMNS = pl.Schema({
    "customer_id": pl.String(), "rank": pl.Int64(), "score": pl.Float64(),
    "flagged": pl.Boolean(), "kinds": pl.String(), "reasons": pl.String(),
    "orders": pl.Int64(), "returned_orders": pl.Int64(), "returns": pl.Int64(),
    "used_returns": pl.Int64(), "empty_or_wrong_returns": pl.Int64(),
    "returns_with_failed_pickup_after_refund": pl.Int64(),
    "refunds_not_received": pl.Int64(), "refund_amount": pl.Float64(),
})
RETURN_COLUMNS = pl.Schema({
    "return_id": pl.String(), "customer_id": pl.String(), "score": pl.Float64(),
    "reasons": pl.String(), "order_id": pl.String(), "line_id": pl.Int64(),
    "requested_at": pl.Datetime("us"), "condition": pl.String(),
    "refund_amount": pl.Float64(),
})


def _published(conn: Connection) -> bool:
    return derived.latest_output(conn, "abuse") is not None


def review_queue(conn: Connection, limit: int = 200) -> pl.DataFrame:
    """The `limit` most suspicious customers, most suspicious first, with reasons and counts."""
    if not _published(conn):
        return pl.DataFrame(schema=QUEUE_COLUMNS)
    frame = read_frame(conn, f"""
        SELECT {", ".join(QUEUE_COLUMNS)}
        FROM models.abuse_customers
        ORDER BY score DESC, rank
        LIMIT :limit
    """, {"limit": int(limit)})
    return frame.cast(dict(QUEUE_COLUMNS))  # type: ignore[arg-type]


def abuse_returns_of(conn: Connection, customer_id: str) -> pl.DataFrame:
    """One customer's scored returns, most suspicious first, each with its reasons."""
    if not _published(conn):
        return pl.DataFrame(schema=RETURN_COLUMNS)
    frame = read_frame(conn, f"""
        SELECT {", ".join(RETURN_COLUMNS)}
        FROM models.abuse_returns
        WHERE customer_id = :customer_id
        ORDER BY score DESC, return_id
    """, {"customer_id": customer_id})
    return frame.cast(dict(RETURN_COLUMNS))  # type: ignore[arg-type]
