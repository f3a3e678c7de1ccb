"""Return-abuse signals: per return and per customer counts of the events the returns desk
suspects, computed in the warehouse from the core facts as they stood at a given time.

An event counts only once it had happened at `as_of`: orders placed, returns requested,
inspections (received_at), refunds (refunded_at) and pickup attempts (attempted_at) up to then.
The events, all rules a returns desk already applies by hand:

- a return found `used` at inspection (wardrobing);
- a return found `empty_box` or `wrong_item` at inspection (empty box or a switched item);
- a failed pickup "customer not available" after the refund for that return was issued
  (a pickup claim: the refund is out, the parcel never leaves the customer);
- a refund issued before the warehouse received the item, and a refund whose item still had not
  arrived `stale_days` later (refund before receipt);
- and, per customer, how many delivered lines came back against how many the mix of categories
  bought would bring back at the shop's rate (serial returning).

The model (models/abuse.py) turns these counts into scores; nothing here is learned.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl
from sqlalchemy.engine import Connection

from warehouse.contract import CONDITIONS, FAILURE_REASONS, RETURN_METHODS, RETURN_TYPES
from warehouse.read._sql import read_frame

USED = "used"
EMPTY_OR_WRONG = ("empty_box", "wrong_item")
NOT_AVAILABLE = "customer_not_available"
CUSTOMER_RETURN = "customer_return"
PICKUP = "pickup"
if not ({USED, *EMPTY_OR_WRONG} <= set(CONDITIONS) and NOT_AVAILABLE in FAILURE_REASONS
        and CUSTOMER_RETURN in RETURN_TYPES and PICKUP in RETURN_METHODS):
    raise ImportError("abuse signals name values the data contract no longer has")

STALE_DAYS = 14
"""Days after a refund by which the item should have reached the warehouse."""

_RETURNS = """
    WITH rets AS (
        SELECT return_id, customer_id, order_id, line_id, requested_at, return_method,
               condition, received_at, refunded_at, refund_amount
        FROM core.fct_returns
        WHERE return_type = :customer_return AND customer_id IS NOT NULL
          AND requested_at <= :as_of
    ),
    attempts AS (
        SELECT a.return_id,
               SUM(CASE WHEN a.failed = 1 AND a.failure_reason = :not_available
                         AND r.refunded_at IS NOT NULL AND r.refunded_at <= :as_of
                         AND a.attempted_at > r.refunded_at THEN 1 ELSE 0 END)
                   AS failed_pickups_after_refund,
               SUM(a.failed) AS failed_pickups
        FROM core.fct_pickup_attempts a
        JOIN rets r ON r.return_id = a.return_id
        WHERE a.attempted_at <= :as_of
        GROUP BY a.return_id
    ),
    final AS (
        SELECT r.return_id, r.customer_id, r.order_id, r.line_id, r.requested_at,
               r.return_method, r.refund_amount,
               CASE WHEN r.received_at <= :as_of THEN r.condition END AS condition,
               CASE WHEN r.received_at <= :as_of AND r.condition IS NOT NULL THEN 1 ELSE 0 END
                   AS inspected,
               CASE WHEN r.received_at <= :as_of AND r.condition = :used THEN 1 ELSE 0 END
                   AS used,
               CASE WHEN r.received_at <= :as_of AND r.condition IN :empty_or_wrong
                    THEN 1 ELSE 0 END AS empty_or_wrong,
               CASE WHEN r.return_method = :pickup THEN 1 ELSE 0 END AS pickup,
               CASE WHEN r.refunded_at <= :as_of THEN 1 ELSE 0 END AS refunded,
               CASE WHEN r.refunded_at <= :as_of
                     AND (r.received_at IS NULL OR r.received_at > r.refunded_at)
                    THEN 1 ELSE 0 END AS refund_before_receipt,
               CASE WHEN r.refunded_at <= :stale_before
                     AND (r.received_at IS NULL OR r.received_at > :as_of)
                    THEN 1 ELSE 0 END AS refund_not_received,
               COALESCE(a.failed_pickups, 0) AS failed_pickups,
               COALESCE(a.failed_pickups_after_refund, 0) AS failed_pickups_after_refund
        FROM rets r
        LEFT JOIN attempts a ON a.return_id = r.return_id
    )
"""

RETURN_COLUMNS = ("return_id", "customer_id", "order_id", "line_id", "requested_at",
                  "return_method", "condition", "refund_amount", "inspected", "used",
                  "empty_or_wrong", "pickup", "refunded", "refund_before_receipt",
                  "refund_not_received", "failed_pickups", "failed_pickups_after_refund")


def latest_event(conn: Connection) -> datetime | None:
    """The latest order, request, receipt or refund in the warehouse (the default as-of time)."""
    row = read_frame(conn, """
        SELECT MAX(ordered_at) AS t FROM core.fct_order_lines
        UNION ALL SELECT MAX(requested_at) FROM core.fct_returns
        UNION ALL SELECT MAX(received_at) FROM core.fct_returns
        UNION ALL SELECT MAX(refunded_at) FROM core.fct_returns
    """)["t"].drop_nulls()
    return row.max() if row.len() else None  # type: ignore[return-value]


def _params(as_of: datetime, stale_days: int) -> dict[str, object]:
    return {"as_of": as_of, "stale_before": as_of - timedelta(days=stale_days),
            "customer_return": CUSTOMER_RETURN, "not_available": NOT_AVAILABLE, "used": USED,
            "empty_or_wrong": EMPTY_OR_WRONG, "pickup": PICKUP}


def return_signals(conn: Connection, as_of: datetime,
                   stale_days: int = STALE_DAYS) -> pl.DataFrame:
    """One row per customer return requested by `as_of`, with the suspicious events it shows."""
    return read_frame(conn, _RETURNS + f"""
        SELECT {", ".join(RETURN_COLUMNS)} FROM final ORDER BY return_id
    """, _params(as_of, stale_days))


def customer_signals(conn: Connection, as_of: datetime,
                     stale_days: int = STALE_DAYS) -> pl.DataFrame:
    """One row per customer who ordered by `as_of`: orders, returns and suspicious-event counts.

    Customers who returned nothing are included (with zero counts) so the model can learn what
    ordinary customers look like. expected_returned_lines is what the customer's delivered lines
    (every line ordered, where the source records no delivery at all) would bring back at the
    shop-wide return rate of each line's category, so a customer who buys what everyone returns
    is not mistaken for a serial returner. Sums of floats are rounded: the warehouse adds them
    in parallel, in an order that changes the last bits run to run.
    """
    frame = read_frame(conn, _RETURNS + """
        , returned_lines AS (SELECT DISTINCT order_id, line_id FROM final),
        recorded AS (  -- a source without delivery dates (Online Retail II): lines arrive
            SELECT COUNT(delivered_at) > 0 AS deliveries FROM core.fct_order_lines
        ),
        lines AS (
            SELECT l.customer_id, l.order_id, l.category,
                   CASE WHEN l.delivered_at <= :as_of OR NOT d.deliveries THEN 1 ELSE 0 END
                       AS delivered,
                   CASE WHEN rl.order_id IS NOT NULL THEN 1 ELSE 0 END AS returned
            FROM core.fct_order_lines l
            CROSS JOIN recorded d
            LEFT JOIN returned_lines rl ON rl.order_id = l.order_id AND rl.line_id = l.line_id
            WHERE l.ordered_at <= :as_of
        ),
        category_rate AS (
            SELECT category, AVG(CAST(returned AS DOUBLE PRECISION)) AS rate
            FROM lines WHERE delivered = 1 GROUP BY category
        ),
        per_customer_lines AS (
            SELECT l.customer_id,
                   COUNT(DISTINCT l.order_id) AS orders,
                   COUNT(DISTINCT CASE WHEN l.returned = 1 THEN l.order_id END)
                       AS returned_orders,
                   SUM(l.delivered) AS delivered_lines,
                   SUM(l.delivered * l.returned) AS returned_lines,
                   SUM(l.delivered * COALESCE(c.rate, 0)) AS expected_returned_lines
            FROM lines l
            LEFT JOIN category_rate c ON c.category = l.category
            GROUP BY l.customer_id
        ),
        per_customer_returns AS (
            SELECT customer_id, COUNT(*) AS returns, SUM(inspected) AS inspected_returns,
                   SUM(used) AS used_returns, SUM(empty_or_wrong) AS empty_or_wrong_returns,
                   SUM(pickup) AS pickup_returns, SUM(refunded) AS refunded_returns,
                   SUM(refund_before_receipt) AS refunds_before_receipt,
                   SUM(refund_not_received) AS refunds_not_received,
                   SUM(failed_pickups) AS failed_pickups,
                   SUM(failed_pickups_after_refund) AS failed_pickups_after_refund,
                   SUM(CASE WHEN failed_pickups_after_refund > 0 THEN 1 ELSE 0 END)
                       AS returns_with_failed_pickup_after_refund,
                   SUM(refund_amount) AS refund_amount
            FROM final GROUP BY customer_id
        )
        SELECT l.customer_id, l.orders, l.returned_orders, l.delivered_lines, l.returned_lines,
               l.expected_returned_lines,
               COALESCE(r.returns, 0) AS returns,
               COALESCE(r.inspected_returns, 0) AS inspected_returns,
               COALESCE(r.used_returns, 0) AS used_returns,
               COALESCE(r.empty_or_wrong_returns, 0) AS empty_or_wrong_returns,
               COALESCE(r.pickup_returns, 0) AS pickup_returns,
               COALESCE(r.refunded_returns, 0) AS refunded_returns,
               COALESCE(r.refunds_before_receipt, 0) AS refunds_before_receipt,
               COALESCE(r.refunds_not_received, 0) AS refunds_not_received,
               COALESCE(r.failed_pickups, 0) AS failed_pickups,
               COALESCE(r.failed_pickups_after_refund, 0) AS failed_pickups_after_refund,
               COALESCE(r.returns_with_failed_pickup_after_refund, 0)
                   AS returns_with_failed_pickup_after_refund,
               COALESCE(r.refund_amount, 0) AS refund_amount
        FROM per_customer_lines l
        LEFT JOIN per_customer_returns r ON r.customer_id = l.customer_id
        ORDER BY l.customer_id
    """, _params(as_of, stale_days))
    return frame.with_columns(pl.col("expected_returned_lines").round(9),
                              pl.col("refund_amount").round(2))
