"""Point-in-time features of every order line, built in the warehouse with window functions.

Every feature of a line is what was known when it was ordered: its own order (product, price,
discount, size, bracketing, channel, payment, region, promised delivery) and the history of its
customer, product, SKU and vendor made of events strictly before `ordered_at` — lines ordered
before it, returns *requested* before it, inspections *received* before it. The "strictly
before" is one window frame, `RANGE BETWEEN ... AND INTERVAL '1 microsecond' PRECEDING` over an
event stream ordered by time, so nothing dated at or after the order can reach its features
(tests/warehouse/test_features.py changes the future and checks).

The frame also carries what is *not* known at the order: when the line was delivered and its
outcome (`delivered_at`, `first_return_at`, `units_returned`, `refund_amount`, `rto_at`), so
that callers can label it, and read its delivery, as of any later cut-off.
The label is a customer return (the customer sent it back); an RTO (the parcel never reached
the customer) is a delivery failure, not a return decision: models/return_risk.py leaves RTO'd
lines out of its population instead of counting them as non-returns.
"""

from __future__ import annotations

import polars as pl
from sqlalchemy.engine import Connection

from warehouse.contract import DEFECT_REASONS
from warehouse.read._sql import read_frame

SIZE_REASONS = ("size_too_small", "size_too_large")
BAD_CONDITIONS = ("used", "empty_box", "wrong_item")  # what inspection finds on abused returns

# known only after the order: callers read them as of a cut-off, never as order-time features
OUTCOME_COLUMNS = ("delivered_at", "first_return_at", "units_returned", "refund_amount", "rto_at")
# stream: (partition key, [(feature, aggregate over the earlier events, frame)]): the histories.
_BEFORE = "RANGE BETWEEN UNBOUNDED PRECEDING AND INTERVAL '1 microsecond' PRECEDING"
_RECENT = "RANGE BETWEEN INTERVAL '30 days' PRECEDING AND INTERVAL '1 microsecond' PRECEDING"
_HISTORIES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "cust": ("customer_id", [
        ("cust_prior_orders", "SUM(new_order)", _BEFORE),
        ("cust_prior_lines", "SUM(is_line)", _BEFORE),
        ("cust_prior_units", "SUM(units)", _BEFORE),
        # in whole cents: a window sum of floats differs in its last bits with the order summed
        ("cust_prior_value_cents", "SUM(line_cents)", _BEFORE),
        ("cust_prior_returns", "SUM(is_return)", _BEFORE),
        ("cust_prior_return_units", "SUM(return_units)", _BEFORE),
        ("cust_prior_size_returns", "SUM(size_return)", _BEFORE),
        ("cust_prior_defect_returns", "SUM(defect_return)", _BEFORE),
        ("cust_prior_rto", "SUM(is_rto)", _BEFORE),
        ("cust_prior_bad_condition", "SUM(bad_condition)", _BEFORE),
        ("cust_first_order_at", "MIN(line_at)", _BEFORE),
        ("cust_last_order_at", "MAX(line_at)", _BEFORE),
        ("cust_last_return_at", "MAX(return_at)", _BEFORE),
    ]),
    "prod": ("product_id", [
        ("prod_prior_lines", "SUM(is_line)", _BEFORE),
        ("prod_prior_returns", "SUM(is_return)", _BEFORE),
        ("prod_prior_small_returns", "SUM(small_return)", _BEFORE),
        ("prod_prior_large_returns", "SUM(large_return)", _BEFORE),
        ("prod_prior_defect_returns", "SUM(defect_return)", _BEFORE),
    ]),
    "sku": ("sku", [
        ("sku_prior_lines", "SUM(is_line)", _BEFORE),
        ("sku_prior_returns", "SUM(is_return)", _BEFORE),
    ]),
    "vendor": ("vendor_id", [
        ("vendor_lines_30d", "SUM(is_line)", _RECENT),
        ("vendor_returns_30d", "SUM(is_return)", _RECENT),
        ("vendor_defect_returns_30d", "SUM(defect_return)", _RECENT),
        ("vendor_prior_lines", "SUM(is_line)", _BEFORE),
        ("vendor_prior_defect_returns", "SUM(defect_return)", _BEFORE),
    ]),
}

_BASE = """
WITH lines AS (
    SELECT l.order_id, l.line_id, l.customer_id, l.sku, COALESCE(l.product_id, l.sku) AS product_id,
           l.category, COALESCE(l.size, 'none') AS size, COALESCE(l.vendor_id, 'none') AS vendor_id,
           l.quantity, l.unit_price, l.discount_amount, l.gross_value, l.net_value,
           l.ordered_at, l.order_date, l.channel, l.payment_method, l.ship_region,
           l.promised_delivery_at, l.delivered_at,
           CASE WHEN ROW_NUMBER() OVER (PARTITION BY l.order_id ORDER BY l.line_id) = 1
                THEN 1 ELSE 0 END AS new_order,
           COUNT(*) OVER (PARTITION BY l.order_id) AS order_lines,
           SUM(l.quantity) OVER (PARTITION BY l.order_id) AS order_units,
           SUM(l.net_value) OVER (PARTITION BY l.order_id) AS order_value,
           -- the sizes of one product in the order (bracketing): the highest rank is the count
           DENSE_RANK() OVER (PARTITION BY l.order_id, COALESCE(l.product_id, l.sku)
                              ORDER BY l.sku) AS sku_rank
    FROM core.fct_order_lines l
),
rets AS (
    SELECT r.order_id, r.line_id, r.customer_id, r.sku, COALESCE(r.product_id, r.sku) AS product_id,
           COALESCE(r.vendor_id, 'none') AS vendor_id, r.return_type, r.quantity,
           r.requested_at, r.received_at, r.reason_code, r.condition, r.refund_amount
    FROM core.fct_returns r
    WHERE r.order_line_known AND r.requested_at IS NOT NULL
),
events AS (
    SELECT order_id, line_id, customer_id, sku, product_id, vendor_id, ordered_at AS event_at,
           1 AS is_line, new_order, quantity AS units,
           CAST(ROUND(net_value * 100) AS BIGINT) AS line_cents,
           ordered_at AS line_at, CAST(NULL AS TIMESTAMP) AS return_at,
           0 AS is_return, 0 AS return_units, 0 AS size_return, 0 AS small_return,
           0 AS large_return, 0 AS defect_return, 0 AS is_rto, 0 AS bad_condition
    FROM lines
    UNION ALL
    SELECT NULL, NULL, customer_id, sku, product_id, vendor_id, requested_at,
           0, 0, 0, 0, CAST(NULL AS TIMESTAMP),
           CASE WHEN return_type = 'customer_return' THEN requested_at END,
           CASE WHEN return_type = 'customer_return' THEN 1 ELSE 0 END,
           CASE WHEN return_type = 'customer_return' THEN quantity ELSE 0 END,
           CASE WHEN reason_code IN :size_reasons THEN 1 ELSE 0 END,
           CASE WHEN reason_code = 'size_too_small' THEN 1 ELSE 0 END,
           CASE WHEN reason_code = 'size_too_large' THEN 1 ELSE 0 END,
           CASE WHEN reason_code IN :defect_reasons THEN 1 ELSE 0 END,
           CASE WHEN return_type = 'rto' THEN 1 ELSE 0 END,
           0
    FROM rets
    UNION ALL
    SELECT NULL, NULL, customer_id, sku, product_id, vendor_id, received_at,
           0, 0, 0, 0, CAST(NULL AS TIMESTAMP), CAST(NULL AS TIMESTAMP),
           0, 0, 0, 0, 0, 0, 0, 1
    FROM rets
    WHERE received_at IS NOT NULL AND condition IN :bad_conditions
),
{history},
outcome AS (
    SELECT order_id, line_id,
           MIN(CASE WHEN return_type = 'customer_return' THEN requested_at END) AS first_return_at,
           SUM(CASE WHEN return_type = 'customer_return' THEN quantity ELSE 0 END)
               AS units_returned,
           SUM(CASE WHEN return_type = 'customer_return' THEN refund_amount ELSE 0 END)
               AS refund_amount,
           MIN(CASE WHEN return_type = 'rto' THEN requested_at END) AS rto_at
    FROM rets
    GROUP BY order_id, line_id
),
category_price AS (
    SELECT category, PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY list_price)
               AS category_median_price
    FROM core.dim_products
    GROUP BY category
),
policy AS (SELECT * FROM staging.stg_return_policy),
final AS (
    SELECT l.order_id, l.line_id, l.customer_id, l.sku, l.product_id, dp.product_name,
           l.ordered_at, l.order_date,
           l.category, l.size, l.vendor_id, l.channel, l.payment_method, l.ship_region,
           l.quantity, l.unit_price, l.net_value,
           CASE WHEN l.gross_value > 0 THEN l.discount_amount / l.gross_value ELSE 0 END
               AS discount_depth,
           CASE WHEN cp.category_median_price > 0 THEN l.unit_price / cp.category_median_price
               END AS price_vs_category,
           EXTRACT(EPOCH FROM (l.promised_delivery_at - l.ordered_at)) / 86400.0
               AS promised_days,
           l.order_lines, l.order_units, l.order_value,
           MAX(l.sku_rank) OVER (PARTITION BY l.order_id, l.product_id) AS bracket_sizes,
           {history_columns},
           pol.window_days,
           l.delivered_at,
           oc.first_return_at,
           COALESCE(oc.units_returned, 0) AS units_returned,
           COALESCE(oc.refund_amount, 0) AS refund_amount,
           oc.rto_at
    FROM lines l
    LEFT JOIN category_price cp ON cp.category = l.category
    LEFT JOIN core.dim_products dp ON dp.sku = l.sku
    JOIN history h ON h.order_id = l.order_id AND h.line_id = l.line_id
    LEFT JOIN outcome oc ON oc.order_id = l.order_id AND oc.line_id = l.line_id
    LEFT JOIN policy pol
        ON l.order_date >= pol.effective_from
       AND (pol.effective_to IS NULL OR l.order_date <= pol.effective_to)
)
SELECT * FROM final ORDER BY ordered_at, order_id, line_id
"""


def _history_sql() -> tuple[str, str]:
    """The history CTE and its columns in `final` (names from fixed lists).

    One pass over the event stream holds every window, each partitioned by its own key, and
    is joined to the lines once: events of returns have no order line, so the join keeps just
    the lines' rows. (Four CTEs, one per key, each filtered to lines and joined on its own,
    left PostgreSQL estimating one row a CTE and re-running the windows for every line.)
    """
    windows, columns = [], []
    for key, features in _HISTORIES.values():
        running = f"OVER (PARTITION BY {key} ORDER BY event_at)"  # up to and with its peers
        peers = f"OVER (PARTITION BY {key}, event_at)"  # the events at the same instant
        for name, agg, frame in features:
            if frame == _BEFORE and agg.startswith("SUM("):
                window = f"{agg} {running} - {agg} {peers}"
            elif frame == _BEFORE and agg == "MIN(line_at)":  # line_at is its event_at
                window = (f"CASE WHEN MIN(line_at) {running} < event_at "
                          f"THEN MIN(line_at) {running} END")
            else:
                window = f"{agg} OVER (PARTITION BY {key} ORDER BY event_at {frame})"
            windows.append(f"{window} AS {name}")
            columns.append(f"COALESCE(h.{name}, 0) AS {name}" if agg.startswith("SUM")
                           else f"h.{name}")
    cte = ("history AS (\n    SELECT order_id, line_id,\n           "
           + ",\n           ".join(windows) + "\n    FROM events\n)")
    return cte, ",\n           ".join(columns)


def line_features_sql() -> str:
    """The SQL of `line_features` (bound parameters: size_reasons, defect_reasons,
    bad_conditions)."""
    cte, columns = _history_sql()
    return _BASE.format(history=cte, history_columns=columns)


def line_features(conn: Connection) -> pl.DataFrame:
    """Every order line with its point-in-time features and its outcome (label columns).

    Timestamps of the customer history come back as timestamps; `models.return_risk` turns
    them into day counts relative to the line's own `ordered_at`.
    """
    return read_frame(conn, line_features_sql(), {
        "size_reasons": SIZE_REASONS, "defect_reasons": DEFECT_REASONS,
        "bad_conditions": BAD_CONDITIONS,
    })
