"""Idempotent loads into the raw layer, plus the audit trail: runs, files and quarantine.

Raw tables mirror the contract (plus where each row came from). A batch is merged on its natural
key: a row whose key is already loaded is replaced, so a corrected row supersedes the old one and
loading the same rows twice changes nothing. Files already loaded (same SHA-256) are recognised
and skipped.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warehouse.contract import FEEDS, Feed
from warehouse.engine import is_duckdb

SCHEMAS = ("raw", "staging", "core", "marts", "audit")
LINEAGE = (("_file", "TEXT"), ("_row", "BIGINT"), ("_run_id", "TEXT"))

AUDIT_TABLES = {
    "runs": pl.Schema({
        "run_id": pl.String(), "started_at": pl.Datetime("us"), "finished_at": pl.Datetime("us"),
        "source": pl.String(), "source_kind": pl.String(), "status": pl.String(),
        "files_seen": pl.Int64(), "files_loaded": pl.Int64(), "files_skipped": pl.Int64(),
        "files_rejected": pl.Int64(), "rows_read": pl.Int64(), "rows_loaded": pl.Int64(),
        "rows_quarantined": pl.Int64(), "duplicates": pl.Int64(),
    }),
    "files": pl.Schema({
        "run_id": pl.String(), "feed": pl.String(), "file_name": pl.String(),
        "size_bytes": pl.Int64(), "sha256": pl.String(), "status": pl.String(),
        "rows_read": pl.Int64(), "rows_loaded": pl.Int64(), "rows_quarantined": pl.Int64(),
        "duplicates": pl.Int64(), "message": pl.String(),
    }),
    "source_notes": pl.Schema({
        "run_id": pl.String(), "source_kind": pl.String(), "note": pl.String(),
        "value": pl.String(),
    }),
    "quarantine": pl.Schema({
        "run_id": pl.String(), "feed": pl.String(), "file_name": pl.String(),
        "row_number": pl.Int64(), "field": pl.String(), "rule": pl.String(),
        "message": pl.String(), "record": pl.String(),
    }),
}


def _sql_type(dtype: pl.DataType) -> str:
    if dtype == pl.String:
        return "TEXT"
    if dtype == pl.Int64:
        return "BIGINT"
    if dtype == pl.Float64:
        return "DOUBLE PRECISION"
    if dtype == pl.Boolean:
        return "BOOLEAN"
    if dtype == pl.Date:
        return "DATE"
    if isinstance(dtype, pl.Datetime):
        return "TIMESTAMP"
    raise TypeError(f"no SQL type for {dtype}")


def _create_table(conn: Connection, table: str, schema: pl.Schema,
                  extra: Sequence[tuple[str, str]] = ()) -> None:
    cols = [f"{name} {_sql_type(dtype)}" for name, dtype in schema.items()]
    cols += [f"{name} {sql_type}" for name, sql_type in extra]
    conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(cols)})")


def ensure_schema(conn: Connection) -> None:
    """Create the layers' schemas, the raw tables of the contract and the audit tables."""
    for schema in SCHEMAS:
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for feed in FEEDS.values():
        _create_table(conn, f"raw.{feed.name}", feed.schema, LINEAGE)
    for name, schema in AUDIT_TABLES.items():
        _create_table(conn, f"audit.{name}", schema)


def _insert_frame(conn: Connection, table: str, frame: pl.DataFrame) -> None:
    """Bulk-append `frame` to `table` (columns by name): DuckDB via Arrow, PostgreSQL via COPY."""
    if frame.is_empty():
        return
    cols = ", ".join(frame.columns)
    if is_duckdb(conn):
        raw = conn.connection.dbapi_connection
        raw.register("_batch", frame.to_arrow())
        try:
            conn.exec_driver_sql(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _batch")
        finally:
            raw.unregister("_batch")
        return
    buffer = io.BytesIO()
    frame.write_csv(buffer, include_header=False, null_value="\\N", quote_style="necessary",
                    datetime_format="%Y-%m-%d %H:%M:%S%.6f")
    cursor = conn.connection.dbapi_connection.cursor()
    with cursor.copy(f"COPY {table} ({cols}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as copy:
        copy.write(buffer.getvalue())


def merge_rows(conn: Connection, feed: Feed, rows: pl.DataFrame, file_name: str,
               run_id: str) -> int:
    """Upsert `rows` (contract columns + `_row`) into raw.<feed> on its natural key."""
    batch = rows.with_columns(_file=pl.lit(file_name), _run_id=pl.lit(run_id))
    table = f"raw.{feed.name}"
    if batch.is_empty():
        return 0
    # .one() drains the result: DuckDB refuses new work while a result is unfinished
    has_rows = conn.execute(sa.text(f"SELECT EXISTS (SELECT 1 FROM {table})")).one()[0]
    if has_rows:
        conn.exec_driver_sql("DROP TABLE IF EXISTS _keys")
        key_types = ", ".join(f"{k} {_sql_type(feed.schema[k])}" for k in feed.key)
        conn.exec_driver_sql(f"CREATE TEMP TABLE _keys ({key_types})")
        _insert_frame(conn, "_keys", batch.select(feed.key))
        match = " AND ".join(f"t.{k} = k.{k}" for k in feed.key)
        conn.exec_driver_sql(f"DELETE FROM {table} t USING _keys k WHERE {match}")
        conn.exec_driver_sql("DROP TABLE _keys")
    _insert_frame(conn, table, batch)
    return batch.height


def file_already_loaded(conn: Connection, sha256: str) -> str | None:
    """The name under which a file with this checksum was loaded before, if it was."""
    rows = conn.execute(
        sa.text("SELECT file_name FROM audit.files WHERE sha256 = :sha AND status = 'loaded' "
                "ORDER BY file_name LIMIT 1"),
        {"sha": sha256},
    ).all()
    return rows[0][0] if rows else None


def record(conn: Connection, table: str, rows: pl.DataFrame | list[dict]) -> None:
    """Append audit rows (runs, files or quarantine) in the audit table's schema."""
    frame = rows if isinstance(rows, pl.DataFrame) else pl.DataFrame(
        rows, schema=AUDIT_TABLES[table])
    _insert_frame(conn, f"audit.{table}", frame.select(AUDIT_TABLES[table].names()))


def utcnow() -> datetime:
    """Naive UTC now, the warehouse's timestamp convention."""
    return datetime.now(UTC).replace(tzinfo=None)
