"""Data quality: runs' files, Great Expectations results, quarantine, coverage and source notes."""

from __future__ import annotations

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warehouse.contract import FEEDS
from warehouse.read._sql import read_frame

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


def validation_results(conn: Connection, run_id: str, failed_only: bool = True) -> pl.DataFrame:
    """Per file and expectation: the Great Expectations results a run kept."""
    return pl.read_database(
        sa.text("SELECT feed, file_name, rule, column_name, severity, expectation, success, "
                "element_count, unexpected_count, example FROM audit.validations "
                "WHERE run_id = :run_id AND (success = FALSE OR :all_results) "
                "ORDER BY feed, file_name, unexpected_count DESC"),
        conn, execute_options={"parameters": {"run_id": run_id, "all_results": not failed_only}})


def quarantine_by_rule(conn: Connection, run_id: str | None = None) -> pl.DataFrame:
    """Quarantined rows by feed, rule, field and status with one example (all runs if no run_id)."""
    return read_frame(conn, """
        SELECT feed, rule, field, status, COUNT(*) AS rows_quarantined,
               MIN(file_name || ' row ' || CAST(row_number AS TEXT) || ': ' || message) AS example
        FROM audit.quarantine
        WHERE run_id = :run_id OR :every_run
        GROUP BY feed, rule, field, status
        ORDER BY feed, rows_quarantined DESC
    """, {"run_id": run_id or "", "every_run": run_id is None})


def quarantine_by_run(conn: Connection) -> pl.DataFrame:
    """Quarantined rows per run, feed, field and rule (the Data quality page's summary)."""
    return read_frame(conn, """
        SELECT run_id, feed, field, rule, COUNT(*) AS rows_quarantined
        FROM audit.quarantine
        GROUP BY run_id, feed, field, rule
        ORDER BY rows_quarantined DESC, feed, field, rule
    """)


def quarantined_rows(conn: Connection, run_id: str | None = None,
                     limit: int = 1000) -> pl.DataFrame:
    """Quarantined rows with file, row, rule, status, message and the original record.

    One run's rows in file order, or with no run_id every run's, newest run first.
    """
    return read_frame(conn, """
        SELECT q.run_id, q.feed, q.file_name, q.row_number, q.field, q.rule, q.severity,
               q.status, q.message, q.record
        FROM audit.quarantine q LEFT JOIN audit.runs r ON r.run_id = q.run_id
        WHERE q.run_id = :run_id OR :every_run
        ORDER BY r.started_at DESC, q.feed, q.file_name, q.row_number
        LIMIT :limit
    """, {"run_id": run_id or "", "every_run": run_id is None, "limit": limit})


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

def recent_files(conn: Connection, runs: int = 5) -> pl.DataFrame:
    """The files the latest `runs` runs saw, with what happened to each."""
    return read_frame(conn, """
        WITH latest AS (SELECT run_id, started_at FROM audit.runs
                        ORDER BY started_at DESC LIMIT :runs)
        SELECT f.*, l.started_at
        FROM audit.files f JOIN latest l ON l.run_id = f.run_id
        ORDER BY l.started_at DESC, f.feed, f.file_name
    """, {"runs": runs})



def lacks(coverage: pl.DataFrame, feed: str, field: str | None = None) -> bool:
    """Whether `coverage` (data_coverage) shows no rows of `feed`, or no value of its `field`."""
    rows = coverage.filter(pl.col("feed") == feed)
    if field:
        rows = rows.filter(pl.col("field") == field)
    column = "rows_with_value" if field else "rows_loaded"
    return rows.is_empty() or not rows[column].max()


def defaulted(notes: pl.DataFrame, field: str) -> bool:
    """Whether `notes` (source_notes) say the adapter filled `field` ('products.vendor_id')
    with one placeholder for every row, the source having no such thing."""
    return f"default:{field}" in notes["note"].to_list()
