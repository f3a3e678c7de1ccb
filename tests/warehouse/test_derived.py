"""Derived outputs: published whole into the models schema, read back by the same SQL on both
stores, and never at the cost of rewriting the warehouse."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from warehouse import derived
from warehouse.engine import duckdb_path, reader_engine, write_session


@pytest.fixture(params=["duckdb", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A small warehouse with one pipeline-layer table, on each store."""
    url = (f"duckdb:///{tmp_path / 'w.duckdb'}" if request.param == "duckdb"
           else request.getfixturevalue("postgres_url"))
    with write_session(url) as conn:
        conn.exec_driver_sql("CREATE SCHEMA IF NOT EXISTS marts")
        conn.exec_driver_sql("CREATE TABLE marts.t AS SELECT 1 AS x")
    return url


SCORES = pl.DataFrame({
    "order_id": ["o1", "o2"], "line_id": [1, 2],
    "risk_probability": pl.Series([0.25, 0.75], dtype=pl.Float32),
    "scored_at": [datetime(2025, 1, 1), datetime(2025, 1, 2)],
    "reasons": ["12 of 14 orders returned", "{braces} and 'quotes'\nand a new line"],
})


def read_table(url: str, table: str) -> pl.DataFrame:
    with reader_engine(url).connect() as conn:
        return pl.read_database(sa.text(f"SELECT * FROM models.{table} ORDER BY 1"), conn)


def test_a_published_output_reads_back_as_models_tables_on_both_stores(store):
    derived.publish(store, "risk", {"risk_line_scores": SCORES}, metrics={"roc_auc": 0.71})
    got = read_table(store, "risk_line_scores")
    assert got["order_id"].to_list() == ["o1", "o2"]
    assert got["reasons"].to_list() == SCORES["reasons"].to_list()
    assert got["risk_probability"].to_list() == [0.25, 0.75]


def test_the_latest_publication_is_recorded_with_its_metrics_and_params(store):
    derived.publish(store, "risk", {"risk_line_scores": SCORES}, params={"seed": 1},
                    metrics={"roc_auc": 0.70}, snapshot="run-a")
    second = derived.publish(store, "risk", {"risk_line_scores": SCORES.head(1)},
                             params={"seed": 2}, metrics={"roc_auc": 0.72}, snapshot="run-b")
    with reader_engine(store).connect() as conn:
        latest = derived.latest_output(conn, "risk")
        assert derived.latest_output(conn, "policy") is None
    assert latest is not None
    assert (latest["output_run_id"], latest["params"], latest["metrics"], latest["snapshot"],
            latest["tables"]) == (second, {"seed": 2}, {"roc_auc": 0.72}, "run-b",
                                  ["risk_line_scores"])
    assert read_table(store, "risk_line_scores").height == 1


def test_a_reader_opened_while_another_is_open_sees_the_latest_publication(store):
    derived.publish(store, "risk", {"risk_line_scores": SCORES}, params={"seed": 1})
    with reader_engine(store).connect() as older:
        derived.publish(store, "risk", {"risk_line_scores": SCORES}, params={"seed": 2})
        with reader_engine(store).connect() as newer:
            assert derived.latest_output(newer, "risk")["params"] == {"seed": 2}
        assert derived.latest_output(older, "risk") is not None


def test_a_table_counts_as_published_only_in_the_latest_publication_of_its_output(store):
    derived.publish(store, "risk", {"risk_line_scores": SCORES, "risk_skus": SCORES})
    derived.publish(store, "risk", {"risk_line_scores": SCORES})
    with reader_engine(store).connect() as conn:
        assert derived.is_published(conn, "risk", "risk_line_scores")
        assert not derived.is_published(conn, "risk", "risk_skus")
        assert not derived.is_published(conn, "policy", "policy_results")


def test_publishing_one_output_leaves_the_others(store):
    derived.publish(store, "risk", {"risk_line_scores": SCORES})
    derived.publish(store, "policy", {"policy_scenarios": pl.DataFrame({"a": [1]})})
    assert read_table(store, "risk_line_scores").height == 2
    assert read_table(store, "policy_scenarios").height == 1


def test_a_reader_before_anything_is_published_sees_no_outputs(store):
    with reader_engine(store).connect() as conn:
        assert not derived.has_outputs(conn)
        assert derived.latest_output(conn, "risk") is None


def test_a_failed_publication_leaves_the_previous_one(store):
    derived.publish(store, "risk", {"risk_line_scores": SCORES})
    bad = pl.DataFrame({"values": [[1, 2]]})  # a list column has no portable SQL type
    with pytest.raises(TypeError):
        derived.publish(store, "risk", {"risk_line_scores": SCORES.head(1), "risk_bad": bad})
    assert read_table(store, "risk_line_scores").height == 2


@pytest.mark.parametrize("output, table", [("risk", "policy_x"), ("Risk", "Risk_x"),
                                           ("risk", "risk_x; DROP TABLE marts.t"),
                                           ("risk", "outputs")])
def test_table_names_must_belong_to_their_output(output, table, tmp_path):
    with pytest.raises(ValueError, match="table|output"):
        derived.publish(f"duckdb:///{tmp_path / 'w.duckdb'}", output,
                        {table: pl.DataFrame({"a": [1]})})


def test_publishing_on_duckdb_does_not_rewrite_the_warehouse_file(tmp_path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    with write_session(url) as conn:
        conn.exec_driver_sql("CREATE SCHEMA marts")
        conn.exec_driver_sql("CREATE TABLE marts.t AS SELECT range AS x FROM range(100000)")
    before = os.stat(duckdb_path(url))
    derived.publish(url, "risk", {"risk_line_scores": SCORES})
    after = os.stat(duckdb_path(url))
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
