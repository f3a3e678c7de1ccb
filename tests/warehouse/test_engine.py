"""The store switch: accepted URLs, and the write session's all-or-nothing publish."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from warehouse.engine import (
    WarehouseBusy,
    derived_path,
    dialect_of,
    duckdb_path,
    reader_engine,
    write_session,
)


def test_duckdb_and_postgresql_urls_are_accepted():
    assert dialect_of("duckdb:///w.duckdb") == "duckdb"
    assert dialect_of("postgresql+psycopg://u@h:5432/db") == "postgresql"


def test_other_stores_are_refused_with_the_forms_we_accept():
    with pytest.raises(ValueError, match="duckdb:///path"):
        dialect_of("sqlite:///w.db")


def test_an_in_memory_duckdb_warehouse_is_refused():
    with pytest.raises(ValueError, match="must be a file"):
        duckdb_path("duckdb:///:memory:")


def test_the_derived_outputs_file_sits_beside_the_warehouse():
    assert derived_path("duckdb:////data/w.duckdb") == Path("/data/w.models.duckdb")


def count(url: str) -> int:
    with reader_engine(url).connect() as conn:
        return conn.execute(sa.text("SELECT COUNT(*) FROM t")).scalar()


def test_a_failed_write_session_leaves_the_previous_warehouse(tmp_path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    with write_session(url) as conn:
        conn.exec_driver_sql("CREATE TABLE t AS SELECT 1 AS x")
    with pytest.raises(RuntimeError), write_session(url) as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (2)")
        raise RuntimeError("the run failed")
    assert count(url) == 1
    assert not (tmp_path / "w.duckdb.building").exists()


def test_a_reader_sees_nothing_of_a_session_until_it_ends(tmp_path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    with write_session(url) as conn:
        conn.exec_driver_sql("CREATE TABLE t AS SELECT 1 AS x")
    with write_session(url) as conn:
        conn.exec_driver_sql("INSERT INTO t VALUES (2)")
        assert count(url) == 1
    assert count(url) == 2


def test_a_new_reader_sees_the_latest_publication_while_an_older_reader_is_open(tmp_path):
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    with write_session(url) as conn:
        conn.exec_driver_sql("CREATE TABLE t AS SELECT 1 AS x")
    with reader_engine(url).connect() as older:
        with write_session(url) as conn:
            conn.exec_driver_sql("INSERT INTO t VALUES (2)")
        assert count(url) == 2
        assert older.execute(sa.text("SELECT COUNT(*) FROM t")).scalar() == 1


def test_a_writer_that_waits_too_long_gives_up_and_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv("RETURNLENS_WRITER_WAIT_SECONDS", "0.5")
    url = f"duckdb:///{tmp_path / 'w.duckdb'}"
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        with write_session(url):
            holding.set()
            release.wait(timeout=30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(timeout=30)
    started = time.monotonic()
    try:
        with pytest.raises(WarehouseBusy, match="still being written"), write_session(url):
            pass
    finally:
        release.set()
        holder.join()
    assert time.monotonic() - started < 10
