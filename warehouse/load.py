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
        "rows_quarantined": pl.Int64(), "rows_waiting": pl.Int64(),
        "duplicates": pl.Int64(), "rows_released": pl.Int64(),
    }),
    "files": pl.Schema({
        "run_id": pl.String(), "feed": pl.String(), "file_name": pl.String(),
        "size_bytes": pl.Int64(), "sha256": pl.String(), "status": pl.String(),
        "rows_read": pl.Int64(), "rows_loaded": pl.Int64(), "rows_quarantined": pl.Int64(),
        "rows_waiting": pl.Int64(), "duplicates": pl.Int64(), "message": pl.String(),
    }),
    "source_notes": pl.Schema({
        "run_id": pl.String(), "source_kind": pl.String(), "note": pl.String(),
        "value": pl.String(),
    }),
    "quarantine": pl.Schema({
        "run_id": pl.String(), "feed": pl.String(), "file_name": pl.String(),
        "row_number": pl.Int64(), "field": pl.String(), "rule": pl.String(),
        "severity": pl.String(), "status": pl.String(), "message": pl.String(),
        "record": pl.String(), "released_run_id": pl.String(),
    }),
    "validations": pl.Schema({
        "run_id": pl.String(), "feed": pl.String(), "file_name": pl.String(),
        "expectation": pl.String(), "rule": pl.String(), "column_name": pl.String(),
        "severity": pl.String(), "success": pl.Boolean(), "element_count": pl.Int64(),
        "unexpected_count": pl.Int64(), "example": pl.String(),
    }),
}

# What each feed's cross-table rules need from the rows already in the warehouse:
# feed -> (parent table, join keys, {helper column: SQL expression over the parent p}).
PARENT_LOOKUPS: dict[str, tuple[str, tuple[str, ...], dict[str, str]]] = {
    "orders": ("raw.products", ("sku",), {"_sku_known": "TRUE"}),
    "returns": ("raw.orders", ("order_id", "line_id"), {
        "_order_line_exists": "TRUE", "_ordered_at": "p.ordered_at",
        "_line_paid": "p.quantity * p.unit_price - p.discount_amount + 0.01",
        "_line_quantity": "p.quantity"}),
    "carrier_scans": ("raw.returns", ("return_id",), {
        "_return_exists": "TRUE", "_requested_at": "p.requested_at"}),
    "reviews": ("raw.orders", ("order_id",), {"_order_exists": "TRUE"}),
    "products": ("raw.vendors", ("vendor_id",), {"_vendor_exists": "TRUE"}),
}


def sql_type(dtype: pl.DataType) -> str:
    """The portable SQL type of a polars column type."""
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


def create_table(conn: Connection, table: str, schema: pl.Schema,
                 extra: Sequence[tuple[str, str]] = ()) -> None:
    """Create `table` with the columns of `schema` (plus `extra`) unless it exists."""
    cols = [f"{name} {sql_type(dtype)}" for name, dtype in schema.items()]
    cols += [f"{name} {sql_type}" for name, sql_type in extra]
    conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {table} ({', '.join(cols)})")


def ensure_schema(conn: Connection) -> None:
    """Create the layers' schemas, the raw tables of the contract and the audit tables."""
    for schema in SCHEMAS:
        conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    for feed in FEEDS.values():
        create_table(conn, f"raw.{feed.name}", feed.schema, LINEAGE)
    for name, schema in AUDIT_TABLES.items():
        create_table(conn, f"audit.{name}", schema)


def insert_frame(conn: Connection, table: str, frame: pl.DataFrame) -> None:
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


def start_staging(conn: Connection, feed: Feed) -> None:
    """An empty temporary table `_incoming` for a file's good rows, batch after batch."""
    conn.exec_driver_sql("DROP TABLE IF EXISTS _incoming")
    create_table(conn, "_incoming", feed.schema, (("_row", "BIGINT"),))


def drop_staging(conn: Connection) -> None:
    """Forget what a file staged (it was rejected part-way)."""
    conn.exec_driver_sql("DROP TABLE IF EXISTS _incoming")


def stage_rows(conn: Connection, feed: Feed, rows: pl.DataFrame) -> None:
    """Append good rows (contract columns + `_row`) to `_incoming`."""
    insert_frame(conn, "_incoming", rows.select(*feed.column_names, "_row"))


def merge_staged(conn: Connection, feed: Feed, file_name: str, run_id: str) -> tuple[int, int]:
    """Merge `_incoming` into raw.<feed> on the natural key; (rows loaded, duplicates).

    A key staged more than once (a file read in several batches repeats it) keeps its last
    row; the others are duplicates. A key already in the warehouse is replaced.
    """
    table, keys = f"raw.{feed.name}", ", ".join(feed.key)
    staged, distinct = conn.execute(sa.text(
        f"SELECT COUNT(*), (SELECT COUNT(*) FROM (SELECT DISTINCT {keys} FROM _incoming) d) "
        "FROM _incoming")).one()
    if staged:
        match = " AND ".join(f"t.{k} = k.{k}" for k in feed.key)
        conn.exec_driver_sql(
            f"DELETE FROM {table} t USING (SELECT DISTINCT {keys} FROM _incoming) k "
            f"WHERE {match}")
        cols = ", ".join(feed.column_names)
        conn.execute(sa.text(
            f"INSERT INTO {table} ({cols}, _row, _file, _run_id) "
            f"SELECT {cols}, _row, :file_name, :run_id FROM ("
            f"SELECT *, ROW_NUMBER() OVER (PARTITION BY {keys} ORDER BY _row DESC) AS _rank "
            f"FROM _incoming) s WHERE _rank = 1"),
            {"file_name": file_name, "run_id": run_id})
    conn.exec_driver_sql("DROP TABLE _incoming")
    return int(distinct), int(staged - distinct)


def merge_rows(conn: Connection, feed: Feed, rows: pl.DataFrame, file_name: str,
               run_id: str) -> int:
    """Upsert `rows` (contract columns + `_row`) into raw.<feed> on its natural key."""
    start_staging(conn, feed)
    stage_rows(conn, feed, rows)
    return merge_staged(conn, feed, file_name, run_id)[0]


def lookup_parents(conn: Connection, feed: Feed, rows: pl.DataFrame) -> pl.DataFrame:
    """`rows` with the helper columns its feed's cross-table rules check (see PARENT_LOOKUPS).

    A helper marking existence is False where no parent row is loaded (for a nullable key such
    as a review's order_id, a missing key counts as found).
    """
    if feed.name not in PARENT_LOOKUPS or rows.is_empty():
        return rows
    table, keys, helpers = PARENT_LOOKUPS[feed.name]
    wanted = rows.select(keys).drop_nulls().unique()
    conn.exec_driver_sql("DROP TABLE IF EXISTS _wanted")
    key_types = ", ".join(f"{k} {sql_type(feed.schema[k])}" for k in keys)
    conn.exec_driver_sql(f"CREATE TEMP TABLE _wanted ({key_types})")
    insert_frame(conn, "_wanted", wanted)
    match = " AND ".join(f"p.{k} = w.{k}" for k in keys)
    values = ", ".join(f"{expr} AS {name}" for name, expr in helpers.items())
    found = pl.read_database(
        sa.text(f"SELECT DISTINCT {', '.join(f'w.{k}' for k in keys)}, {values} "
                f"FROM _wanted w JOIN {table} p ON {match}"),
        conn, schema_overrides={k: feed.schema[k] for k in keys})
    conn.exec_driver_sql("DROP TABLE _wanted")
    found = found.unique(subset=list(keys), keep="first")
    out = rows.join(found, on=list(keys), how="left", nulls_equal=False)
    flags = [h for h in helpers if helpers[h] == "TRUE"]
    nullable_key = any(feed.column(k).nullable for k in keys)
    return out.with_columns(
        (pl.col(f).fill_null(False) | (pl.any_horizontal(pl.col(list(keys)).is_null())
                                       if nullable_key else pl.lit(False))).alias(f)
        for f in flags)


def waiting_rows(conn: Connection, feed: str) -> pl.DataFrame:
    """Quarantined rows of `feed` that wait for a parent row, oldest first."""
    return pl.read_database(
        sa.text("SELECT file_name, row_number, record FROM audit.quarantine "
                "WHERE feed = :feed AND status = 'waiting' ORDER BY run_id, file_name, "
                "row_number"),
        conn, execute_options={"parameters": {"feed": feed}},
        schema_overrides={"file_name": pl.String, "row_number": pl.Int64, "record": pl.String})


def settle_waiting(conn: Connection, feed: str, run_id: str, released: pl.DataFrame,
                   rejected: pl.DataFrame) -> None:
    """Mark waiting rows (file_name, row_number) as released into raw, or now rejected."""
    for status, rows in (("released", released), ("rejected", rejected)):
        if rows.is_empty():
            continue
        conn.exec_driver_sql("DROP TABLE IF EXISTS _settled")
        conn.exec_driver_sql("CREATE TEMP TABLE _settled (file_name TEXT, row_number BIGINT)")
        insert_frame(conn, "_settled", rows.select("file_name", "row_number"))
        conn.execute(sa.text(
            "UPDATE audit.quarantine AS q SET status = :status, released_run_id = :run_id "
            "WHERE q.feed = :feed AND q.status = 'waiting' AND EXISTS (SELECT 1 FROM _settled s "
            "WHERE s.file_name = q.file_name AND s.row_number = q.row_number)"),
            {"status": status, "run_id": run_id, "feed": feed})
        conn.exec_driver_sql("DROP TABLE _settled")


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
    insert_frame(conn, f"audit.{table}", frame.select(AUDIT_TABLES[table].names()))


def utcnow() -> datetime:
    """Naive UTC now, the warehouse's timestamp convention."""
    return datetime.now(UTC).replace(tzinfo=None)
