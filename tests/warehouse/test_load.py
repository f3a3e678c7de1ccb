"""Idempotent loads: merges on the natural key, parent look-ups and the audit trail."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from warehouse import load
from warehouse.contract import FEEDS
from warehouse.engine import write_session

PRODUCTS, VENDORS, REVIEWS = FEEDS["products"], FEEDS["vendors"], FEEDS["reviews"]


@pytest.fixture
def conn(tmp_path) -> Iterator[Connection]:
    """An open write session on a fresh DuckDB warehouse with the raw and audit tables."""
    with write_session(f"duckdb:///{tmp_path / 'w.duckdb'}") as connection:
        load.ensure_schema(connection)
        yield connection


def products(*rows: tuple[str, float]) -> pl.DataFrame:
    """Product rows (sku, list price) with the contract's columns and a row number."""
    return pl.DataFrame({
        "sku": [r[0] for r in rows], "product_id": "P1", "product_name": "Shirt",
        "category": "apparel", "size": "M", "vendor_id": "V1",
        "list_price": [r[1] for r in rows], "unit_cost": None,
        "_row": list(range(1, len(rows) + 1)),
    }, schema={**PRODUCTS.schema, "_row": pl.Int64})


def prices(conn: Connection) -> dict[str, float]:
    return dict(conn.execute(sa.text("SELECT sku, list_price FROM raw.products")).all())


def test_merging_a_new_key_adds_the_row(conn):
    assert load.merge_rows(conn, PRODUCTS, products(("A", 10.0)), "p.csv", "r1") == 1
    assert prices(conn) == {"A": 10.0}


def test_merging_a_known_key_replaces_the_row(conn):
    load.merge_rows(conn, PRODUCTS, products(("A", 10.0), ("B", 5.0)), "p.csv", "r1")
    load.merge_rows(conn, PRODUCTS, products(("A", 12.0)), "p2.csv", "r2")
    assert prices(conn) == {"A": 12.0, "B": 5.0}


def test_a_key_repeated_in_one_file_keeps_its_last_row_and_counts_duplicates(conn):
    load.start_staging(conn, PRODUCTS)
    load.stage_rows(conn, PRODUCTS, products(("A", 10.0), ("A", 11.0), ("B", 5.0)))
    assert load.merge_staged(conn, PRODUCTS, "p.csv", "r1") == (2, 1)
    assert prices(conn) == {"A": 11.0, "B": 5.0}


def test_loading_the_same_rows_twice_changes_nothing(conn):
    rows = products(("A", 10.0), ("B", 5.0))
    load.merge_rows(conn, PRODUCTS, rows, "p.csv", "r1")
    load.merge_rows(conn, PRODUCTS, rows, "p.csv", "r2")
    assert prices(conn) == {"A": 10.0, "B": 5.0}


def test_parent_lookups_mark_which_rows_have_their_parent(conn):
    vendor = pl.DataFrame({"vendor_id": ["V1"], "vendor_name": ["Acme"], "country": ["SG"],
                           "_row": [1]}, schema={**VENDORS.schema, "_row": pl.Int64})
    load.merge_rows(conn, VENDORS, vendor, "v.csv", "r1")
    rows = products(("A", 10.0), ("B", 5.0)).with_columns(
        vendor_id=pl.Series(["V1", "V9"]))
    found = load.lookup_parents(conn, PRODUCTS, rows)
    assert found["_vendor_exists"].to_list() == [True, False]


def test_a_missing_nullable_key_counts_as_found(conn):
    review = pl.DataFrame(
        {c: [None] for c in REVIEWS.column_names}, schema=REVIEWS.schema)
    found = load.lookup_parents(conn, REVIEWS, review)
    assert found["_order_exists"].to_list() == [True]


def test_a_file_loaded_before_is_recognised_by_its_checksum(conn):
    load.record(conn, "files", [{"run_id": "r1", "feed": "products", "file_name": "p.csv",
                                 "size_bytes": 10, "sha256": "abc", "status": "loaded",
                                 "rows_read": 1, "rows_loaded": 1, "rows_quarantined": 0,
                                 "rows_waiting": 0, "duplicates": 0, "message": ""}])
    assert load.file_already_loaded(conn, "abc") == "p.csv"
    assert load.file_already_loaded(conn, "other") is None


@pytest.mark.parametrize("dtype, sql", [(pl.String, "TEXT"), (pl.Int64, "BIGINT"),
                                        (pl.Float64, "DOUBLE PRECISION"), (pl.Boolean, "BOOLEAN"),
                                        (pl.Date, "DATE"), (pl.Datetime("us"), "TIMESTAMP")])
def test_polars_types_map_to_portable_sql_types(dtype, sql):
    assert load.sql_type(dtype) == sql


def test_a_type_without_a_portable_sql_type_is_refused():
    with pytest.raises(TypeError, match="no SQL type"):
        load.sql_type(pl.List(pl.Int64))


@pytest.mark.postgres
def test_postgresql_tables_of_each_layer_have_planner_statistics_once_built(postgres_url):
    from warehouse.transform import LAYERS, build_layer

    with write_session(postgres_url) as connection:
        load.ensure_schema(connection)
        for layer in LAYERS:
            build_layer(connection, layer)
        # a table never analysed has reltuples -1, and the planner guesses its size
        unanalysed = connection.execute(sa.text(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN ('staging', 'core', 'marts') AND c.relkind = 'r' "
            "AND c.reltuples < 0")).scalars().all()
        built = connection.execute(sa.text(
            "SELECT COUNT(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname IN ('staging', 'core', 'marts') AND c.relkind = 'r'")).scalar()
    assert built > 0
    assert unanalysed == []
