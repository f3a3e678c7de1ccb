"""The read layer: typed functions over marts and audit tables, with bound parameters only.

The CLI, the dashboard and the models read the warehouse through these functions and nothing
else; each takes an open connection and returns plain values or a polars frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warehouse.contract import FEEDS

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


def validation_results(conn: Connection, run_id: str, failed_only: bool = True) -> pl.DataFrame:
    """Per file and expectation: the Great Expectations results a run kept."""
    return pl.read_database(
        sa.text("SELECT feed, file_name, rule, column_name, severity, expectation, success, "
                "element_count, unexpected_count, example FROM audit.validations "
                "WHERE run_id = :run_id AND (success = FALSE OR :all_results) "
                "ORDER BY feed, file_name, unexpected_count DESC"),
        conn, execute_options={"parameters": {"run_id": run_id, "all_results": not failed_only}})


def quarantine_summary(conn: Connection, run_id: str | None = None) -> pl.DataFrame:
    """Quarantined rows by feed, rule and status (all runs when run_id is None)."""
    return pl.read_database(
        sa.text("SELECT feed, rule, field, status, COUNT(*) AS rows_quarantined, "
                "MIN(file_name || ' row ' || CAST(row_number AS TEXT) || ': ' || message) "
                "AS example FROM audit.quarantine "
                "WHERE run_id = :run_id OR :every_run "
                "GROUP BY feed, rule, field, status ORDER BY feed, rows_quarantined DESC"),
        conn, execute_options={"parameters": {"run_id": run_id or "",
                                              "every_run": run_id is None}})


def quarantined_rows(conn: Connection, run_id: str | None = None,
                     limit: int = 200) -> pl.DataFrame:
    """Quarantined rows with file, row number, rule, message and the original record."""
    return pl.read_database(
        sa.text("SELECT run_id, feed, file_name, row_number, field, rule, severity, status, "
                "message, record FROM audit.quarantine WHERE run_id = :run_id OR :every_run "
                "ORDER BY run_id, feed, file_name, row_number LIMIT :limit"),
        conn, execute_options={"parameters": {"run_id": run_id or "",
                                              "every_run": run_id is None, "limit": limit}})


COVERAGE_SCHEMA = pl.Schema({
    "feed": pl.String(), "field": pl.String(), "rows_loaded": pl.Int64(),
    "rows_with_value": pl.Int64(), "share_with_value": pl.Float64(),
})
SOURCE_NOTES_SCHEMA = pl.Schema({
    "run_id": pl.String(), "started_at": pl.Datetime("us"), "source": pl.String(),
    "source_kind": pl.String(), "note": pl.String(), "value": pl.String(),
    "kind": pl.String(), "feed": pl.String(), "field": pl.String(),
})
# Note keys an adapter writes about one feed or field (docs/real-data.md): default:orders.channel
# (a stand-in value), derived:products.category (a documented heuristic), absent:reviews (not in
# the source), values:returns.reason_code (codes mapped), feed:orders (rows and files).
_NOTE_KEY = r"^(default|derived|absent|values|feed):([a-z_]+)(?:\.([a-z_]+))?$"


def data_coverage(conn: Connection) -> pl.DataFrame:
    """Per contract feed and field: rows loaded and how many carry a value, in contract order.

    What lets a page say what the loaded data can answer: a field with no values (Online Retail
    II's return reasons) cannot be analysed, whatever the page would like to show.
    """
    frame = pl.read_database(
        sa.text("SELECT feed, field, rows_loaded, rows_with_value FROM marts.data_coverage"),
        conn, schema_overrides={k: v for k, v in COVERAGE_SCHEMA.items()
                                if k != "share_with_value"})
    contract_order = pl.DataFrame(
        [(f.name, c.name) for f in FEEDS.values() for c in f.columns],
        schema={"feed": pl.String, "field": pl.String}, orient="row").with_row_index("_order")
    return (frame.join(contract_order, on=["feed", "field"], how="left")
            .sort("_order", "feed", "field", nulls_last=True)
            .select(*COVERAGE_SCHEMA.names()[:-1],
                    share_with_value=pl.when(pl.col("rows_loaded") > 0)
                    .then(pl.col("rows_with_value") / pl.col("rows_loaded")))
            .cast(COVERAGE_SCHEMA))  # type: ignore[arg-type]


def source_notes(conn: Connection, run_id: str | None = None) -> pl.DataFrame:
    """What the adapters reported about their sources (audit.source_notes), with the run.

    With a run_id, that run's notes; without, the notes of the latest run of each source kind
    (what every source loaded into this warehouse provides). `kind`, `feed` and `field` are
    parsed from keys such as default:orders.channel; plain facts have them empty.
    """
    frame = pl.read_database(sa.text("""
        WITH noted AS (
            SELECT r.run_id, r.started_at, r.source, r.source_kind,
                   ROW_NUMBER() OVER (PARTITION BY r.source_kind ORDER BY r.started_at DESC)
                       AS recency
            FROM audit.runs r
            WHERE EXISTS (SELECT 1 FROM audit.source_notes n WHERE n.run_id = r.run_id)
        )
        SELECT noted.run_id, noted.started_at, noted.source, noted.source_kind, n.note, n.value
        FROM noted
        JOIN audit.source_notes n ON n.run_id = noted.run_id
        WHERE noted.run_id = :run_id OR (:latest AND noted.recency = 1)
        ORDER BY noted.started_at DESC, n.note
    """), conn, execute_options={"parameters": {"run_id": run_id or "",
                                                "latest": run_id is None}},
        schema_overrides={k: v for k, v in SOURCE_NOTES_SCHEMA.items()
                          if k not in ("kind", "feed", "field")})
    parts = pl.col("note").str.extract_groups(_NOTE_KEY)
    return frame.with_columns(
        kind=parts.struct.field("1"), feed=parts.struct.field("2"),
        field=parts.struct.field("3")).cast(SOURCE_NOTES_SCHEMA)  # type: ignore[arg-type]


RETURN_DIMENSIONS = ("order_month", "category", "ship_region", "channel", "vendor_id", "sku",
                     "product_id", "size")


def returns_by(conn: Connection, by: Sequence[str]) -> pl.DataFrame:
    """Units and value sold and returned per `by` (marts.sku_returns, by order cohort).

    `by` names columns of RETURN_DIMENSIONS; the return rates are per unit and per value sold.
    """
    unknown = [d for d in by if d not in RETURN_DIMENSIONS]
    if not by or unknown:
        raise ValueError(f"returns_by: group by some of {', '.join(RETURN_DIMENSIONS)}, "
                         f"not {', '.join(unknown) or 'nothing'}")
    columns = ", ".join(by)  # identifiers checked against RETURN_DIMENSIONS above
    frame = pl.read_database(sa.text(f"""
        SELECT {columns}, SUM(units_sold) AS units_sold, SUM(units_returned) AS units_returned,
               SUM(sold_value) AS sold_value, SUM(refund_value) AS refund_value
        FROM marts.sku_returns
        GROUP BY {columns}
        ORDER BY {columns}
    """), conn)
    return frame.with_columns(
        pl.col("units_sold", "units_returned").cast(pl.Int64),
        pl.col("sold_value", "refund_value").cast(pl.Float64),
    ).with_columns(
        return_rate_units=pl.when(pl.col("units_sold") > 0)
        .then(pl.col("units_returned") / pl.col("units_sold")),
        return_rate_value=pl.when(pl.col("sold_value") > 0)
        .then(pl.col("refund_value") / pl.col("sold_value")),
    )
