"""Point-in-time line features: nothing dated at or after an order's `ordered_at` reaches its
features, and what is dated before it does."""

from __future__ import annotations

import shutil
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from warehouse.engine import duckdb_path, reader_engine, write_session
from warehouse.features import OUTCOME_COLUMNS, line_features
from warehouse.transform import build_layer

KEYS = ["order_id", "line_id"]


def _features(url: str) -> pl.DataFrame:
    with reader_engine(url).connect() as conn:
        return line_features(conn)


def _copy(url: str, tmp_path: Path) -> str:
    target = tmp_path / "copy.duckdb"
    shutil.copyfile(duckdb_path(url), target)
    return f"duckdb:///{target}"


def _rebuild(url: str, *statements: tuple[str, dict]) -> None:
    """Change the raw layer with `statements` and rebuild staging and core from it."""
    with write_session(url) as conn:
        for sql, params in statements:
            conn.execute(sa.text(sql), params)
        build_layer(conn, "staging")
        build_layer(conn, "core")


@pytest.fixture(scope="module")
def original(warehouse_url: str) -> pl.DataFrame:
    return _features(warehouse_url)


def test_every_order_line_gets_one_row_of_features(original: pl.DataFrame,
                                                   warehouse_url: str) -> None:
    with reader_engine(warehouse_url).connect() as conn:
        lines = conn.execute(sa.text("SELECT COUNT(*) FROM core.fct_order_lines")).scalar()
    assert original.height == lines
    assert original.select(KEYS).is_duplicated().sum() == 0


def test_features_ignore_everything_after_the_order(original: pl.DataFrame, warehouse_url: str,
                                                    tmp_path: Path) -> None:
    cut = original["ordered_at"].sort()[original.height // 2]
    url = _copy(warehouse_url, tmp_path)
    # the future rewritten: later returns and later orders gone, inspections after it changed
    _rebuild(url,
             ("DELETE FROM raw.returns WHERE requested_at > :cut", {"cut": cut}),
             ("UPDATE raw.returns SET condition = 'used', received_at = :later "
              "WHERE received_at > :cut", {"cut": cut, "later": cut + timedelta(days=1)}),
             ("DELETE FROM raw.orders WHERE ordered_at > :cut", {"cut": cut}))
    changed = _features(url)

    feature_columns = [c for c in original.columns if c not in OUTCOME_COLUMNS]
    before = original.filter(pl.col("ordered_at") <= cut).select(feature_columns).sort(KEYS)
    after = changed.filter(pl.col("ordered_at") <= cut).select(feature_columns).sort(KEYS)
    assert before.height > 1000
    assert after.equals(before)


def test_a_return_requested_just_before_an_order_counts_and_just_after_does_not(
        original: pl.DataFrame, warehouse_url: str, tmp_path: Path) -> None:
    repeat = original.filter(pl.col("cust_prior_lines") > 0).row(0, named=True)
    earlier = original.filter((pl.col("customer_id") == repeat["customer_id"])
                              & (pl.col("ordered_at") < repeat["ordered_at"])).row(0, named=True)
    ordered_at: datetime = repeat["ordered_at"]
    url = _copy(warehouse_url, tmp_path)
    insert = ("INSERT INTO raw.returns (return_id, order_id, line_id, sku, quantity, return_type, "
              "requested_at) VALUES (:rid, :order_id, :line_id, :sku, 1, 'customer_return', :at)")
    _rebuild(url,
             ("DELETE FROM raw.returns WHERE order_id = :o", {"o": earlier["order_id"]}),
             (insert, {"rid": "T-BEFORE", "order_id": earlier["order_id"],
                       "line_id": earlier["line_id"], "sku": earlier["sku"],
                       "at": ordered_at - timedelta(microseconds=1)}))
    counted = _features(url).filter(pl.col("order_id") == repeat["order_id"])
    _rebuild(url, ("UPDATE raw.returns SET requested_at = :at WHERE return_id = 'T-BEFORE'",
                   {"at": ordered_at}))
    not_counted = _features(url).filter(pl.col("order_id") == repeat["order_id"])

    assert (counted["cust_prior_returns"] - not_counted["cust_prior_returns"]).to_list() \
        == [1] * counted.height
    assert counted["cust_last_return_at"][0] == ordered_at - timedelta(microseconds=1)


def test_bracketing_counts_the_sizes_of_one_product_in_one_order(
        original: pl.DataFrame) -> None:
    sizes = original.group_by("order_id", "product_id").agg(
        expected=pl.col("sku").n_unique(), found=pl.col("bracket_sizes").first())
    assert (sizes["expected"] == sizes["found"]).all()
    assert (sizes["expected"] > 1).any()


def test_the_vendor_counts_its_lines_before_the_order_and_in_the_30_days_before_it(
        original: pl.DataFrame) -> None:
    sampled = original.sample(300, seed=3)
    seen = original.select("vendor_id", seen_at="ordered_at")
    expected = sampled.join(seen, on="vendor_id").group_by(KEYS).agg(
        prior=(pl.col("seen_at") < pl.col("ordered_at")).sum(),
        recent=((pl.col("seen_at") < pl.col("ordered_at"))
                & (pl.col("seen_at") >= pl.col("ordered_at") - timedelta(days=30))).sum())
    found = sampled.join(expected, on=KEYS)
    assert (found["vendor_prior_lines"] == found["prior"]).all()
    assert (found["vendor_lines_30d"] == found["recent"]).all()
    assert ((found["recent"] > 0) & (found["recent"] < found["prior"])).any()


FEATURE_INPUTS = (("core", "fct_order_lines"), ("core", "fct_returns"), ("core", "dim_products"),
                  ("staging", "stg_return_policy"))


@pytest.mark.postgres
def test_postgresql_computes_the_same_features_as_duckdb(warehouse_url: str, postgres_url: str,
                                                         tmp_path: Path) -> None:
    from warehouse.load import create_table, insert_frame

    first_orders = ("SELECT DISTINCT order_id FROM core.fct_order_lines "
                    "WHERE customer_id IN (SELECT customer_id FROM core.fct_order_lines "
                    "ORDER BY ordered_at LIMIT 300)")
    wanted = {
        "fct_order_lines": f"SELECT * FROM core.fct_order_lines WHERE order_id IN ({first_orders})",
        "fct_returns": f"SELECT * FROM core.fct_returns WHERE order_id IN ({first_orders})",
        "dim_products": "SELECT * FROM core.dim_products",
        "stg_return_policy": "SELECT * FROM staging.stg_return_policy",
    }
    frames = {}
    with reader_engine(warehouse_url).connect() as conn:
        for _schema, table in FEATURE_INPUTS:
            frames[table] = pl.read_database(sa.text(wanted[table]), conn)
    duck = f"duckdb:///{tmp_path / 'subset.duckdb'}"
    for url in (duck, postgres_url):
        with write_session(url) as conn:
            for schema, table in FEATURE_INPUTS:
                conn.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {schema}")
                create_table(conn, f"{schema}.{table}", frames[table].schema)
                insert_frame(conn, f"{schema}.{table}", frames[table])
    on_duckdb = _features(duck).sort(KEYS)
    on_postgres = _features(postgres_url).sort(KEYS)
    assert on_duckdb.height > 300
    for column in on_duckdb.columns:
        left, right = on_duckdb[column], on_postgres[column]
        assert left.is_null().to_list() == right.is_null().to_list(), column
        if left.dtype.is_numeric():
            assert (left.cast(pl.Float64) - right.cast(pl.Float64)).abs().fill_null(0).max() \
                < 1e-6, column
        else:
            assert left.cast(pl.String).to_list() == right.cast(pl.String).to_list(), column
